//! The REST side of [`FakeKook`]'s server: authorization, scripted
//! answers and the routes (message and direct-message create and list,
//! reactions, `/asset/create`, `/user/me`, `/gateway/index`), in KOOK's
//! `{code, message, data}` envelope.

use super::*;

impl Core {
    pub(super) fn on_http(&self, inc: Incoming) -> ScriptedResponse {
        self.shared.update(|s| {
            http::answer(s, &inc, "/api/v3", not_found, |s, rel| {
                self.route(s, &inc, rel)
            })
        })
    }

    pub(super) fn route(&self, s: &mut State, inc: &Incoming, rel: &str) -> ScriptedResponse {
        let expected = format!("Bot {}", self.opts.token);
        if inc.header("authorization") != Some(expected.as_str()) {
            return ScriptedResponse::json(
                401,
                &[],
                &json!({"code": 401, "message": "你的用户凭证不正确",
                    "data": {"name": "Unauthorized", "status": 401}}),
            );
        }
        let body: Value = serde_json::from_slice(&inc.body).unwrap_or_default();
        match (inc.method.as_str(), rel) {
            ("GET", "/gateway/index") => {
                let compress = inc
                    .query
                    .iter()
                    .find(|(k, _)| k == "compress")
                    .map_or("1", |(_, v)| if v == "0" { "0" } else { "1" });
                let token = format!("fake-gw-token-{:04}", s.gateway_tokens.len() + 1);
                s.gateway_tokens.insert(token.clone(), false);
                s.last_token = Some(token.clone());
                let url = format!(
                    "ws://127.0.0.1:{}/gateway?compress={compress}&token={token}",
                    self.ws_port()
                );
                envelope(json!({"url": url}))
            }
            ("GET", "/user/me") => envelope(self.bot_user()),
            ("GET", r @ ("/message/list" | "/direct-message/list")) => {
                self.list(s, inc, r.starts_with("/direct-message"))
            }
            ("POST", "/asset/create") => asset_create(s, inc),
            ("POST", "/message/create") => self.create(s, inc, body, false),
            ("POST", "/direct-message/create") => self.create(s, inc, body, true),
            (
                "POST",
                r @ ("/message/add-reaction"
                | "/message/delete-reaction"
                | "/direct-message/add-reaction"
                | "/direct-message/delete-reaction"),
            ) => {
                let (Some(msg_id), Some(emoji)) =
                    (str_field(&body, "msg_id"), str_field(&body, "emoji"))
                else {
                    return error(40000, "参数错误");
                };
                s.reactions.push(KookReaction {
                    direct: r.starts_with("/direct-message"),
                    msg_id,
                    emoji,
                    added: r.ends_with("add-reaction"),
                });
                envelope(json!([]))
            }
            _ => ScriptedResponse::json(
                404,
                &[],
                &json!({"code": 404, "message": "Not Found", "data": []}),
            ),
        }
    }

    /// `GET /message/list` / `/direct-message/list?target_id=..&page_size=..`:
    /// the newest messages the bot posted there (oldest first), channel
    /// items with `author{id}`, DM items with `author_id`.
    pub(super) fn list(&self, s: &State, inc: &Incoming, direct: bool) -> ScriptedResponse {
        let q = |name: &str| {
            inc.query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let Some(target) = q("target_id").filter(|t| !t.is_empty()) else {
            return error(40000, "参数错误");
        };
        let page = q("page_size")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(50)
            .clamp(1, 100);
        let mine: Vec<&KookPost> = s
            .posts
            .iter()
            .filter(|p| p.direct == direct && p.target_id == target)
            .collect();
        let items: Vec<Value> = mine[mine.len().saturating_sub(page)..]
            .iter()
            .map(|p| {
                let mut item = json!({
                    "id": p.msg_id, "type": p.msg_type, "content": p.content,
                    "create_at": p.created_ms,
                });
                if direct {
                    item["author_id"] = json!(self.opts.bot_user_id);
                } else {
                    item["author"] = self.bot_user();
                }
                item
            })
            .collect();
        envelope(json!({"items": items}))
    }

    pub(super) fn create(
        &self,
        s: &mut State,
        inc: &Incoming,
        body: Value,
        direct: bool,
    ) -> ScriptedResponse {
        let content = str_field(&body, "content").unwrap_or_default();
        let target_id = str_field(&body, "target_id").unwrap_or_default();
        let chat_code = str_field(&body, "chat_code");
        if content.is_empty() || (target_id.is_empty() && chat_code.is_none()) {
            return error(40000, "参数错误");
        }
        if content.chars().count() > 8000 {
            return error(40000, "消息内容过长");
        }
        // Media messages (2 image, 3 video, 4 file) take only URLs the
        // asset service issued.
        let msg_type = body.get("type").and_then(Value::as_u64).unwrap_or(0);
        if (2..=4).contains(&msg_type) && !s.assets.iter().any(|a| a.message_id == content) {
            return error(40000, "资源不存在");
        }
        let msg_id = next_msg_id();
        let nonce = str_field(&body, "nonce").unwrap_or_default();
        s.posts.push(KookPost {
            direct,
            target_id,
            chat_code,
            msg_type: body.get("type").and_then(Value::as_u64).unwrap_or(0),
            content,
            quote: str_field(&body, "quote"),
            msg_id: msg_id.clone(),
            created_ms: unix_ms(),
            body,
            headers: inc.headers.clone(),
        });
        envelope(json!({"msg_id": msg_id, "msg_timestamp": 1_741_944_500_000u64, "nonce": nonce}))
    }
}

/// `POST /asset/create`: one multipart `file` part; answers the URL.
pub(super) fn asset_create(s: &mut State, inc: &Incoming) -> ScriptedResponse {
    let parts = inc
        .header("content-type")
        .and_then(crate::multipart::boundary)
        .and_then(|b| crate::multipart::parse(&inc.body, &b));
    let Some(file) = parts.and_then(|p| p.into_iter().find(|p| p.name == "file")) else {
        return error(40000, "参数错误");
    };
    let filename = file.filename.clone().unwrap_or_else(|| "file".into());
    let url = format!(
        "https://img.kookapp.cn/attachments/2025-03/14/{:04}-{filename}",
        s.assets.len() + 1
    );
    s.assets.push(crate::multipart::UploadedFile {
        channel_id: String::new(),
        message_id: url.clone(),
        field: file.name,
        filename,
        content_type: file.content_type,
        data: file.data,
    });
    envelope(json!({ "url": url }))
}
