//! Faults the emulator injects on purpose, so that a client can be tried against a server and a
//! network that misbehave: error answers, connections reset with or without the request having
//! been carried out, answers that take far too long, and a latency added to every answer.
//!
//! A fault spec such as `429=0.2,500=0.1,reset=0.05,slow=0.1` gives, per request, the chance of
//! each fault; the rest of the time the request is served normally. Which request gets which
//! fault comes from a seeded generator, so the same seed gives the same faults to the same
//! requests in order of arrival. Requests that arrive concurrently may arrive in a different
//! order from one run to the next; a test that needs the exact sequence sends them one by one.
//!
//! Only the WorkOS and Convex routes are affected: the emulator's own `/_emulator/...`
//! endpoints are never faulted nor delayed, so a test can always look behind the faults.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

/// One thing that can go wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Answer with this status instead of serving the request: 429 (with `Retry-After`), 500,
    /// 502, 503 or 504.
    Status(u16),
    /// Reset the connection before the request is carried out: no answer at all.
    Reset,
    /// Carry the request out, then reset the connection instead of answering: the change is
    /// made, but the client never hears of it.
    Lost,
    /// Wait the slow delay (`Config::slow_delay`) before serving the request.
    Slow,
}

impl Fault {
    const STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
    const NAMES: &'static str = "429, 500, 502, 503, 504, reset, lost or slow";

    fn parse(name: &str) -> Option<Fault> {
        match name {
            "reset" => Some(Fault::Reset),
            "lost" => Some(Fault::Lost),
            "slow" => Some(Fault::Slow),
            _ => {
                let status = name.parse::<u16>().ok()?;
                Fault::STATUSES
                    .contains(&status)
                    .then_some(Fault::Status(status))
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(status) => write!(f, "{status}"),
            Fault::Reset => f.write_str("reset"),
            Fault::Lost => f.write_str("lost"),
            Fault::Slow => f.write_str("slow"),
        }
    }
}

/// A mix of faults, each with its probability per request. The default has none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    mix: Vec<(Fault, f64)>,
}

/// Why a fault spec was refused; the message names the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultsError(String);

impl Faults {
    pub fn is_empty(&self) -> bool {
        self.mix.iter().all(|(_, p)| *p == 0.0)
    }

    /// The probability given to `fault`, 0 when it is not in the mix.
    pub fn probability(&self, fault: Fault) -> f64 {
        self.mix
            .iter()
            .find(|(f, _)| *f == fault)
            .map_or(0.0, |(_, p)| *p)
    }

    /// The fault that a uniform draw in `[0, 1)` lands on, if any: the faults share the start of
    /// the interval in the order they were given, and the rest of it means no fault.
    fn pick(&self, draw: f64) -> Option<Fault> {
        let mut bound = 0.0;
        for &(fault, probability) in &self.mix {
            bound += probability;
            if draw < bound {
                return Some(fault);
            }
        }
        None
    }
}

impl FromStr for Faults {
    type Err = FaultsError;

    fn from_str(spec: &str) -> Result<Faults, FaultsError> {
        let mut mix: Vec<(Fault, f64)> = Vec::new();
        if spec.trim().is_empty() {
            return Ok(Faults { mix });
        }
        for part in spec.split(',') {
            let part = part.trim();
            let Some((name, probability)) = part.split_once('=') else {
                return Err(FaultsError(format!(
                    "`{part}` is not NAME=PROBABILITY (for example `429=0.2`)"
                )));
            };
            let (name, probability) = (name.trim(), probability.trim());
            let fault = Fault::parse(name).ok_or_else(|| {
                FaultsError(format!(
                    "`{part}`: unknown fault `{name}`; the faults are {}",
                    Fault::NAMES
                ))
            })?;
            let probability = probability
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    FaultsError(format!(
                        "`{part}`: the probability `{probability}` is not a number from 0 to 1"
                    ))
                })?;
            if mix.iter().any(|(f, _)| *f == fault) {
                return Err(FaultsError(format!("`{name}` is given twice")));
            }
            mix.push((fault, probability));
        }
        let total: f64 = mix.iter().map(|(_, p)| p).sum();
        // A little slack, so that `0.7,0.2,0.1` is not refused over a rounding error.
        if total > 1.0 + 1e-9 {
            return Err(FaultsError(format!(
                "the probabilities add up to {total}, more than 1"
            )));
        }
        Ok(Faults { mix })
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .mix
            .iter()
            .map(|(fault, probability)| format!("{fault}={probability}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): the `index`-th number of the stream for `seed`.
///
/// Written out here rather than taken from a crate: the emulator needs a reproducible stream of
/// well-mixed numbers, not secure ones, and owning these few lines means the faults a seed
/// gives can never change with a dependency upgrade. Each number depends only on the seed and
/// its index, so concurrent requests share nothing but an atomic counter.
fn splitmix64(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Decides, request by request, which fault (if any) to inject.
#[derive(Debug)]
pub(crate) struct Injector {
    faults: Faults,
    seed: u64,
    drawn: AtomicU64,
    pub(crate) latency: Duration,
    pub(crate) slow_delay: Duration,
}

impl Injector {
    pub(crate) fn new(faults: Faults, seed: u64, latency: Duration, slow_delay: Duration) -> Self {
        Injector {
            faults,
            seed,
            drawn: AtomicU64::new(0),
            latency,
            slow_delay,
        }
    }

    /// The fault for the next request. Without faults nothing is drawn.
    pub(crate) fn draw(&self) -> Option<Fault> {
        if self.faults.is_empty() {
            return None;
        }
        let index = self.drawn.fetch_add(1, Ordering::Relaxed);
        // The top 53 bits make a double in [0, 1) with every value equally likely.
        let unit = (splitmix64(self.seed, index) >> 11) as f64 / (1u64 << 53) as f64;
        self.faults.pick(unit)
    }
}

/// What the emulator has received, for tests that bound a client's requests: counts per
/// method and path, and per injected fault. Only WorkOS and Convex requests count.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<Counts>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Counts {
    /// Every request received, faulted or not.
    total: u64,
    /// Keyed by `METHOD /path`.
    requests: BTreeMap<String, u64>,
    /// Keyed by fault name (`429`, `reset`, ...).
    faults: BTreeMap<String, u64>,
}

impl Stats {
    pub(crate) fn request(&self, method: &str, path: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total += 1;
        *counts
            .requests
            .entry(format!("{method} {path}"))
            .or_default() += 1;
    }

    pub(crate) fn fault(&self, fault: Fault) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.faults.entry(fault.to_string()).or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Counts {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn clear(&self) {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner) = Counts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(spec: &str) -> String {
        spec.parse::<Faults>().unwrap_err().to_string()
    }

    #[test]
    fn specs_parse_and_print_back() {
        let faults: Faults = "429=0.2, 500=0.1,reset=0.05,lost=0,slow=0.1"
            .parse()
            .unwrap();
        assert_eq!(faults.probability(Fault::Status(429)), 0.2);
        assert_eq!(faults.probability(Fault::Reset), 0.05);
        assert_eq!(faults.probability(Fault::Status(503)), 0.0);
        assert_eq!(
            faults.to_string(),
            "429=0.2,500=0.1,reset=0.05,lost=0,slow=0.1"
        );
        assert!("".parse::<Faults>().unwrap().is_empty());
        assert!("500=0".parse::<Faults>().unwrap().is_empty());
        assert!("500=0.7,502=0.2,503=0.1".parse::<Faults>().is_ok());
    }

    #[test]
    fn bad_specs_name_the_part_at_fault() {
        assert!(error("429").contains("`429` is not NAME=PROBABILITY"));
        assert!(error("429=0.1,418=0.1").contains("unknown fault `418`"));
        assert!(error("reste=0.1").contains("`reste=0.1`"));
        assert!(error("500=x").contains("`500=x`: the probability `x`"));
        assert!(error("500=1.5").contains("not a number from 0 to 1"));
        assert!(error("500=-0.1").contains("not a number from 0 to 1"));
        assert!(error("500=NaN").contains("not a number from 0 to 1"));
        assert!(error("500=0.1,500=0.2").contains("`500` is given twice"));
        assert!(error("500=0.6,reset=0.6").contains("add up to 1.2"));
        assert!(error("500=0.1,,reset=0.1").contains("`` is not NAME=PROBABILITY"));
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let faults: Faults = "429=0.2,500=0.2,reset=0.2".parse().unwrap();
        let run = |seed| {
            let injector = Injector::new(faults.clone(), seed, Duration::ZERO, Duration::ZERO);
            (0..200).map(|_| injector.draw()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn faults_come_about_as_often_as_asked() {
        let faults: Faults = "429=0.2,reset=0.1".parse().unwrap();
        let injector = Injector::new(faults, 42, Duration::ZERO, Duration::ZERO);
        let draws: Vec<_> = (0..10_000).map(|_| injector.draw()).collect();
        let count = |fault| draws.iter().filter(|d| **d == Some(fault)).count();
        assert!((1800..2200).contains(&count(Fault::Status(429))));
        assert!((850..1150).contains(&count(Fault::Reset)));
        assert_eq!(count(Fault::Slow), 0);
    }

    #[test]
    fn splitmix_matches_its_reference_values() {
        // The first outputs for seed 1234567 of the reference implementation.
        assert_eq!(splitmix64(1234567, 0), 6457827717110365317);
        assert_eq!(splitmix64(1234567, 1), 3203168211198807973);
    }
}
