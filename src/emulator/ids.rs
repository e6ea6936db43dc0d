//! Identifiers, timestamps and randomness for the emulator.
//!
//! WorkOS object ids look like `prefix_` followed by a 26-character ULID: 48 bits of
//! milliseconds since the Unix epoch and 80 random bits, written in Crockford's base 32. Because
//! the time comes first, sorting ids as strings sorts objects by creation time, which is what
//! the list endpoints rely on. Within one process a generator keeps every new id strictly
//! greater than the previous one, even when two objects are made in the same millisecond or the
//! clock steps back.
//!
//! Timestamps are ISO-8601 UTC strings with milliseconds, the format WorkOS sends. They are
//! computed from `SystemTime` by hand to keep the dependency list short.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Crockford's base-32 alphabet: digits and capitals without I, L, O and U. It is in ASCII
/// order, so comparing encoded strings compares the numbers.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in the encoded part of an id: 26 × 5 bits covers the 128-bit value.
const ENCODED_LEN: usize = 26;

/// The largest id value handed out so far in this process (time and randomness packed into one
/// number, as in the encoded form).
static LAST_ID: Mutex<u128> = Mutex::new(0);

/// Returns a new id such as `redirect_uri_01J9Z3...`, greater than every id made or observed
/// before in this process.
pub(crate) fn new_id(prefix: &str) -> String {
    let millis = u128::from(unix_millis(SystemTime::now()) & 0xFFFF_FFFF_FFFF);
    let mut random = [0u8; 10];
    fill_random(&mut random);
    let random = random
        .iter()
        .fold(0u128, |acc, byte| (acc << 8) | u128::from(*byte));
    let candidate = (millis << 80) | random;

    let mut last = LAST_ID.lock().unwrap_or_else(PoisonError::into_inner);
    // Within one millisecond (or after the clock stepped back) a fresh random value may be
    // smaller than the last id; counting up from the last id keeps the order strict. At the very
    // top of the range there is nothing left to count to, and the plain candidate is used.
    let value = if candidate > *last {
        candidate
    } else {
        last.checked_add(1).unwrap_or(candidate)
    };
    *last = value;
    drop(last);

    format!("{prefix}{}", encode(value))
}

/// Makes later ids sort after `id`, an id loaded from a state file. Ids whose tail is not a
/// ULID (hand-written ones) are ignored: they cannot be compared with generated ones anyway.
pub(crate) fn observe(id: &str) {
    let Some(tail) = id
        .len()
        .checked_sub(ENCODED_LEN)
        .and_then(|start| id.get(start..))
    else {
        return;
    };
    if let Some(value) = decode(tail) {
        let mut last = LAST_ID.lock().unwrap_or_else(PoisonError::into_inner);
        *last = (*last).max(value);
    }
}

/// Writes `value` as 26 Crockford base-32 digits, most significant first.
fn encode(value: u128) -> String {
    (0..ENCODED_LEN)
        .map(|index| {
            let shift = 5 * (ENCODED_LEN - 1 - index);
            char::from(ALPHABET[((value >> shift) & 31) as usize])
        })
        .collect()
}

/// Reads 26 Crockford base-32 digits back into a number; `None` if any character is outside the
/// alphabet or the value does not fit in 128 bits.
fn decode(text: &str) -> Option<u128> {
    if text.len() != ENCODED_LEN {
        return None;
    }
    text.bytes().try_fold(0u128, |acc, byte| {
        let digit = ALPHABET.iter().position(|candidate| *candidate == byte)?;
        // Shifting left by five would drop bits that are already set.
        if acc.leading_zeros() < 5 {
            return None;
        }
        Some((acc << 5) | digit as u128)
    })
}

/// A new secret such as an API key: `prefix` and 26 base-32 characters of 128 random bits.
/// Unlike an id it holds no time, so it neither sorts by creation nor tells when it was made.
pub(crate) fn new_secret(prefix: &str) -> String {
    let mut random = [0u8; 16];
    fill_random(&mut random);
    format!("{prefix}{}", encode(u128::from_be_bytes(random)))
}

/// A request id in the style WorkOS uses for its `X-Request-ID` header.
pub(crate) fn new_request_id() -> String {
    new_id("req_")
}

/// The current time as WorkOS writes it, e.g. `2026-12-03T15:54:14.123Z`.
pub(crate) fn timestamp_now() -> String {
    format_timestamp(SystemTime::now())
}

/// Formats `time` as ISO-8601 UTC with milliseconds. Times before 1970 are clamped to the epoch:
/// they only occur with a badly broken clock, and an emulator must not fail on that.
pub(crate) fn format_timestamp(time: SystemTime) -> String {
    let millis = unix_millis(time);
    let seconds_of_day = (millis / 1000) % 86_400;
    let (year, month, day) = civil_from_days(millis / 86_400_000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds_of_day / 3600,
        (seconds_of_day / 60) % 60,
        seconds_of_day % 60,
        millis % 1000
    )
}

fn unix_millis(time: SystemTime) -> u64 {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// Converts a count of days since 1970-01-01 into a proleptic Gregorian (year, month, day).
///
/// The calendar is treated as 400-year eras of 146,097 days that start on 1 March, so that the
/// leap day falls at the end of each year and month lengths follow a fixed pattern; the result
/// is then shifted back to years that start in January.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Days from 0000-03-01 to 1970-01-01.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March ... 11 = February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Fills `buffer` from the operating system's random source.
///
/// If that source fails (it practically never does on the systems we run on), a generator
/// seeded from the clock and a counter is used instead: ids need to be unique and unguessable
/// enough for a local test double, not secret, and an emulator that refuses to answer would be
/// worse.
fn fill_random(buffer: &mut [u8]) {
    if getrandom::fill(buffer).is_ok() {
        return;
    }
    static FALLBACK_COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0);
    let mut state = nanos
        ^ FALLBACK_COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .rotate_left(32);
    for chunk in buffer.chunks_mut(8) {
        // SplitMix64: a small mixer whose output is well spread for consecutive seeds.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^= mixed >> 31;
        let bytes = mixed.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_known_dates() {
        let at = |millis: u64| format_timestamp(UNIX_EPOCH + Duration::from_millis(millis));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(at(1_796_313_254_123), "2026-12-03T15:54:14.123Z");
        assert_eq!(at(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn ids_have_the_prefix_and_26_crockford_characters() {
        let id = new_id("cors_origin_");
        let tail = id.strip_prefix("cors_origin_").expect("prefix kept");
        assert_eq!(tail.len(), 26);
        assert!(tail.bytes().all(|byte| ALPHABET.contains(&byte)));
    }

    #[test]
    fn secrets_have_the_prefix_and_differ() {
        let first = new_secret("sk_test_");
        let second = new_secret("sk_test_");
        assert_ne!(first, second);
        let tail = first.strip_prefix("sk_test_").expect("prefix kept");
        assert_eq!(tail.len(), 26);
        assert!(tail.bytes().all(|byte| ALPHABET.contains(&byte)));
    }

    #[test]
    fn ids_strictly_increase() {
        let ids: Vec<String> = (0..500).map(|_| new_id("x_")).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn encoding_round_trips_and_rejects_garbage() {
        for value in [0, 1, 12_345_678_901_234_567_890, u128::MAX] {
            assert_eq!(decode(&encode(value)), Some(value));
        }
        assert_eq!(decode("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), None);
        assert_eq!(decode("0000000000000000000000000I"), None);
        assert_eq!(decode("short"), None);
    }

    #[test]
    fn observed_ids_push_new_ids_past_them() {
        // One day ahead: far enough to beat the clock, near enough to leave other tests' ids
        // looking like ordinary ones.
        let tomorrow = unix_millis(SystemTime::now()) + 86_400_000;
        let future = format!("x_{}", encode((u128::from(tomorrow) << 80) | 7));
        observe(&future);
        assert!(new_id("x_") > future);
        observe("not-an-id");
        observe("");
    }
}
