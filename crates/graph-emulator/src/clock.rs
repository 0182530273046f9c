//! Time and randomness as parameters, so tests can be deterministic (house rule 7).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// Where the emulator reads the current time from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to, for unit tests of time windows.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Generates object ids, request ids and token material from a seed (SplitMix64), so a run
/// started with `--seed` hands out the same ids in the same order every time.
#[derive(Debug)]
pub struct IdGenerator(AtomicU64);

impl IdGenerator {
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    /// A seed that differs between runs, for when the user gave none.
    pub fn entropy_seed() -> u64 {
        let nanos = Timestamp::now().as_nanosecond() as u64;
        nanos ^ (u64::from(std::process::id()) << 32)
    }

    pub fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A random (version 4 shaped) GUID in Graph's lower-case form.
    pub fn guid(&self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi.to_be_bytes());
        b[8..].copy_from_slice(&lo.to_be_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub fn bytes(&self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// Formats a timestamp the way Graph's `innerError.date` does: no zone suffix, seconds.
pub fn inner_error_date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Formats a timestamp as Graph returns `Edm.DateTimeOffset` values: `2021-09-21T07:09:14Z`.
pub fn graph_datetime(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_guids() {
        let a = IdGenerator::new(7);
        let b = IdGenerator::new(7);
        assert_eq!(a.guid(), b.guid());
        let g = a.guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }
}
