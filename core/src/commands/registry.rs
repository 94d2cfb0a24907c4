//! The command registry: every command's name, aliases, options, where it
//! can be used (text, native or both), and the list Discord gets as global
//! application commands (`PUT /applications/{id}/commands`).

use serde_json::{json, Value};

/// A command krill knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandName {
    /// `/help`
    Help,
    /// `/status`
    Status,
    /// `/whoami` (`/id`)
    Whoami,
    /// `/new [text]`
    New,
    /// `/reset`
    Reset,
    /// `/stop`
    Stop,
    /// `/config show|get|set|unset`
    Config,
    /// `/ask <text>` (native only)
    Ask,
}

/// One option of a native command (all are strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// Option name.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Must be given.
    pub required: bool,
    /// Allowed values (empty: any).
    pub choices: &'static [&'static str],
}

/// One command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Which.
    pub name: CommandName,
    /// Its name without the slash.
    pub word: &'static str,
    /// Other words for it.
    pub aliases: &'static [&'static str],
    /// How to call it, for `/help`.
    pub usage: &'static str,
    /// One line saying what it does (also Discord's description, ≤ 100).
    pub description: &'static str,
    /// Native options.
    pub options: &'static [OptionSpec],
    /// Only as a Discord slash command (as text, `/ask` goes to the agent).
    pub native_only: bool,
}

const TEXT_OPTION: OptionSpec = OptionSpec {
    name: "text",
    description: "What to say to the agent",
    required: true,
    choices: &[],
};

/// Every command, in `/help` order.
pub const REGISTRY: &[CommandSpec] = &[
    CommandSpec {
        name: CommandName::Help,
        word: "help",
        aliases: &[],
        usage: "/help",
        description: "List the commands you may run here",
        options: &[],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Status,
        word: "status",
        aliases: &[],
        usage: "/status",
        description: "Agent, session, transcript size, uptime and channel health",
        options: &[],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Whoami,
        word: "whoami",
        aliases: &["id"],
        usage: "/whoami",
        description: "Your user id and this chat's ids (for allowlists)",
        options: &[],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::New,
        word: "new",
        aliases: &[],
        usage: "/new [text]",
        description: "Start a fresh session here (the old one is archived)",
        options: &[OptionSpec {
            required: false,
            description: "A first message for the new session",
            ..TEXT_OPTION
        }],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Reset,
        word: "reset",
        aliases: &[],
        usage: "/reset",
        description: "Start a fresh session here (the old one is archived)",
        options: &[],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Stop,
        word: "stop",
        aliases: &[],
        usage: "/stop",
        description: "Cancel this chat's running agent turn and drop queued ones",
        options: &[],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Config,
        word: "config",
        aliases: &[],
        usage: "/config show | get <path> | set <path> <value> | unset <path>",
        description: "See or change the config (owners only)",
        options: &[
            OptionSpec {
                name: "action",
                description: "show, get, set or unset",
                required: true,
                choices: &["show", "get", "set", "unset"],
            },
            OptionSpec {
                name: "path",
                description: "Dotted key path, e.g. channels.discord.historyLimit",
                required: false,
                choices: &[],
            },
            OptionSpec {
                name: "value",
                description: "A JSON5 value (for set)",
                required: false,
                choices: &[],
            },
        ],
        native_only: false,
    },
    CommandSpec {
        name: CommandName::Ask,
        word: "ask",
        aliases: &[],
        usage: "/ask <text>",
        description: "Ask the agent (in your own slash session)",
        options: &[TEXT_OPTION],
        native_only: true,
    },
];

/// The command `word` names (case-insensitive, aliases included).
pub fn lookup(word: &str) -> Option<&'static CommandSpec> {
    REGISTRY.iter().find(|spec| {
        spec.word.eq_ignore_ascii_case(word)
            || spec.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    })
}

/// The spec of `name`.
pub fn spec(name: CommandName) -> &'static CommandSpec {
    REGISTRY
        .iter()
        .find(|spec| spec.name == name)
        .unwrap_or(&REGISTRY[0])
}

/// The body of `PUT /applications/{id}/commands`: every command as a
/// global CHAT_INPUT command (type 1) with string options (type 3);
/// aliases become commands of their own (`/id`).
pub fn native_definitions() -> Value {
    let mut out = Vec::new();
    for spec in REGISTRY {
        for word in std::iter::once(&spec.word).chain(spec.aliases.iter()) {
            let options: Vec<Value> = spec
                .options
                .iter()
                .map(|o| {
                    let mut v = json!({
                        "type": 3,
                        "name": o.name,
                        "description": o.description,
                        "required": o.required,
                    });
                    if !o.choices.is_empty() {
                        v["choices"] = o
                            .choices
                            .iter()
                            .map(|c| json!({"name": c, "value": c}))
                            .collect();
                    }
                    v
                })
                .collect();
            out.push(json!({
                "type": 1,
                "name": word,
                "description": spec.description,
                "options": options,
            }));
        }
    }
    Value::Array(out)
}

/// True when the commands Discord has (`GET /applications/{id}/commands`)
/// differ from `wanted` in anything krill sets (names, descriptions,
/// options and their choices, in any order of commands). Fields Discord
/// adds (`id`, `version`, `application_id`...) are ignored; an absent
/// `required` means false and absent `options` none, as Discord omits them.
pub fn commands_differ(registered: &Value, wanted: &Value) -> bool {
    fn normal(list: &Value) -> Vec<Value> {
        let mut out: Vec<Value> = list
            .as_array()
            .map(|a| a.iter().map(normal_command).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        out
    }
    fn normal_command(c: &Value) -> Value {
        let options: Vec<Value> = c
            .get("options")
            .and_then(Value::as_array)
            .map(|opts| {
                opts.iter()
                    .map(|o| {
                        let choices: Vec<Value> = o
                            .get("choices")
                            .and_then(Value::as_array)
                            .map(|cs| {
                                cs.iter()
                                    .map(|c| json!({"name": c["name"], "value": c["value"]}))
                                    .collect()
                            })
                            .unwrap_or_default();
                        json!({
                            "type": o["type"],
                            "name": o["name"],
                            "description": o["description"],
                            "required": o.get("required").and_then(Value::as_bool).unwrap_or(false),
                            "choices": choices,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "type": c.get("type").and_then(Value::as_u64).unwrap_or(1),
            "name": c["name"],
            "description": c["description"],
            "options": options,
        })
    }
    normal(registered) != normal(wanted)
}

/// What to `PUT` after `GET /applications/{id}/commands` returned
/// `registered`: krill's list when native commands are on and Discord's
/// differs; `[]` when they are off and some are registered; nothing
/// otherwise (Discord caps daily command creates, so an unchanged list is
/// never sent again).
pub fn sync_plan(native_on: bool, registered: &Value) -> Option<Value> {
    if native_on {
        let wanted = native_definitions();
        commands_differ(registered, &wanted).then_some(wanted)
    } else {
        let any = registered.as_array().is_some_and(|a| !a.is_empty());
        any.then(|| Value::Array(Vec::new()))
    }
}
