//! The gateway side of [`FakeDiscord`]'s server: each connection's
//! frames (Hello, Identify and READY, Resume and its replay, heartbeats,
//! the close codes Discord uses for bad frames), as the module docs of
//! `discord/mod.rs` describe.

use super::*;

impl Core {
    pub(super) fn handle_frame(&self, s: &mut State, id: u64, text: &str) {
        if !s.gw.is_open(id) {
            return;
        }
        if self.opts.enforce_gateway_rate_limit {
            let now = Instant::now();
            let times = s.frame_times.entry(id).or_default();
            times.push_back(now);
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) > RATE_LIMIT_WINDOW)
            {
                times.pop_front();
            }
            if times.len() > RATE_LIMIT_FRAMES {
                s.gw.close(id, 4008, "Rate limited.");
                return;
            }
        }
        let identified = s.gw.session_of(id).is_some();
        let parsed = s.gw.record_frame(text);
        if text.len() > MAX_PAYLOAD {
            s.gw.close(id, 4002, "Error while decoding payload.");
            return;
        }
        let Some(v) = parsed.filter(Value::is_object) else {
            s.gw.close(id, 4002, "Error while decoding payload.");
            return;
        };
        let op = v.get("op").and_then(Value::as_u64);
        let d = v.get("d").cloned().unwrap_or(Value::Null);
        match op {
            Some(1) => {
                s.heartbeats.push(d.as_u64());
                if s.heartbeat_ack {
                    s.gw.send(id, frame(11, Value::Null));
                }
            }
            Some(2) => {
                s.identifies.push(d.clone());
                if identified {
                    s.gw.close(id, 4005, "Already authenticated.");
                } else {
                    self.identify(s, id, &d);
                }
            }
            Some(6) => {
                s.resumes.push(d.clone());
                if identified {
                    s.gw.close(id, 4005, "Already authenticated.");
                } else {
                    self.resume(s, id, &d);
                }
            }
            Some(3 | 4 | 8) if identified => {}
            Some(3 | 4 | 8) => s.gw.close(id, 4003, "Not authenticated."),
            _ => s.gw.close(id, 4001, "Unknown opcode."),
        }
    }

    pub(super) fn identify(&self, s: &mut State, id: u64, d: &Value) {
        if d.get("token").and_then(Value::as_str) != Some(self.opts.token.as_str()) {
            s.gw.close(id, 4004, "Authentication failed.");
            return;
        }
        if let Some((code, reason)) = s.fail_identify.take() {
            s.gw.close(id, code, &reason);
            return;
        }
        let sid =
            s.gw.new_session(id, |n| format!("{:032x}", 0x5eed_0000_u64 + n));
        let shard = d.get("shard").cloned().unwrap_or_else(|| json!([0, 1]));
        let ready = self.ready_payload(&sid, shard);
        s.deliver(&sid, "READY", ready, false);
        // What no connection ever got moves into the new session.
        let mut carried = std::mem::take(&mut s.pending);
        if let Some(prev) = s.gw.current_session_mut() {
            for e in prev.log.iter_mut().filter(|e| !e.delivered && e.replay) {
                e.delivered = true;
                carried.push((e.t.clone(), e.d.clone()));
            }
        }
        for (t, d) in carried {
            s.deliver(&sid, &t, d, true);
        }
        s.gw.current = Some(sid);
    }

    pub(super) fn resume(&self, s: &mut State, id: u64, d: &Value) {
        if d.get("token").and_then(Value::as_str) != Some(self.opts.token.as_str()) {
            s.gw.close(id, 4004, "Authentication failed.");
            return;
        }
        let sid = d
            .get("session_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
        if s.reject_resumes > 0 {
            s.reject_resumes -= 1;
            s.gw.invalidate(&sid);
            s.gw.send(id, frame(9, json!(false)));
            return;
        }
        let Some(sess) = s.gw.resumable(&sid) else {
            s.gw.send(id, frame(9, json!(false)));
            return;
        };
        if seq > last_seq(&sess.log) {
            s.gw.close(id, 4007, "Invalid seq.");
            return;
        }
        let mut replay = Vec::new();
        for e in sess.log.iter_mut().filter(|e| e.seq > seq && e.replay) {
            e.delivered = true;
            replay.push(dispatch_frame(e.seq, &e.t, &e.d));
        }
        s.gw.attach(&sid, id);
        for f in replay {
            s.gw.send(id, f);
        }
        s.deliver(
            &sid,
            "RESUMED",
            json!({"_trace": ["[\"fake-discord-gateway\",{\"micros\":0.0}]"]}),
            false,
        );
        s.gw.resume_done(sid);
    }

    pub(super) fn ws_port(&self) -> u16 {
        self.ws_port.get().copied().unwrap_or(0)
    }

    pub(super) fn ready_payload(&self, sid: &str, shard: Value) -> Value {
        let guilds: Vec<Value> = self
            .opts
            .guild_ids
            .iter()
            .map(|g| json!({"id": g, "unavailable": true}))
            .collect();
        let resume_url = self
            .opts
            .resume_gateway_url
            .clone()
            .unwrap_or_else(|| format!("ws://127.0.0.1:{}", self.ws_port()));
        json!({
            "v": 10,
            "user_settings": {},
            "user": self.bot_user(),
            "session_type": "normal",
            "session_id": sid,
            "resume_gateway_url": resume_url,
            "shard": shard,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": guilds,
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["frankfurt"],
            "application": {"id": self.opts.bot_user_id, "flags": self.opts.application_flags},
            "_trace": ["[\"fake-discord-gateway\",{\"micros\":0.0}]"]
        })
    }

    pub(super) fn bot_user(&self) -> Value {
        json!({
            "id": self.opts.bot_user_id,
            "username": self.opts.bot_username,
            "global_name": null,
            "discriminator": "0",
            "avatar": null,
            "bot": true,
            "verified": true,
            "mfa_enabled": false,
            "flags": 0,
            "email": null,
            "public_flags": 0
        })
    }
}

pub(super) fn dispatch_frame(seq: u64, t: &str, d: &Value) -> String {
    json!({"op": 0, "s": seq, "t": t, "d": d}).to_string()
}

impl WsHandler for Core {
    fn on_open(&self, id: u64, hs: Handshake, out: OutTx) -> Encoding {
        let zlib = self.opts.compress_zlib_stream
            || hs
                .query
                .iter()
                .any(|(k, v)| k == "compress" && v == "zlib-stream");
        let hello = json!({"op": 10, "s": null, "t": null, "d": {
            "heartbeat_interval": self.opts.heartbeat_interval_ms,
            "_trace": ["[\"fake-discord-gateway\",{\"micros\":0.0}]"]
        }});
        let _ = out.try_send(Out::Text(hello.to_string()));
        self.shared.update(|s| {
            s.gw.open(id, hs, out);
        });
        if zlib {
            Encoding::ZlibStream
        } else {
            Encoding::Plain
        }
    }

    fn on_text(&self, id: u64, text: &str) {
        self.shared.update(|s| self.handle_frame(s, id, text));
    }

    fn on_close_frame(&self, id: u64, code: Option<u16>) {
        self.shared.update(|s| {
            s.client_closes.push(code);
            if matches!(code, Some(1000 | 1001)) {
                s.gw.invalidate_session_of(id);
            }
        });
    }

    fn on_closed(&self, id: u64) {
        self.shared.update(|s| {
            s.gw.closed(id);
            s.frame_times.remove(&id);
        });
    }
}
