//! Client-side pacing from the rate-limit headers WorkOS sends (`x-ratelimit-remaining`,
//! `x-ratelimit-reset`) and from 429 answers, per credential.
//!
//! A run sends requests for several resources at once, all with the same API key, and the
//! server counts them together. Waiting only in the request that got a 429 would let the
//! others keep hammering the spent budget, so the window lives here, shared by every request
//! of the run that uses the same credential: once the server says nothing remains, every one
//! of them waits for the reset. Each request also counts itself down before it is sent, so a
//! burst cannot overrun a small remainder between two answers.
//!
//! Credentials are told apart by a SHA-256 of the secret, never by the secret itself, so that
//! neither a memory dump nor a debug print of this table can reveal a key.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use sha2::{Digest as _, Sha256};

/// Which credential a request uses, as a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct CredentialId([u8; 32]);

impl CredentialId {
    pub(super) fn of(scheme: &str, secret: &str) -> CredentialId {
        let mut hasher = Sha256::new();
        hasher.update(scheme.as_bytes());
        hasher.update([0]);
        hasher.update(secret.as_bytes());
        CredentialId(hasher.finalize().into())
    }
}

/// What is known of one credential's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    remaining: u64,
    resets_at: Instant,
}

/// The shared windows of every credential a run has used.
#[derive(Debug)]
pub(super) struct Pacer {
    windows: Mutex<HashMap<CredentialId, Window>>,
    /// The longest a server can make requests wait: a reset announced further away is treated
    /// as this far away, so a wrong or hostile header cannot stall a run.
    longest_wait: Duration,
}

/// A `x-ratelimit-reset` this large is a Unix time rather than a number of seconds to wait.
const UNIX_TIME_THRESHOLD: u64 = 1_000_000_000;

impl Pacer {
    pub(super) fn new(longest_wait: Duration) -> Pacer {
        Pacer {
            windows: Mutex::new(HashMap::new()),
            longest_wait,
        }
    }

    /// Waits until a request with `credential` may be sent, and counts it.
    pub(super) async fn admit(&self, credential: CredentialId) {
        loop {
            let pause = {
                let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(window) = windows.get_mut(&credential) else {
                    return;
                };
                let now = Instant::now();
                if now >= window.resets_at {
                    // A new window: unknown until the next answer says otherwise.
                    windows.remove(&credential);
                    return;
                }
                if window.remaining > 0 {
                    window.remaining -= 1;
                    return;
                }
                window.resets_at - now
            };
            tracing::debug!(
                wait_ms = pause.as_millis() as u64,
                "the rate limit of this credential is spent; waiting for its reset"
            );
            tokio::time::sleep(pause).await;
        }
    }

    /// Learns from an answer: the headers of the current window, or a 429's `Retry-After`.
    pub(super) fn observe(
        &self,
        credential: CredentialId,
        status: StatusCode,
        headers: &HeaderMap,
        retry_after: Option<Duration>,
    ) {
        let now = Instant::now();
        let number = |name: &str| -> Option<u64> {
            headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok()
        };
        let announced = match (number("x-ratelimit-remaining"), number("x-ratelimit-reset")) {
            (Some(remaining), Some(reset)) => Some((remaining, reset_delay(reset))),
            _ => None,
        };
        let refused = (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
            let wait = retry_after
                .or(announced.map(|(_, delay)| delay))
                .unwrap_or(Duration::from_secs(1));
            (0, wait)
        });
        let Some((remaining, delay)) = refused.or(announced) else {
            return;
        };
        let resets_at = now + delay.min(self.longest_wait);

        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(credential).or_insert(Window {
            remaining,
            resets_at,
        });
        let same_window =
            window.resets_at > now && resets_at <= window.resets_at + Duration::from_secs(1);
        if same_window {
            // Answers come back out of order, and requests counted here may not have reached
            // the server yet: the lower count is the safe one.
            window.remaining = window.remaining.min(remaining);
            window.resets_at = window.resets_at.max(resets_at);
        } else {
            *window = Window {
                remaining,
                resets_at,
            };
        }
    }
}

/// How long until a reset announced as `value`: seconds from now, or a Unix time.
fn reset_delay(value: u64) -> Duration {
    if value < UNIX_TIME_THRESHOLD {
        return Duration::from_secs(value);
    }
    let at = UNIX_EPOCH + Duration::from_secs(value);
    at.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(remaining: &str, reset: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-ratelimit-remaining", remaining.parse().unwrap());
        map.insert("x-ratelimit-reset", reset.parse().unwrap());
        map
    }

    #[test]
    fn credentials_are_told_apart_by_hash() {
        let a = CredentialId::of("Bearer", "sk_test_a");
        assert_eq!(a, CredentialId::of("Bearer", "sk_test_a"));
        assert_ne!(a, CredentialId::of("Bearer", "sk_test_b"));
        assert_ne!(a, CredentialId::of("Convex", "sk_test_a"));
        assert!(!format!("{a:?}").contains("sk_test"));
    }

    #[tokio::test]
    async fn a_spent_window_holds_every_request_of_its_credential_until_the_reset() {
        let pacer = Pacer::new(Duration::from_secs(60));
        let key = CredentialId::of("Bearer", "k");
        let other = CredentialId::of("Bearer", "other");
        pacer.observe(key, StatusCode::OK, &headers("1", "1"), None);

        let started = Instant::now();
        pacer.admit(key).await;
        pacer.admit(other).await;
        assert!(started.elapsed() < Duration::from_millis(200));
        pacer.admit(key).await;
        assert!(started.elapsed() >= Duration::from_millis(900));
    }

    #[tokio::test]
    async fn a_429_pauses_the_credential_for_its_retry_after_at_most_the_longest_wait() {
        let pacer = Pacer::new(Duration::from_millis(300));
        let key = CredentialId::of("Bearer", "k");
        let retry_after = Some(Duration::from_secs(3600));
        pacer.observe(
            key,
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            retry_after,
        );
        let started = Instant::now();
        pacer.admit(key).await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }

    #[test]
    fn answers_out_of_order_keep_the_lower_count() {
        let pacer = Pacer::new(Duration::from_secs(60));
        let key = CredentialId::of("Bearer", "k");
        pacer.observe(key, StatusCode::OK, &headers("5", "30"), None);
        pacer.observe(key, StatusCode::OK, &headers("9", "30"), None);
        let windows = pacer.windows.lock().unwrap();
        assert_eq!(windows[&key].remaining, 5);
    }

    #[test]
    fn resets_are_seconds_or_unix_times() {
        assert_eq!(reset_delay(7), Duration::from_secs(7));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let delay = reset_delay(now + 10);
        assert!(delay <= Duration::from_secs(10) && delay >= Duration::from_secs(8));
        assert_eq!(reset_delay(now - 10), Duration::ZERO);
    }
}
