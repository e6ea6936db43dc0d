//! The one HTTP client every outgoing request goes through.
//!
//! It owns the policies that must be the same for WorkOS and Convex alike: HTTPS for every
//! non-loopback endpoint, timeouts, retries with jittered exponential backoff that honour
//! `Retry-After` within a retry budget for the whole run, pacing by the rate-limit headers
//! (`pace`), bounded response bodies, request ids, answers scrubbed of the request's own
//! credential, and logs that never carry a header value or a body.

#[cfg(test)]
mod client_tests;
mod pace;

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};

use crate::state::Secret;

use self::pace::{CredentialId, Pacer};

/// Responses larger than this are refused rather than buffered: every answer the tool expects
/// is a page of at most 100 small objects.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A base URL the tool talks to, checked once where it is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: Url,
    variable: &'static str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("{variable}=`{value}` is not a URL: {problem}")]
    Invalid {
        variable: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "{variable}=`{value}` uses plain http to a host that is not this machine; \
         use https (plain http is accepted only for 127.0.0.1, ::1 and localhost)"
    )]
    InsecureRemote {
        variable: &'static str,
        value: String,
    },
}

impl Endpoint {
    /// Parses the value of `variable` (named in errors), refusing plain HTTP off this machine.
    pub fn parse(variable: &'static str, value: &str) -> Result<Endpoint, EndpointError> {
        let invalid = |problem: String| EndpointError::Invalid {
            variable,
            value: value.to_owned(),
            problem,
        };
        let base = Url::parse(value).map_err(|e| invalid(e.to_string()))?;
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) => {}
            "http" => {
                return Err(EndpointError::InsecureRemote {
                    variable,
                    value: value.to_owned(),
                });
            }
            other => return Err(invalid(format!("scheme `{other}` is not http or https"))),
        }
        if base.host().is_none() {
            return Err(invalid("it has no host".to_owned()));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("credentials do not belong in the URL".to_owned()));
        }
        Ok(Endpoint { base, variable })
    }

    pub fn variable(&self) -> &'static str {
        self.variable
    }

    pub fn as_str(&self) -> &str {
        self.base.as_str()
    }

    /// The URL of `path` (which starts with `/`) under this endpoint.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base.as_str().trim_end_matches('/'))
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// How a request proves who it is. The secret is exposed only when the header is built.
#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(Secret),
    Convex(Secret),
}

impl Auth {
    fn secret(&self) -> &str {
        match self {
            Auth::Bearer(secret) | Auth::Convex(secret) => secret.expose(),
        }
    }

    fn credential_id(&self) -> CredentialId {
        match self {
            Auth::Bearer(secret) => CredentialId::of("Bearer", secret.expose()),
            Auth::Convex(secret) => CredentialId::of("Convex", secret.expose()),
        }
    }
}

/// Timeouts, retries and the waits between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub connect_timeout: Duration,
    /// For one attempt, from sending the request to the last byte of the answer.
    pub request_timeout: Duration,
    /// Retries after the first attempt, per request.
    pub max_retries: usize,
    /// Retries for the whole run, shared by every request: when a storm makes every request
    /// fail, the run gives up after this many retries instead of multiplying them.
    pub retry_budget: usize,
    pub min_delay: Duration,
    /// The longest single wait: a backoff step, a `Retry-After` or a pause for a rate-limit
    /// reset.
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            retry_budget: 20,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// The variables that tune the policy, for messages and documentation.
pub const POLICY_VARIABLES: [&str; 6] = [
    "AUTHKIT_SYNC_CONNECT_TIMEOUT_SECS",
    "AUTHKIT_SYNC_TIMEOUT_SECS",
    "AUTHKIT_SYNC_RETRIES",
    "AUTHKIT_SYNC_RETRY_BUDGET",
    "AUTHKIT_SYNC_BACKOFF_MIN_MS",
    "AUTHKIT_SYNC_BACKOFF_MAX_MS",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}=`{value}` is not {expected}")]
pub struct PolicyError {
    variable: &'static str,
    value: String,
    expected: &'static str,
}

impl Policy {
    /// The default policy with the overrides set in the environment (`lookup` gives a
    /// variable's value). Timeouts are seconds and may have a fraction (`0.5`).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Policy, PolicyError> {
        let [connect, request, retries, budget, min_delay, max_delay] = POLICY_VARIABLES;
        let mut policy = Policy::default();
        let seconds = |variable: &'static str, default: Duration| {
            read(
                &lookup,
                variable,
                default,
                "a number of seconds from 0.001 to 3600",
                |v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|s| (0.001..=3600.0).contains(s))
                        .map(Duration::from_secs_f64)
                },
            )
        };
        let millis = |variable: &'static str, default: Duration| {
            read(
                &lookup,
                variable,
                default,
                "a number of milliseconds up to 3600000",
                |v| {
                    v.parse::<u64>()
                        .ok()
                        .filter(|ms| *ms <= 3_600_000)
                        .map(Duration::from_millis)
                },
            )
        };
        let count = |variable: &'static str, default: usize, most: usize| {
            read(
                &lookup,
                variable,
                default,
                "a whole number up to 1000",
                |v| v.parse::<usize>().ok().filter(|n| *n <= most),
            )
        };
        policy.connect_timeout = seconds(connect, policy.connect_timeout)?;
        policy.request_timeout = seconds(request, policy.request_timeout)?;
        policy.max_retries = count(retries, policy.max_retries, 1000)?;
        policy.retry_budget = count(budget, policy.retry_budget, 1000)?;
        policy.min_delay = millis(min_delay, policy.min_delay)?;
        policy.max_delay = millis(max_delay, policy.max_delay)?.max(policy.min_delay);
        Ok(policy)
    }
}

fn read<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, PolicyError> {
    let Some(value) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    parse(value.trim()).ok_or(PolicyError {
        variable,
        value,
        expected,
    })
}

/// A buffered answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {url}: could not connect: {detail}")]
    Connect {
        method: Method,
        url: String,
        detail: String,
    },
    #[error("{method} {url}: the connection broke before the whole answer came: {detail}")]
    Broken {
        method: Method,
        url: String,
        detail: String,
    },
    #[error("{method} {url}: no answer within {seconds} s")]
    Timeout {
        method: Method,
        url: String,
        seconds: f64,
    },
    #[error(
        "{method} {url}: the answer is larger than {MAX_BODY_BYTES} bytes; refusing to read it"
    )]
    TooLarge { method: Method, url: String },
    #[error("{method} {url}: {detail}")]
    Other {
        method: Method,
        url: String,
        detail: String,
    },
    #[error("{last} ({}{})", attempts_note(*.attempts), spent_note(*.budget_spent))]
    GaveUp {
        last: Box<HttpError>,
        attempts: usize,
        /// The run's retry budget, when it was spent before this request's own limit.
        budget_spent: Option<usize>,
    },
}

fn attempts_note(attempts: usize) -> String {
    match attempts {
        1 => "gave up after 1 attempt".to_owned(),
        n => format!("gave up after {n} attempts"),
    }
}

fn spent_note(budget_spent: Option<usize>) -> String {
    match budget_spent {
        Some(budget) => format!("; the run's budget of {budget} retries is spent"),
        None => String::new(),
    }
}

impl HttpError {
    /// Whether sending the request again may succeed: the connection failed, broke or timed
    /// out. Every request this tool sends may be repeated safely (see [`Client::send`]).
    fn is_transient(&self) -> bool {
        matches!(
            self,
            HttpError::Connect { .. } | HttpError::Broken { .. } | HttpError::Timeout { .. }
        )
    }
}

pub struct Client {
    inner: reqwest::Client,
    policy: Policy,
    /// Retries left for the whole run.
    budget: AtomicUsize,
    pacer: Pacer,
}

impl Client {
    pub fn new(policy: Policy) -> anyhow::Result<Client> {
        let inner = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .user_agent(concat!("authkit-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            inner,
            budget: AtomicUsize::new(policy.retry_budget),
            pacer: Pacer::new(policy.max_delay),
            policy,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sends a request, retrying connection failures, broken answers, timeouts, 429 and 500,
    /// 502, 503 and 504 with jittered exponential backoff. A `Retry-After` header longer than
    /// the backoff wins; no wait is longer than the policy's `max_delay`. Each request has its
    /// own retry limit, and all of them draw on the run's retry budget.
    ///
    /// Repeating is safe for every request this tool sends, including a POST whose connection
    /// broke after the server carried it out: creates answer "already exists" the second time
    /// and count as success, deletes answer 404 and count as done, and the other writes set a
    /// value, which is the same whether done once or twice.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        auth: &Auth,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, HttpError> {
        let credential = auth.credential_id();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter()
            .build();
        let mut attempts = 0;
        loop {
            self.pacer.admit(credential).await;
            attempts += 1;
            let outcome = self.attempt(&method, &url, auth, body).await;
            let retry_after = match &outcome {
                Ok((response, headers)) => {
                    let retry_after = header_retry_after(headers);
                    self.pacer
                        .observe(credential, response.status, headers, retry_after);
                    is_retryable(response.status).then_some(retry_after)
                }
                Err(error) if error.is_transient() => Some(None),
                Err(_) => None,
            };
            let Some(server_wait) = retry_after else {
                return finish(outcome, &method, &url, attempts, None);
            };
            let Some(backoff) = delays.next() else {
                return finish(outcome, &method, &url, attempts, None);
            };
            if !self.take_retry() {
                let budget = Some(self.policy.retry_budget);
                return finish(outcome, &method, &url, attempts, budget);
            }
            let wait = server_wait
                .map_or(backoff, |s| s.max(backoff))
                .min(self.policy.max_delay);
            tracing::debug!(method = %method, path = url.path(), wait_ms = wait.as_millis() as u64,
                "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes one retry from the run's budget, if any is left.
    fn take_retry(&self) -> bool {
        self.budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        auth: &Auth,
        body: Option<&serde_json::Value>,
    ) -> Result<(Response, HeaderMap), HttpError> {
        let started = Instant::now();
        let mut request = self.inner.request(method.clone(), url.clone());
        request = match auth {
            Auth::Bearer(key) => request.bearer_auth(key.expose()),
            Auth::Convex(key) => {
                request.header("Authorization", format!("Convex {}", key.expose()))
            }
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let shown_url = redact_url(url);
        let classify = |error| classify(method, &shown_url, &self.policy, error);
        let mut response = request.send().await.map_err(classify)?;

        let status = response.status();
        let headers = response.headers().clone();
        let too_large = || HttpError::TooLarge {
            method: method.clone(),
            url: shown_url.clone(),
        };
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let secret = auth.secret();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|id| {
                server_text(
                    &String::from_utf8_lossy(&redact(id.as_bytes(), secret)),
                    100,
                )
            });
        tracing::debug!(
            method = %method,
            path = url.path(),
            status = status.as_u16(),
            request_id = request_id.as_deref().unwrap_or("-"),
            duration_ms = started.elapsed().as_millis() as u64,
            "http request"
        );
        Ok((
            Response {
                status,
                request_id,
                body: redact(&body, secret),
            },
            headers,
        ))
    }
}

/// The outcome of the last attempt, saying how many attempts it took when there were several.
fn finish(
    outcome: Result<(Response, HeaderMap), HttpError>,
    method: &Method,
    url: &Url,
    attempts: usize,
    budget_spent: Option<usize>,
) -> Result<Response, HttpError> {
    match outcome {
        Ok((response, _)) => {
            if is_retryable(response.status) && (attempts > 1 || budget_spent.is_some()) {
                // The caller reports the answer itself; this says why it was not retried.
                tracing::warn!(
                    "{method} {}: answered {} {attempts} times; giving up{}",
                    url.path(),
                    response.status.as_u16(),
                    spent_note(budget_spent)
                );
            }
            Ok(response)
        }
        Err(last) if attempts > 1 || budget_spent.is_some() => Err(HttpError::GaveUp {
            last: Box::new(last),
            attempts,
            budget_spent,
        }),
        Err(last) => Err(last),
    }
}

/// Text a server sent, made safe to print: at most `limit` characters (then an ellipsis), and every
/// control character (an escape sequence could rewrite the terminal or forge a line of output)
/// or bidirectional override (which could make text read differently than it is) written as
/// an escape instead. Everything a server says goes through this before it reaches a message.
pub fn server_text(text: &str, limit: usize) -> String {
    let mut shown = String::with_capacity(text.len().min(limit + 8));
    for (count, c) in text.chars().enumerate() {
        if count == limit {
            shown.push('\u{2026}');
            break;
        }
        let invisible = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}');
        if c.is_control() || invisible {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// A server that echoes a request's credential (in an error body, say) must not make the tool
/// print it: every occurrence in what the server sent is blanked out before anyone reads it.
/// Secrets shorter than 8 bytes are not real keys, and blanking them would garble answers.
fn redact(bytes: &[u8], secret: &str) -> Vec<u8> {
    let needle = secret.as_bytes();
    if needle.len() < 8 || bytes.len() < needle.len() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(b"[redacted]");
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn header_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, std::time::SystemTime::now())
}

/// `Retry-After` is either whole seconds or an HTTP date.
fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Query strings can carry cursors but never secrets here; keeping only the path is simpler
/// and makes it impossible for a future query parameter to leak.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

fn classify(method: &Method, url: &str, policy: &Policy, error: reqwest::Error) -> HttpError {
    let (method, url) = (method.clone(), url.to_owned());
    if error.is_timeout() {
        let limit = if error.is_connect() {
            policy.connect_timeout
        } else {
            policy.request_timeout
        };
        return HttpError::Timeout {
            method,
            url,
            seconds: limit.as_secs_f64(),
        };
    }
    if error.is_connect() {
        return HttpError::Connect {
            method,
            url,
            detail: root_cause(&error),
        };
    }
    // A request that was sent but got no complete answer: reset, closed early, truncated.
    if error.is_request() || error.is_body() || error.is_decode() {
        return HttpError::Broken {
            method,
            url,
            detail: root_cause(&error),
        };
    }
    HttpError::Other {
        method,
        url,
        detail: root_cause(&error),
    }
}

/// reqwest's own message is generic ("error sending request"); the innermost cause says what
/// happened ("Connection refused").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_refuse_plain_http_off_this_machine() {
        assert!(Endpoint::parse("WORKOS_API_URL", "https://api.workos.com").is_ok());
        assert!(Endpoint::parse("WORKOS_API_URL", "http://127.0.0.1:4000").is_ok());
        assert!(Endpoint::parse("WORKOS_API_URL", "http://localhost:4000/").is_ok());
        assert!(Endpoint::parse("WORKOS_API_URL", "http://[::1]:4000").is_ok());
        let err = Endpoint::parse("WORKOS_API_URL", "http://api.example.com").unwrap_err();
        assert!(matches!(err, EndpointError::InsecureRemote { .. }));
        assert!(err.to_string().contains("WORKOS_API_URL"));
        let err = Endpoint::parse("CONVEX_PROVISION_HOST", "ftp://x").unwrap_err();
        assert!(err.to_string().contains("CONVEX_PROVISION_HOST"));
        assert!(Endpoint::parse("X", "not a url").is_err());
        assert!(Endpoint::parse("X", "https://user:pw@host").is_err());
    }

    #[test]
    fn endpoint_paths_join_under_the_base() {
        let e = Endpoint::parse("X", "http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(e.url("/a/b").as_str(), "http://127.0.0.1:9/prefix/a/b");
        let e = Endpoint::parse("X", "https://api.workos.com").unwrap();
        assert_eq!(e.url("/a").as_str(), "https://api.workos.com/a");
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
