//! Per-API-key rate limiting, as WorkOS applies it: a fixed number of requests per window.
//!
//! A fixed window (it opens with a key's first request and lasts 60 seconds) is the simplest
//! scheme that produces the headers clients see from WorkOS: a limit, what remains of it, and
//! when the window resets. Counters live only in memory; a restarted emulator starts afresh.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// WorkOS's general limit: 6,000 requests per minute per API key.
pub(crate) const DEFAULT_LIMIT: u32 = 6000;
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// What the limiter decided for one request, and the numbers for the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window resets, rounded up so a client that waits this long is
    /// never early.
    pub reset_after_secs: u64,
}

#[derive(Debug)]
struct Window {
    opened: Instant,
    used: u32,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` if the key has budget left in its current window.
    /// Refused requests are not counted. Only keys that passed authentication reach this, so
    /// the map stays as small as the set of known keys.
    pub(crate) fn check(&self, key: &str) -> Verdict {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(key.to_owned()).or_insert(Window {
            opened: now,
            used: 0,
        });
        if now.duration_since(window.opened) >= WINDOW {
            *window = Window {
                opened: now,
                used: 0,
            };
        }
        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.opened));
        Verdict {
            allowed,
            limit: self.limit,
            remaining: self.limit - window.used,
            reset_after_secs: ceil_secs(left).max(1),
        }
    }

    /// The numbers to report on a response that no key is charged for (unauthenticated
    /// requests and the emulator's own control endpoints): a full, untouched window.
    pub(crate) fn unmetered(&self) -> Verdict {
        Verdict {
            allowed: true,
            limit: self.limit,
            remaining: self.limit,
            reset_after_secs: WINDOW.as_secs(),
        }
    }

    /// Forgets every window, as after a restart.
    pub(crate) fn clear(&self) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_without_counting() {
        let limiter = RateLimiter::new(2);
        let first = limiter.check("k");
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining), (2, 1));
        assert!((1..=60).contains(&first.reset_after_secs));
        assert_eq!(limiter.check("k").remaining, 0);
        let refused = limiter.check("k");
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(limiter.check("other").allowed);
        limiter.clear();
        assert!(limiter.check("k").allowed);
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let limiter = RateLimiter::new(0);
        assert!(!limiter.check("k").allowed);
    }
}
