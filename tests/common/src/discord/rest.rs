//! The REST side of [`FakeDiscord`]'s server: authorization, scripted
//! answers, the message routes (create with `nonce`/`enforce_nonce` and
//! multipart files, DMs, reactions, typing, member search); the guild
//! resources live in `resources.rs`.

use super::*;

impl Core {
    pub(super) fn on_http(&self, inc: Incoming) -> ScriptedResponse {
        self.shared.update(|s| {
            http::answer(s, &inc, "/api/v10", not_found, |s, rel| {
                self.route(s, &inc, rel)
            })
        })
    }

    pub(super) fn route(&self, s: &mut State, inc: &Incoming, rel: &str) -> ScriptedResponse {
        let seg: Vec<&str> = rel.trim_start_matches('/').split('/').collect();
        let m = inc.method.as_str();
        if (m, seg.as_slice()) == ("GET", ["gateway"].as_slice()) {
            return ok_json(&json!({"url": format!("ws://127.0.0.1:{}", self.ws_port())}));
        }
        if let Some(response) = interactions::route_token(s, inc, seg.as_slice()) {
            return response;
        }
        let expected = format!("Bot {}", self.opts.token);
        if inc.header("authorization") != Some(expected.as_str()) {
            return ScriptedResponse::json(
                401,
                &[],
                &json!({"message": "401: Unauthorized", "code": 0}),
            );
        }
        if let Some(response) = interactions::route_commands(self, s, inc, seg.as_slice()) {
            return response;
        }
        match (m, seg.as_slice()) {
            ("GET", ["gateway", "bot"]) => {
                s.gateway_bot_fetches += 1;
                ok_json(&json!({
                    "url": format!("ws://127.0.0.1:{}", self.ws_port()),
                    "shards": self.opts.shards,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000usize.saturating_sub(s.identifies.len()),
                        "reset_after": 14_400_000,
                        "max_concurrency": 1
                    }
                }))
            }
            ("GET", ["users", "@me"]) => ok_json(&self.bot_user()),
            // The Application object's required fields (Discord docs,
            // "Application Object").
            ("GET", ["oauth2", "applications", "@me"]) => ok_json(&json!({
                "id": self.opts.bot_user_id,
                "name": self.opts.bot_username,
                "icon": null,
                "description": "",
                "bot_public": false,
                "bot_require_code_grant": false,
                "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
                "team": null,
                "owner": Author::user(USER_ID, "owner").to_json(),
                "flags": self.opts.application_flags,
                "bot": self.bot_user()
            })),
            ("POST", ["users", "@me", "channels"]) => {
                let body: Value = serde_json::from_slice(&inc.body).unwrap_or_default();
                let Some(rid) = body.get("recipient_id").and_then(value_str) else {
                    return bad_request(50035, "Invalid Form Body");
                };
                let cid = match s.dm_channels.get(&rid) {
                    Some(c) => c.clone(),
                    None => {
                        s.rest_ids += 1;
                        let c = snowflake(REST_ID_BASE_MS, s.rest_ids);
                        s.dm_channels.insert(rid.clone(), c.clone());
                        c
                    }
                };
                ok_json(&json!({
                    "id": cid, "type": 1, "last_message_id": null, "flags": 0,
                    "recipients": [Author::user(&rid, &format!("user-{rid}")).to_json()]
                }))
            }
            ("GET", ["guilds", gid, "members", "search"]) => self.search_members(inc, gid),
            ("POST", ["channels", cid, "messages"]) => self.create_message(s, inc, cid),
            ("POST", ["channels", _, "typing"]) => ScriptedResponse::empty(204),
            ("PUT" | "DELETE", ["channels", cid, "messages", mid, "reactions", emoji, "@me"]) => {
                s.reactions.push(RecordedReaction {
                    channel_id: (*cid).to_owned(),
                    message_id: (*mid).to_owned(),
                    emoji: http::decode(emoji),
                    added: m == "PUT",
                });
                ScriptedResponse::empty(204)
            }
            _ => s
                .resources
                .route(m, &seg, &inc.query, &inc.body, &self.opts.bot_user_id)
                .unwrap_or_else(not_found),
        }
    }

    /// `GET /guilds/{guild.id}/members/search?query=&limit=`: members whose
    /// username or nickname starts with `query` (case-insensitive), at most
    /// `limit` (1..=1000, default 1); refused without the members intent.
    pub(super) fn search_members(&self, inc: &Incoming, gid: &str) -> ScriptedResponse {
        if !self.opts.guild_ids.iter().any(|g| g == gid) {
            return ScriptedResponse::json(
                404,
                &[],
                &json!({"message": "Unknown Guild", "code": 10004}),
            );
        }
        if !self.opts.members_intent {
            return ScriptedResponse::json(
                403,
                &[],
                &json!({"message": "Missing Access", "code": 50001}),
            );
        }
        let Some(query) = inc.query_param("query").filter(|q| !q.is_empty()) else {
            return bad_request(50035, "Invalid Form Body");
        };
        let limit = match inc.query_param("limit").map(str::parse::<usize>) {
            None => 1,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => return bad_request(50035, "Invalid Form Body"),
        };
        let query = query.to_lowercase();
        let starts = |s: &str| s.to_lowercase().starts_with(&query);
        let found: Vec<Value> = self
            .opts
            .guild_members
            .iter()
            .filter(|m| starts(&m.user.username) || m.nick.as_deref().is_some_and(starts))
            .take(limit)
            .map(GuildMember::to_json)
            .collect();
        ok_json(&Value::Array(found))
    }

    pub(super) fn create_message(
        &self,
        s: &mut State,
        inc: &Incoming,
        cid: &str,
    ) -> ScriptedResponse {
        // Uploads: `payload_json` + `files[n]` (multipart/form-data).
        let (json_body, files) =
            match crate::multipart::json_and_files(inc.header("content-type"), &inc.body) {
                Ok(split) => split,
                Err(why) => return bad_request(50035, why),
            };
        if files.len() > 10 {
            return bad_request(50035, "Invalid Form Body: at most 10 files");
        }
        let Ok(body) = serde_json::from_slice::<Value>(&json_body) else {
            return bad_request(50109, "The request body contains invalid JSON.");
        };
        let content = body
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if content.chars().count() > 2000 {
            return ScriptedResponse::json(
                400,
                &[],
                &json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content":
                    {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                    "message": "Must be 2000 or fewer in length."}]}}}),
            );
        }
        let has_embeds = body
            .get("embeds")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let has_other = ["sticker_ids", "poll"]
            .iter()
            .any(|k| body.get(*k).is_some_and(|v| !v.is_null()));
        if content.is_empty() && !has_embeds && !has_other && files.is_empty() {
            return bad_request(50006, "Cannot send an empty message");
        }
        let nonce = body.get("nonce").and_then(value_str);
        let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
        let key = nonce
            .clone()
            .filter(|_| enforce)
            .map(|n| (cid.to_owned(), n));
        if let Some(orig) = key.as_ref().and_then(|k| s.nonces.get(k)).cloned() {
            s.duplicate_posts.push(PostedMessage {
                channel_id: cid.to_owned(),
                message_id: value_str(&orig["id"]).unwrap_or_default(),
                content,
                body,
                headers: inc.headers.clone(),
            });
            return ok_json(&orig);
        }
        s.rest_ids += 1;
        let mid = snowflake(REST_ID_BASE_MS, s.rest_ids);
        let reference = body.get("message_reference").cloned();
        let mut msg = json!({
            "id": mid,
            "channel_id": cid,
            "author": self.bot_user(),
            "content": content,
            "timestamp": "2025-03-14T09:40:21.316000+00:00",
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": files.iter().enumerate().map(|(i, f)| json!({
                "id": snowflake(REST_ID_BASE_MS, s.rest_ids * 100 + i as u64),
                "filename": f.filename.clone().unwrap_or_default(),
                "size": f.data.len(),
                "url": format!("https://cdn.discordapp.com/attachments/{cid}/{mid}/{}",
                    f.filename.clone().unwrap_or_default()),
                "content_type": f.content_type.clone(),
            })).collect::<Vec<_>>(),
            "embeds": body.get("embeds").cloned().unwrap_or_else(|| json!([])),
            "components": [],
            "pinned": false,
            "type": if reference.is_some() { 19 } else { 0 },
            "flags": 0
        });
        if let Some(n) = &nonce {
            msg["nonce"] = json!(n);
        }
        if let Some(r) = reference {
            msg["message_reference"] = json!({
                "type": 0,
                "channel_id": cid,
                "message_id": r.get("message_id").cloned().unwrap_or(Value::Null)
            });
        }
        if let Some(k) = key {
            s.nonces.insert(k, msg.clone());
        }
        for f in files {
            s.uploads.push(crate::multipart::UploadedFile {
                channel_id: cid.to_owned(),
                message_id: mid.clone(),
                field: f.name,
                filename: f.filename.unwrap_or_default(),
                content_type: f.content_type,
                data: f.data,
            });
        }
        s.posts.push(PostedMessage {
            channel_id: cid.to_owned(),
            message_id: mid,
            content,
            body,
            headers: inc.headers.clone(),
        });
        s.resources.store_message(msg.clone());
        ok_json(&msg)
    }
}
