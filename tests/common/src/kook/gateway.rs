//! The gateway side of [`FakeKook`]'s server: HELLO and new sessions,
//! resumes (`resume=1&sn&session_id`) and their replay, PING/PONG, as the
//! module docs of `kook/mod.rs` describe.

use super::*;

impl Core {
    pub(super) fn new_session(&self, s: &mut State, id: u64) {
        let delay = match s.hello {
            KookHello::Now => None,
            KookHello::After(d) => Some(d),
            KookHello::Error(code) => {
                s.send(id, &json!({"s": 1, "d": {"code": code}}));
                return;
            }
            KookHello::Never => return,
        };
        let sid =
            s.gw.new_session(id, |n| format!("fake-kook-session-{n:04}-{id:08x}"));
        if let Some(d) = delay {
            s.gw.push(id, Out::Delay(d));
        }
        s.send(id, &json!({"s": 1, "d": {"code": 0, "session_id": sid}}));
        let mut carried = std::mem::take(&mut s.pending);
        if let Some(prev) = s.gw.current_session_mut() {
            for e in prev.log.values_mut().filter(|e| !e.delivered) {
                e.delivered = true;
                carried.push(e.d.clone());
            }
        }
        for d in carried {
            s.deliver(&sid, d);
        }
        s.gw.current = Some(sid);
    }

    pub(super) fn resume_on_connect(
        &self,
        s: &mut State,
        id: u64,
        sn: Option<String>,
        sid: Option<String>,
    ) {
        let reconnect = |s: &mut State, code: u32| {
            s.send(
                id,
                &json!({"s": 5, "d": {"code": code, "err": "resume failed"}}),
            );
        };
        let (Some(sn), Some(sid)) = (sn.and_then(|x| x.parse::<u64>().ok()), sid) else {
            return reconnect(s, 40106);
        };
        let Some(sess) = s.gw.resumable(&sid) else {
            return reconnect(s, 40107);
        };
        if sn > last_sn(&sess.log) {
            return reconnect(s, 40108);
        }
        s.gw.attach(&sid, id);
        if self.opts.hello_on_resume {
            s.send(id, &json!({"s": 1, "d": {"code": 0, "session_id": sid}}));
        }
        s.replay(&sid, sn, id);
        s.send(id, &json!({"s": 6, "d": {"session_id": sid}}));
        s.gw.resume_done(sid);
    }

    pub(super) fn ws_port(&self) -> u16 {
        self.ws_port.get().copied().unwrap_or(0)
    }

    pub(super) fn bot_user(&self) -> Value {
        json!({
            "id": self.opts.bot_user_id,
            "username": self.opts.bot_username,
            "identify_num": "0001",
            "online": true,
            "os": "Websocket",
            "status": 0,
            "avatar": "https://img.kookapp.cn/assets/bot.png?x-oss-process=style/icon",
            "vip_avatar": "",
            "banner": "",
            "nickname": self.opts.bot_username,
            "roles": [],
            "is_vip": false,
            "vip_amp": false,
            "bot": true,
            "bot_status": 0,
            "tag_info": {"color": "#0096FF", "bg_color": "#0096FF33", "text": "机器人"},
            "mobile_verified": true,
            "is_sys": false,
            "client_id": "fake-client-id",
            "verified": false
        })
    }
}

impl WsHandler for Core {
    fn on_open(&self, id: u64, hs: Handshake, out: OutTx) -> Encoding {
        let q = |k: &str| {
            hs.query
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        let compress = self.opts.compress || q("compress").as_deref() != Some("0");
        self.shared.update(|s| {
            s.gw.open(id, hs.clone(), out);
            let token_state = q("token").map(|t| s.gateway_tokens.get(&t).copied());
            let hello_err = match token_state {
                None => Some(40100),
                Some(None) => Some(40101),
                Some(Some(true)) => Some(40103),
                Some(Some(false)) => None,
            };
            if let Some(code) = hello_err {
                s.send(id, &json!({"s": 1, "d": {"code": code}}));
                return;
            }
            if q("resume").as_deref() == Some("1") {
                self.resume_on_connect(s, id, q("sn"), q("session_id").or_else(|| q("sessionId")));
            } else {
                self.new_session(s, id);
            }
        });
        if compress {
            Encoding::ZlibPerFrame
        } else {
            Encoding::Plain
        }
    }

    fn on_text(&self, id: u64, text: &str) {
        self.shared.update(|s| {
            let Some(v) = s.gw.record_frame(text) else {
                return;
            };
            let sn = v.get("sn").and_then(Value::as_u64).unwrap_or(0);
            match v.get("s").and_then(Value::as_u64) {
                Some(2) => {
                    s.pings.push(sn);
                    if s.pong {
                        s.send(id, &json!({"s": 3}));
                    }
                    if self.opts.retransmit_on_ping {
                        if let Some(sid) = s.gw.session_of(id) {
                            s.replay(&sid, sn, id);
                        }
                    }
                }
                Some(4) => {
                    if let Some(sid) = s.gw.session_of(id) {
                        s.replay(&sid, sn, id);
                        s.send(id, &json!({"s": 6, "d": {"session_id": sid}}));
                    }
                }
                _ => {}
            }
        });
    }

    fn on_close_frame(&self, _id: u64, _code: Option<u16>) {}

    fn on_closed(&self, id: u64) {
        self.shared.update(|s| {
            s.gw.closed(id);
        });
    }
}
