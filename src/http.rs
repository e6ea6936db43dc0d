//! The one HTTP client every outgoing request goes through.
//!
//! It owns the policies that must be the same for WorkOS and Convex alike: HTTPS for every
//! non-loopback endpoint, timeouts, retries with jittered exponential backoff that honour
//! `Retry-After`, bounded response bodies, request ids, and logs that never carry a header
//! value or a body.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};

use crate::state::Secret;

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

/// Timeouts and retry budget.
#[derive(Debug, Clone)]
pub struct Policy {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries after the first attempt, per request.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(60),
        }
    }
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
    #[error("{method} {url}: no answer within {seconds} s")]
    Timeout {
        method: Method,
        url: String,
        seconds: u64,
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
}

pub struct Client {
    inner: reqwest::Client,
    policy: Policy,
}

impl Client {
    pub fn new(policy: Policy) -> anyhow::Result<Client> {
        let inner = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .user_agent(concat!("authkit-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { inner, policy })
    }

    /// Sends a request, retrying connection failures, 429 and 5xx answers (except 501) with
    /// jittered exponential backoff. A `Retry-After` header longer than the backoff wins.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        auth: &Auth,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, HttpError> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter()
            .build();
        loop {
            let outcome = self.attempt(&method, &url, auth, body).await;
            let retry_after = match &outcome {
                Ok(response) if is_retryable(response.0.status) => {
                    Some(response_retry_after(response))
                }
                Ok(_) => None,
                Err(HttpError::Connect { .. } | HttpError::Timeout { .. }) => Some(None),
                Err(_) => None,
            };
            let Some(server_wait) = retry_after else {
                return outcome.map(|(response, _)| response);
            };
            let Some(backoff) = delays.next() else {
                return outcome.map(|(response, _)| response);
            };
            let wait = server_wait
                .map_or(backoff, |s| s.max(backoff))
                .min(self.policy.max_delay);
            tracing::debug!(method = %method, path = url.path(), wait_ms = wait.as_millis() as u64,
                "retrying");
            tokio::time::sleep(wait).await;
        }
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
        let mut response = request
            .send()
            .await
            .map_err(|e| classify(method, &shown_url, e))?;

        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| classify(method, &shown_url, e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge {
                    method: method.clone(),
                    url: shown_url,
                });
            }
            body.extend_from_slice(&chunk);
        }
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
                body,
            },
            headers,
        ))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn response_retry_after(response: &(Response, HeaderMap)) -> Option<Duration> {
    let value = response.1.get(RETRY_AFTER)?.to_str().ok()?;
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

fn classify(method: &Method, url: &str, error: reqwest::Error) -> HttpError {
    let (method, url) = (method.clone(), url.to_owned());
    if error.is_timeout() {
        return HttpError::Timeout {
            method,
            url,
            seconds: 30,
        };
    }
    if error.is_connect() || error.is_request() {
        return HttpError::Connect {
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
