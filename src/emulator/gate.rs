//! The middleware every request passes: injected faults and latency, authentication, rate
//! limiting, and the headers WorkOS puts on every response.
//!
//! Doing this in one place, before routing, is what makes the order of answers match WorkOS:
//! a request without a valid key gets 401 even on a path that does not exist, and a key over
//! its limit gets 429 whatever it asked for. The emulator's own control endpoints
//! (`/_emulator/...`) skip authentication and are not counted, so tests can inspect and reset
//! state freely.
//!
//! The Convex endpoints (`/api/...` and `/d/...`) skip WorkOS's key check and rate limit too:
//! Convex authenticates with its own tokens, which only the handlers can judge, because the
//! deployment a token must match is in the body or the path. They get the request id but not
//! WorkOS's rate-limit headers, and Convex-shaped JSON for 404 and 405.
//!
//! Faults (see `faults`) come first, before authentication, as a failing proxy or server in
//! front of the API would: they hit WorkOS and Convex requests alike, never the control
//! endpoints.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::connection::Connection;
use super::error::ApiError;
use super::faults::Fault;
use super::ratelimit::Verdict;
use super::request::{Caller, authorization};
use super::{control, convex, ids};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const RATE_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const RATE_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RATE_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Admits or refuses a request, runs it, and decorates the response.
pub(crate) async fn gate(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = client_request_id(request.headers()).unwrap_or_else(ids::new_request_id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    // Each API family the emulator serves is admitted by its own rules; a new family adds a
    // branch here rather than its own middleware, so that unknown paths still get one
    // consistent answer.
    let family = Family::of(&path);
    let fault = match family {
        Family::Control => None,
        Family::Convex | Family::WorkOs => {
            shared.stats.request(method.as_str(), &path);
            let latency = shared.injector.latency;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            shared.injector.draw()
        }
    };
    let connection = request
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|info| info.0.clone());
    if let Some(fault) = fault {
        shared.stats.fault(fault);
        tracing::debug!(%method, path, %fault, "emulator injects a fault");
        match fault {
            Fault::Status(status) => {
                let mut response = injected_answer(&shared, family, status);
                decorate(response.headers_mut(), &request_id, None);
                return response;
            }
            Fault::Reset => {
                if let Some(connection) = &connection {
                    connection.cut();
                }
                // Never delivered: the cut connection fails on its first write.
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            Fault::Slow => {
                // Held until the delay is over or the emulator stops, so that a slow request
                // never keeps a shutdown waiting.
                let mut stopping = shared.stopping.subscribe();
                tokio::select! {
                    () = tokio::time::sleep(shared.injector.slow_delay) => {}
                    _ = stopping.wait_for(|stopping| *stopping) => {}
                }
            }
            Fault::Lost => {}
        }
    }

    let (response, verdict) = match family {
        Family::Control => (next.run(request).await, Some(shared.limiter.unmetered())),
        Family::Convex => (next.run(request).await, None),
        Family::WorkOs => match admit(&shared, request.headers()).await {
            Err((refusal, verdict)) => (refusal.into_response(), Some(verdict)),
            Ok((caller, verdict)) => {
                request.extensions_mut().insert(caller);
                (next.run(request).await, Some(verdict))
            }
        },
    };
    let mut response = wrong_method(response, family);
    if let (Some(Fault::Lost), Some(connection)) = (fault, &connection) {
        // The request was carried out; its answer is lost with the connection.
        connection.cut();
    }

    decorate(response.headers_mut(), &request_id, verdict);
    tracing::debug!(
        %method,
        path,
        status = response.status().as_u16(),
        request_id,
        duration_ms = started.elapsed().as_millis() as u64,
        "emulator request"
    );
    response
}

/// The APIs the emulator serves, told apart by the start of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// The emulator's own `/_emulator/...` endpoints.
    Control,
    /// Convex's management API and deployment APIs.
    Convex,
    /// Everything else, including unknown paths: the WorkOS API.
    WorkOs,
}

impl Family {
    pub(crate) fn of(path: &str) -> Self {
        if control::owns(path) {
            Self::Control
        } else if convex::owns(path) {
            Self::Convex
        } else {
            Self::WorkOs
        }
    }
}

/// The answer of an injected status fault. A 429 says when to come back, as WorkOS's own
/// limit does, and for WorkOS reports the key's budget as spent until then.
fn injected_answer(shared: &Shared, family: Family, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = ApiError::injected(status, family == Family::Convex).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let headers = response.headers_mut();
        headers.insert(RETRY_AFTER, HeaderValue::from(1u32));
        if family == Family::WorkOs {
            let limit = shared.limiter.unmetered().limit;
            headers.insert(RATE_LIMIT, HeaderValue::from(limit));
            headers.insert(RATE_REMAINING, HeaderValue::from(0u32));
            headers.insert(RATE_RESET, HeaderValue::from(1u32));
        }
    }
    response
}

/// Checks the API key, then the key's rate limit. Authentication comes first so that an
/// unknown key can neither spend nor probe anyone's budget.
async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<(Caller, Verdict), (ApiError, Verdict)> {
    let unmetered = shared.limiter.unmetered();
    let Some(key) = authorization(headers, "Bearer") else {
        return Err((ApiError::unauthorized(), unmetered));
    };
    let known = shared
        .store
        .read(|state| state.environment_by_key(key).is_some())
        .await;
    if !known {
        return Err((ApiError::unauthorized(), unmetered));
    }

    let verdict = shared.limiter.check(key);
    if !verdict.allowed {
        return Err((ApiError::rate_limited(), verdict));
    }
    Ok((Caller::new(key), verdict))
}

/// The id a client chose for its request (`X-Request-ID`), which the answer then carries, as
/// WorkOS's official emulator does. Only a non-empty value is taken; any value that arrived as
/// a header can be sent back as one.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(REQUEST_ID)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The router answers a known path with the wrong method by an empty 405. WorkOS's official
/// emulator answers such a request like any unknown route, 404 with its JSON body, and so does
/// this one for WorkOS paths: a client then sees one answer for "no such endpoint", however it
/// was missed. Convex paths get Convex's own JSON 405, keeping the `Allow` header.
fn wrong_method(response: Response, family: Family) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let (mut parts, _empty) = response.into_parts();
    let replacement = match family {
        Family::Convex => ApiError::convex_method_not_allowed(),
        Family::Control | Family::WorkOs => ApiError::not_found(),
    }
    .into_response();
    let (replacement_parts, body) = replacement.into_parts();
    parts.status = replacement_parts.status;
    if family != Family::Convex {
        parts.headers.remove(ALLOW);
    }
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.extend(replacement_parts.headers);
    Response::from_parts(parts, body)
}

/// Adds the request id and, for WorkOS's answers, the rate-limit headers, and `Retry-After`
/// when the limit refused the request.
fn decorate(headers: &mut HeaderMap, request_id: &str, verdict: Option<Verdict>) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    let Some(verdict) = verdict else {
        return;
    };
    headers.insert(RATE_LIMIT, HeaderValue::from(verdict.limit));
    headers.insert(RATE_REMAINING, HeaderValue::from(verdict.remaining));
    headers.insert(RATE_RESET, HeaderValue::from(verdict.reset_after_secs));
    if !verdict.allowed {
        headers.insert(RETRY_AFTER, HeaderValue::from(verdict.reset_after_secs));
    }
}
