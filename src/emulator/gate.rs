//! The middleware every request passes: authentication, rate limiting, and the headers WorkOS
//! puts on every response.
//!
//! Doing this in one place, before routing, is what makes the order of answers match WorkOS:
//! a request without a valid key gets 401 even on a path that does not exist, and a key over
//! its limit gets 429 whatever it asked for. The emulator's own control endpoints
//! (`/_emulator/...`) skip authentication and are not counted, so tests can inspect and reset
//! state freely.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::control;
use super::error::ApiError;
use super::ids;
use super::ratelimit::Verdict;
use super::request::Caller;

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

    // Each API family the emulator serves is admitted by its own rules; a new family (another
    // vendor's management API, say) adds a branch here rather than its own middleware, so that
    // unknown paths still get one consistent answer.
    let (response, verdict) = if control::owns(&path) {
        (next.run(request).await, shared.limiter.unmetered())
    } else {
        match admit(&shared, request.headers()).await {
            Err((refusal, verdict)) => (refusal.into_response(), verdict),
            Ok((caller, verdict)) => {
                request.extensions_mut().insert(caller);
                (next.run(request).await, verdict)
            }
        }
    };
    let mut response = wrong_method_as_not_found(response);

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

/// Checks the API key, then the key's rate limit. Authentication comes first so that an
/// unknown key can neither spend nor probe anyone's budget.
async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<(Caller, Verdict), (ApiError, Verdict)> {
    let unmetered = shared.limiter.unmetered();
    let Some(key) = bearer_token(headers) else {
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

/// The key from `Authorization: Bearer <key>`. The scheme name is case-insensitive, as HTTP
/// says; anything else (no header, another scheme, an empty key) is no key at all.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
/// this one: a client then sees one answer for "no such endpoint", however it was missed.
fn wrong_method_as_not_found(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let (mut parts, _empty) = response.into_parts();
    let (replacement_parts, body) = ApiError::not_found().into_response().into_parts();
    parts.status = replacement_parts.status;
    parts.headers.remove(ALLOW);
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.extend(replacement_parts.headers);
    Response::from_parts(parts, body)
}

/// Adds the request id and rate-limit headers, and `Retry-After` when the limit refused the
/// request.
fn decorate(headers: &mut HeaderMap, request_id: &str, verdict: Verdict) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(RATE_LIMIT, HeaderValue::from(verdict.limit));
    headers.insert(RATE_REMAINING, HeaderValue::from(verdict.remaining));
    headers.insert(RATE_RESET, HeaderValue::from(verdict.reset_after_secs));
    if !verdict.allowed {
        headers.insert(RETRY_AFTER, HeaderValue::from(verdict.reset_after_secs));
    }
}
