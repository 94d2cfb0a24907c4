//! What the loop knows of guilds and channels (from GUILD_CREATE and channel
//! events): names and topics, threads' parents, the access policy rebuilt
//! when names resolve, where a message was sent, and the bot's recent
//! messages (for reactions).

use super::*;

impl DiscordLoop {
    pub(super) fn learn_channel(&mut self, channel: &Channel) {
        self.channels.insert(
            channel.id.to_string(),
            KnownChannel {
                name: channel.name.clone(),
                kind: channel.kind,
                guild_id: channel.guild_id.as_ref().map(ToString::to_string),
                parent_id: channel.parent_id.as_ref().map(ToString::to_string),
                topic: channel.topic.clone(),
            },
        );
    }

    /// The channel's topic, else (threads) its parent's: passed to the agent
    /// with the channel's `systemPrompt`.
    pub(super) fn topic_of(&self, channel_id: &str) -> Option<String> {
        let channel = self.channels.get(channel_id)?;
        channel
            .topic
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                let parent = self.channels.get(channel.parent_id.as_deref()?)?;
                parent.topic.clone().filter(|t| !t.trim().is_empty())
            })
    }

    /// Remembers a guild's channels and members, and resolves allowlist names
    /// to ids now that the bot can see them.
    pub(super) fn learn_guild(&mut self, now: Instant, guild: Guild) {
        for channel in guild.channels.iter().chain(guild.threads.iter()) {
            let mut channel = channel.clone();
            if channel.guild_id.is_none() {
                channel.guild_id = Some(guild.id.clone());
            }
            self.learn_channel(&channel);
        }
        let place = Place {
            id: guild.id.to_string(),
            name: Some(guild.name.clone()).filter(|n| !n.is_empty()),
        };
        info!(
            "{}: guild {} available as discord:{} ({} channels)",
            self.base.name,
            guild.id,
            guild_slug(&self.settings.guilds, &place),
            guild.channels.len()
        );
        let guild_id = guild.id.to_string();
        self.guilds.insert(guild_id.clone(), guild);
        let unresolved = self.rebuild_policy();
        self.lookup
            .search(now, &mut self.base.link, &guild_id, &unresolved);
    }

    /// The access policy from the settings in force and the names the bot
    /// can see now (allowlist names resolved, each new mapping logged);
    /// returns the names still unresolved.
    pub(super) fn rebuild_policy(&mut self) -> Vec<String> {
        let (names, unresolved) =
            self.lookup
                .resolve(&self.base.name, &self.settings, &self.guilds);
        self.base.policy = AccessPolicy::new(&self.base.shared.config, &self.base.account, names);
        unresolved
    }

    pub(super) fn place(&self, id: &str) -> Place {
        Place {
            id: id.to_owned(),
            name: self.channels.get(id).and_then(|c| c.name.clone()),
        }
    }

    /// Where `channel_id` is: DM, group DM, guild channel or thread, with
    /// the guild and a thread's parent.
    pub(super) fn locate(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        channel_type: Option<u16>,
    ) -> Located {
        let known = self.channels.get(channel_id);
        let guild_id = guild_id
            .map(str::to_owned)
            .or_else(|| known.and_then(|c| c.guild_id.clone()));
        let is_thread = known.is_some_and(|c| THREAD_KINDS.contains(&c.kind));
        let chat = match (&guild_id, channel_type) {
            (None, Some(3)) => ChatKind::GroupDirect,
            (None, _) if known.is_some_and(|c| c.kind == 3) => ChatKind::GroupDirect,
            (None, _) => ChatKind::Direct,
            (Some(_), _) if is_thread => ChatKind::Thread,
            (Some(_), _) => ChatKind::Channel,
        };
        let parent = if is_thread {
            known
                .and_then(|c| c.parent_id.as_deref())
                .map(|id| self.place(id))
        } else {
            None
        };
        let guild = guild_id.map(|id| Place {
            name: self.guilds.get(&id).map(|g| g.name.clone()),
            id,
        });
        Located {
            chat,
            guild,
            channel: self.place(channel_id),
            parent,
        }
    }

    /// Remembers a message the bot posted (the trigger window starts here).
    pub(super) fn remember_bot_message(
        &mut self,
        now: Instant,
        message_id: &str,
        channel_id: &str,
    ) {
        if self.bot_messages.sent(message_id).is_none() {
            self.bot_messages.record(message_id, channel_id, now);
            debug!(
                "{}: remembered bot message {message_id} in {channel_id}",
                self.base.name
            );
        }
    }
}
