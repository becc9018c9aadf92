//! Live progress while goose runs, and the timeline the HTML report draws.
//!
//! goose keeps its metrics to itself until the run ends, so the measured transactions also
//! record each outcome here: a few atomic adds per request (a lock-free log-linear latency
//! histogram, the same bucket scheme as goose's: 1/64 of a power of two, under 0.8% off). A
//! sampler reads it once a second into a [`Sample`] and prints a status line: on a terminal one
//! line rewritten in place, otherwise a plain line every few seconds.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Each power of two is split into 64 buckets; every time below 128 µs has its own.
const SUB_BITS: u32 = 6;
const EXACT: u64 = 1 << (SUB_BITS + 1);
/// Buckets for every u64 time: 128 exact, then 64 per power of two from 2^7 to 2^63.
const BUCKETS: usize = EXACT as usize + (64 - SUB_BITS as usize - 1) * 64;

fn width_bits(us: u64) -> u32 {
    if us < EXACT {
        0
    } else {
        63 - us.leading_zeros() - SUB_BITS
    }
}

/// The bucket holding `us`. Pure.
pub fn bucket_index(us: u64) -> usize {
    let bits = width_bits(us);
    if bits == 0 {
        us as usize
    } else {
        (EXACT + (bits as u64 - 1) * 64 + ((us >> bits) - 64)) as usize
    }
}

/// The time bucket `index` reports: its middle. Pure.
pub fn bucket_value(index: usize) -> u64 {
    let index = index as u64;
    if index < EXACT {
        index
    } else {
        let bits = (index - EXACT) / 64 + 1;
        let floor = ((index - EXACT) % 64 + 64) << bits;
        floor + ((1u64 << bits) >> 1)
    }
}

/// The `q` quantile (0..1) of bucket counts, in µs; 0 when empty. Pure.
pub fn quantile(counts: &[u64], q: f64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return bucket_value(i);
        }
    }
    0
}

/// What one checked transaction came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The target answered 429: it rate-limited the load.
    RateLimited,
    Failed,
}

impl Outcome {
    /// A checked answer's outcome: a 429 is the target refusing the load, apart from failures.
    pub fn of(status: u16, passed: bool) -> Outcome {
        if status == 429 {
            Outcome::RateLimited
        } else if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }
}

/// Counters the measured transactions feed.
pub struct LiveStats {
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    pub rate_limited: AtomicU64,
    pub users: AtomicUsize,
    buckets: Box<[AtomicU64]>,
}

impl Default for LiveStats {
    fn default() -> Self {
        LiveStats {
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            users: AtomicUsize::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl LiveStats {
    pub fn record(&self, micros: u64, outcome: Outcome) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.buckets[bucket_index(micros)].fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Passed => {}
            Outcome::RateLimited => {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }
}

/// One second of the run, as the charts draw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since goose started, at the end of this sample.
    pub t: f64,
    /// Wall-clock time at the end of this sample (Unix ms): merges align workers by it.
    pub at_unix_ms: i64,
    pub users: usize,
    pub requests_per_sec: f64,
    pub failures: u64,
    pub rate_limited: u64,
    /// Latency of this sample's requests, ms (0 without requests).
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// What the status line shows. Pure input to [`status_line`].
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub elapsed_secs: f64,
    /// Planned seconds, when the run is bounded in time.
    pub total_secs: Option<f64>,
    /// Requests done and planned, when bounded in iterations.
    pub planned_requests: Option<u64>,
    pub users: usize,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub failures: u64,
    pub rate_limited: u64,
    /// p95 of every request so far, ms.
    pub p95_ms: f64,
}

/// `[ 12/30 s]  8 users   4,512 req/s   0 failed   p95 1.84 ms so far`. Pure.
pub fn status_line(s: &Status) -> String {
    let progress = match (s.total_secs, s.planned_requests) {
        (Some(total), _) => format!("{:>4.0}/{:.0} s", s.elapsed_secs, total),
        (None, Some(planned)) => format!(
            "{:>4.0} s, {}/{} requests",
            s.elapsed_secs,
            thousands(s.requests),
            thousands(planned)
        ),
        (None, None) => format!("{:>4.0} s", s.elapsed_secs),
    };
    let mut line = format!(
        "[{progress}] {} users {:>9} req/s {:>6} failed",
        s.users,
        thousands(s.requests_per_sec.round() as u64),
        thousands(s.failures)
    );
    if s.rate_limited > 0 {
        line.push_str(&format!(
            " {} rate-limited (429)",
            thousands(s.rate_limited)
        ));
    }
    line.push_str(&format!("  p95 {:.2} ms so far", s.p95_ms));
    line
}

/// `12345` → `12,345`. Pure.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The sampler: once a second it reads the stats into a sample; it prints the status line
/// every second on a terminal (rewritten in place), every `every` otherwise.
pub struct Progress {
    samples: Arc<std::sync::Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
    tty: bool,
}

impl Progress {
    pub fn start(
        stats: Arc<LiveStats>,
        total_secs: Option<f64>,
        planned_requests: Option<u64>,
        every: Duration,
        tty: bool,
        quiet: bool,
    ) -> Progress {
        let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = samples.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut previous = stats.counts();
            let mut last = (0u64, 0u64, 0u64, started);
            let mut printed = started;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = Instant::now();
                let counts = stats.counts();
                let delta: Vec<u64> = counts
                    .iter()
                    .zip(&previous)
                    .map(|(a, b)| a.saturating_sub(*b))
                    .collect();
                let requests = stats.requests.load(Ordering::Relaxed);
                let failures = stats.failures.load(Ordering::Relaxed);
                let rate_limited = stats.rate_limited.load(Ordering::Relaxed);
                let secs = now.duration_since(last.3).as_secs_f64().max(1e-3);
                let rps = (requests - last.0) as f64 / secs;
                let ms = |us: u64| us as f64 / 1000.0;
                let sample = Sample {
                    t: now.duration_since(started).as_secs_f64(),
                    at_unix_ms: unix_ms(),
                    users: stats.users.load(Ordering::Relaxed),
                    requests_per_sec: rps,
                    failures: failures - last.1,
                    rate_limited: rate_limited - last.2,
                    p50_ms: ms(quantile(&delta, 0.50)),
                    p95_ms: ms(quantile(&delta, 0.95)),
                    p99_ms: ms(quantile(&delta, 0.99)),
                };
                let status = Status {
                    elapsed_secs: sample.t,
                    total_secs,
                    planned_requests,
                    users: sample.users,
                    requests,
                    requests_per_sec: rps,
                    failures,
                    rate_limited,
                    p95_ms: ms(quantile(&counts, 0.95)),
                };
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
                previous = counts;
                last = (requests, failures, rate_limited, now);
                if quiet {
                    continue;
                }
                let mut out = std::io::stdout().lock();
                if tty {
                    let _ = write!(out, "\r\x1b[2K{}", status_line(&status));
                    let _ = out.flush();
                } else if now.duration_since(printed) + Duration::from_millis(100) >= every {
                    printed = now;
                    let _ = writeln!(out, "{}", status_line(&status));
                }
            }
        });
        Progress { samples, task, tty }
    }

    /// Stops the sampler, ends the in-place line, and hands back the timeline.
    pub fn finish(self) -> Vec<Sample> {
        self.task.abort();
        if self.tty {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out);
            let _ = out.flush();
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_a_128th() {
        for us in [
            0u64,
            1,
            127,
            128,
            129,
            1000,
            12_345,
            1_000_000,
            60_000_000,
            u64::MAX / 2,
        ] {
            let i = bucket_index(us);
            assert!(i < BUCKETS, "{us}");
            let v = bucket_value(i);
            let off = (v as f64 - us as f64).abs() / (us.max(1) as f64);
            assert!(off <= 1.0 / 128.0 + 1e-9, "{us} -> {v}");
        }
        assert!(bucket_index(u64::MAX) < BUCKETS);
        // Never decreasing.
        let mut last = 0;
        for us in (0..200_000).step_by(7) {
            let i = bucket_index(us);
            assert!(i >= last);
            last = i;
        }
    }

    #[test]
    fn quantiles_of_counts() {
        let stats = LiveStats::default();
        for us in 1..=100u64 {
            stats.record(us, Outcome::Passed);
        }
        let counts = stats.counts();
        assert_eq!(quantile(&counts, 0.5), 50);
        assert_eq!(quantile(&counts, 0.95), 95);
        assert_eq!(quantile(&[], 0.95), 0);
    }

    #[test]
    fn outcomes_are_counted_apart() {
        let stats = LiveStats::default();
        stats.record(10, Outcome::Passed);
        stats.record(10, Outcome::RateLimited);
        stats.record(10, Outcome::Failed);
        assert_eq!(stats.requests.load(Ordering::Relaxed), 3);
        assert_eq!(stats.failures.load(Ordering::Relaxed), 1);
        assert_eq!(stats.rate_limited.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_status_line() {
        let mut s = Status {
            elapsed_secs: 12.2,
            total_secs: Some(30.0),
            planned_requests: None,
            users: 8,
            requests: 54_000,
            requests_per_sec: 4512.4,
            failures: 0,
            rate_limited: 0,
            p95_ms: 1.844,
        };
        assert_eq!(
            status_line(&s),
            "[  12/30 s] 8 users     4,512 req/s      0 failed  p95 1.84 ms so far"
        );
        s.rate_limited = 1200;
        s.total_secs = None;
        s.planned_requests = Some(100_000);
        let line = status_line(&s);
        assert!(line.contains("54,000/100,000 requests"), "{line}");
        assert!(line.contains("1,200 rate-limited (429)"), "{line}");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
