//! What one response means for its request ([`Verdict`]): a typed result,
//! a final error, a 429 to wait out (bucket or global), or a failure to
//! retry with backoff; and the rate-limit facts it carries ([`Observed`]),
//! read from Discord's `X-RateLimit-*` headers and 429 body or KOOK's
//! `X-Rate-Limit-*` headers and `code`.

use super::*;

/// What a response means for its request.
pub(super) enum Verdict {
    Complete(Response),
    Fail(RestError),
    /// 429: retry after `wait`, holding the bucket or everything.
    RateLimited {
        wait: Option<std::time::Duration>,
        global: bool,
        shared: bool,
    },
    /// 5xx, transport error, transient KOOK code: back off.
    Failure {
        reason: RetryReason,
        retry_after: Option<Duration>,
        error: RestError,
    },
}

/// The rate-limit facts of one response, from either platform's headers.
pub(super) struct Observed {
    pub(super) bucket: Option<String>,
    pub(super) remaining: Option<u32>,
    pub(super) reset_after: Option<Duration>,
    pub(super) global: bool,
}

pub(super) fn discord_verdict(
    request: &discord::Request,
    response: &HttpResponse,
) -> (Verdict, Observed) {
    let headers = discord::RateLimitHeaders::parse(response);
    let observed = Observed {
        bucket: headers.bucket.clone(),
        remaining: headers.remaining,
        reset_after: headers.reset_after,
        global: false,
    };
    let status = response.status;
    let verdict = match status {
        200..=299 => match request.decode_success(&response.body) {
            Ok(r) => Verdict::Complete(r),
            Err(detail) => Verdict::Fail(RestError::Decode { status, detail }),
        },
        429 => {
            let body = RateLimitBody::parse(&response.body);
            Verdict::RateLimited {
                wait: body.retry_after.or(headers.retry_after),
                global: headers.global
                    || body.global
                    || headers.scope == Some(discord::Scope::Global),
                shared: headers.scope == Some(discord::Scope::Shared),
            }
        }
        401 => Verdict::Fail(RestError::Unauthorized {
            status,
            code: None,
            hint: Platform::Discord.token_hint(),
        }),
        403 => {
            let body = ErrorBody::parse(&response.body);
            Verdict::Fail(RestError::Forbidden {
                status,
                code: body.code,
                target: request.target(),
                message: body.message,
            })
        }
        500..=599 => Verdict::Failure {
            reason: RetryReason::ServerError { status },
            retry_after: headers.retry_after,
            error: RestError::Server {
                status,
                attempts: 0,
            },
        },
        _ => {
            let body = ErrorBody::parse(&response.body);
            Verdict::Fail(RestError::Rejected {
                status,
                code: body.code,
                message: body.message,
            })
        }
    };
    (verdict, observed)
}

pub(super) fn kook_verdict(
    request: &kook::Request,
    response: &HttpResponse,
) -> (Verdict, Observed) {
    let headers = kook::RateLimitHeaders::parse(response);
    let observed = Observed {
        bucket: headers.bucket.clone(),
        remaining: headers.remaining,
        reset_after: headers.reset,
        global: headers.global,
    };
    let status = response.status;
    let envelope = Envelope::parse(&response.body);
    let message = || match &envelope {
        Ok(e) => e.message.clone(),
        Err(_) => discord::excerpt(&response.body),
    };
    let code = envelope.as_ref().ok().map(|e| e.code);
    let verdict = match status {
        429 => Verdict::RateLimited {
            wait: headers.reset.or_else(|| {
                response
                    .header("Retry-After")
                    .and_then(discord::parse_seconds)
            }),
            global: headers.global,
            shared: false,
        },
        401 => Verdict::Fail(RestError::Unauthorized {
            status,
            code: None,
            hint: Platform::Kook.token_hint(),
        }),
        403 => Verdict::Fail(RestError::Forbidden {
            status,
            code,
            target: request.target(),
            message: message(),
        }),
        500..=599 => Verdict::Failure {
            reason: RetryReason::ServerError { status },
            retry_after: response
                .header("Retry-After")
                .and_then(discord::parse_seconds),
            error: RestError::Server {
                status,
                attempts: 0,
            },
        },
        200..=299 => match envelope {
            Err(detail) => Verdict::Fail(RestError::Decode { status, detail }),
            Ok(envelope) => match kook::classify_code(envelope.code) {
                CodeClass::Ok => match request.decode_data(envelope.data) {
                    Ok(r) => Verdict::Complete(r),
                    Err(detail) => Verdict::Fail(RestError::Decode { status, detail }),
                },
                CodeClass::Unauthorized => Verdict::Fail(RestError::Unauthorized {
                    status,
                    code: Some(envelope.code),
                    hint: Platform::Kook.token_hint(),
                }),
                CodeClass::Forbidden => Verdict::Fail(RestError::Forbidden {
                    status,
                    code: Some(envelope.code),
                    target: request.target(),
                    message: envelope.message,
                }),
                CodeClass::Transient => Verdict::Failure {
                    reason: RetryReason::KookTransient {
                        code: envelope.code,
                        message: envelope.message.clone(),
                    },
                    retry_after: None,
                    error: RestError::Kook {
                        code: envelope.code,
                        message: envelope.message,
                    },
                },
                _ => Verdict::Fail(RestError::Kook {
                    code: envelope.code,
                    message: envelope.message,
                }),
            },
        },
        _ => Verdict::Fail(RestError::Rejected {
            status,
            code,
            message: message(),
        }),
    };
    (verdict, observed)
}
