//! The sign-in phase: every virtual user signs up (or, with `--users-file`, only in) before the
//! measured part starts. A deployment limits those endpoints (Better Auth: a few requests per
//! 10 s per client on /sign-in and /sign-up), so setup is paced at `--sign-in-rate` and, when the
//! target still answers 429, waits out its Retry-After and halves the pace. The phase is
//! reported on its own: how long it took, how many users, how many 429s it waited out.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The slowest pace the backoff goes down to: one sign-in request every 20 s.
pub const SLOWEST_RATE: f64 = 0.05;
/// The longest single wait a 429 gets, whatever its Retry-After says.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// A 429 without a usable Retry-After waits this long.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// 429s one request may wait out before setup gives up on that user.
pub const MAX_RATE_LIMITED_RETRIES: u32 = 6;

/// Seconds from a `Retry-After` (RFC 9110: delay-seconds; the HTTP-date form is not used by
/// auth servers and reads as absent) or Better Auth's `X-Retry-After`. Pure.
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(LONGEST_WAIT))
}

/// Spaces sign-in requests `1 / rate` seconds apart across all virtual users; no rate, no
/// spacing.
pub struct Pacer {
    state: Mutex<PacerState>,
}

struct PacerState {
    rate: Option<f64>,
    next: Instant,
}

impl Pacer {
    pub fn new(rate: Option<f64>) -> Self {
        Pacer {
            state: Mutex::new(PacerState {
                rate,
                next: Instant::now(),
            }),
        }
    }

    /// Waits for this request's turn.
    pub async fn turn(&self) {
        let at = {
            let mut state = self.state.lock().await;
            let Some(rate) = state.rate else {
                return;
            };
            let now = Instant::now();
            let at = state.next.max(now);
            state.next = at + Duration::from_secs_f64(1.0 / rate);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// After a 429: nobody sends before `wait` is over, and the pace halves (an unpaced setup
    /// starts pacing at 1/s).
    pub async fn back_off(&self, wait: Duration) {
        let mut state = self.state.lock().await;
        state.rate = Some(slower(state.rate));
        state.next = state.next.max(Instant::now() + wait);
    }

    pub async fn rate(&self) -> Option<f64> {
        self.state.lock().await.rate
    }
}

/// The pace after a 429. Pure.
pub fn slower(rate: Option<f64>) -> f64 {
    match rate {
        Some(r) => (r / 2.0).max(SLOWEST_RATE),
        None => 1.0,
    }
}

/// What the sign-in phase did, for the console and the reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInPhase {
    /// Virtual users signed in and ready.
    pub users_ready: usize,
    /// Users that could not be signed in.
    pub users_failed: usize,
    pub secs: f64,
    /// "sign-up and sign-in" (fresh accounts) or "sign-in (--users-file)".
    pub how: String,
    /// The pace asked for (requests/s), none for unpaced.
    pub rate: Option<f64>,
    /// The pace at the end, after any backoff.
    pub final_rate: Option<f64>,
    /// 429 answers the phase waited out, and for how long in total.
    pub rate_limited_answers: u64,
    pub rate_limited_wait_secs: f64,
}

impl SignInPhase {
    /// One line: `sign-in phase: 8 users ready in 1.2 s (sign-up and sign-in, paced at 10/s; …)`.
    pub fn line(&self) -> String {
        let pace = match (self.rate, self.final_rate) {
            (None, None) => "unpaced".to_string(),
            (Some(r), Some(f)) if (r - f).abs() < 1e-9 => format!("paced at {r}/s"),
            (r, f) => format!(
                "paced at {}, slowed to {}/s by 429s",
                r.map(|r| format!("{r}/s"))
                    .unwrap_or_else(|| "no limit".into()),
                f.unwrap_or(0.0)
            ),
        };
        let mut line = format!(
            "sign-in phase: {} users ready in {:.1} s ({}, {pace}",
            self.users_ready, self.secs, self.how
        );
        if self.rate_limited_answers > 0 {
            line.push_str(&format!(
                "; the target answered 429 {} times, {:.1} s waited out",
                self.rate_limited_answers, self.rate_limited_wait_secs
            ));
        }
        if self.users_failed > 0 {
            line.push_str(&format!("; {} users failed", self.users_failed));
        }
        line.push_str("; not measured)");
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_capped_and_bad_values_absent() {
        assert_eq!(retry_after(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some(" 0.5 ")), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(Some("3600")), Some(LONGEST_WAIT));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2026 07:28:00 GMT")), None);
        assert_eq!(retry_after(Some("-1")), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn backoff_halves_down_to_the_floor() {
        assert_eq!(slower(None), 1.0);
        assert_eq!(slower(Some(10.0)), 5.0);
        assert_eq!(slower(Some(0.06)), SLOWEST_RATE);
    }

    #[tokio::test]
    async fn the_pacer_spaces_turns() {
        let pacer = Pacer::new(Some(40.0));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.turn().await;
        }
        // Turns at 0, 25, 50, 75, 100 ms.
        assert!(start.elapsed() >= Duration::from_millis(100));
        pacer.back_off(Duration::from_millis(200)).await;
        assert_eq!(pacer.rate().await, Some(20.0));
        let before = Instant::now();
        pacer.turn().await;
        assert!(before.elapsed() >= Duration::from_millis(190));
    }

    #[test]
    fn the_phase_line_says_what_happened() {
        let phase = SignInPhase {
            users_ready: 8,
            users_failed: 0,
            secs: 2.04,
            how: "sign-up and sign-in".into(),
            rate: Some(10.0),
            final_rate: Some(5.0),
            rate_limited_answers: 2,
            rate_limited_wait_secs: 4.0,
        };
        let line = phase.line();
        assert!(
            line.starts_with("sign-in phase: 8 users ready in 2.0 s"),
            "{line}"
        );
        assert!(line.contains("slowed to 5/s"), "{line}");
        assert!(line.contains("429 2 times"), "{line}");
    }
}
