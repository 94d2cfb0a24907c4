//! `--probe` for a KOOK account: the bot (`GET /user/me`) and a gateway URL
//! (`GET /gateway/index`; the URL carries a token and is never printed).

use krill_core::config::{KookSettings, ResolvedAccount};
use krill_core::rest::{self, kook, Api, Response, RestError};

use super::{fail, ok, warn, Probe};
use crate::http::HttpClient;

pub(super) fn probe_kook(
    client: &HttpClient,
    account: &ResolvedAccount,
    k: &KookSettings,
    out: &mut Vec<Probe>,
) {
    let api = Api::new(
        rest::Platform::Kook,
        k.api_base_url.as_str(),
        account.token.clone(),
    );
    let user = match kook_call(client, &api, &kook::Request::UserMe, "GET /user/me") {
        Ok(Response::KookUser(u)) => u,
        Ok(_) => return out.push(fail("GET /user/me: unexpected answer".to_owned())),
        Err((p, _)) => return out.push(p),
    };
    out.push(ok(format!("bot {} (id {})", user.username, user.id)));
    if !user.bot {
        out.push(warn(
            "this token belongs to a user account, not a bot: create a bot at developer.kookapp.cn"
                .to_owned(),
        ));
    }
    let request = kook::Request::GatewayIndex {
        compress: k.compress,
    };
    match kook_call(client, &api, &request, "GET /gateway/index") {
        // The URL carries a token: say only that it came.
        Ok(Response::KookGateway(_)) => out.push(ok("gateway URL issued".to_owned())),
        Ok(_) => out.push(fail("GET /gateway/index: unexpected answer".to_owned())),
        Err((p, _)) => out.push(p),
    }
}

/// One KOOK request: HTTP status, then the envelope's `code`.
fn kook_call(
    client: &HttpClient,
    api: &Api,
    request: &kook::Request,
    what: &str,
) -> Result<Response, (Probe, bool)> {
    let hint = rest::Platform::Kook.token_hint();
    let rejected = |status: u16, code: Option<i64>| {
        (
            fail(RestError::Unauthorized { status, code, hint }.to_string()),
            true,
        )
    };
    let http = request.encode(api).map_err(|e| {
        (
            fail(format!("{what}: cannot build the request: {e}")),
            false,
        )
    })?;
    let (status, body) = match client.execute_blocking(&http) {
        Err(e) => return Err((fail(format!("{what}: unreachable: {e}")), false)),
        Ok(r) => (r.status, r.body),
    };
    let envelope = kook::Envelope::parse(&body);
    if status == 401 {
        return Err(rejected(401, envelope.ok().map(|e| e.code)));
    }
    let envelope = match envelope {
        Ok(e) => e,
        Err(_) if !(200..300).contains(&status) => {
            return Err((fail(format!("{what}: HTTP {status}")), false))
        }
        Err(why) => return Err((fail(format!("{what}: unreadable answer: {why}")), false)),
    };
    match kook::classify_code(envelope.code) {
        kook::CodeClass::Ok if (200..300).contains(&status) => request
            .decode_data(envelope.data)
            .map_err(|e| (fail(format!("{what}: unexpected answer: {e}")), false)),
        kook::CodeClass::Unauthorized => Err(rejected(status, Some(envelope.code))),
        _ => Err((
            fail(format!(
                "{what}: HTTP {status}, code {}: {}",
                envelope.code, envelope.message
            )),
            false,
        )),
    }
}
