//! Pass/fail for a load run. goose's `execute()` returns Ok even when every request failed, so
//! the exit code comes from here: the thresholds against the figures of the run.

use serde::{Deserialize, Serialize};

/// The limits a run must stay within.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// 95th percentile of the measured request, in milliseconds.
    pub max_p95_ms: Option<f64>,
    /// Failed requests over all requests (0.0 to 1.0).
    pub max_error_rate: Option<f64>,
}

/// The figures a verdict is made from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// HTTP requests made in the measured part of the run.
    pub requests: u64,
    /// Of those, how many failed (a status other than the one expected, a transport error, or
    /// an answer that failed its protocol check), 429s apart.
    pub failures: u64,
    /// Of those, how many the target answered 429 (it rate-limited the load). They count in the
    /// error rate (none of them was checked) but are reported on their own line.
    #[serde(default)]
    pub rate_limited: u64,
    /// 95th percentile of the scenario's measured request, in milliseconds.
    pub p95_ms: f64,
}

impl Observed {
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            (self.failures + self.rate_limited) as f64 / self.requests as f64
        }
    }
}

/// One limit, judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// `p95` or `error-rate` (or `requests`, the implicit "something was measured").
    pub metric: String,
    pub limit: String,
    pub observed: String,
    pub passed: bool,
    /// One line for the console and the reports, with the figure that missed.
    pub message: String,
}

/// Judges `observed` against `thresholds`. A run that measured no request at all fails
/// whatever the thresholds: it has shown nothing.
pub fn evaluate(thresholds: &Thresholds, observed: &Observed, request: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    if observed.requests == 0 {
        checks.push(Check {
            metric: "requests".into(),
            limit: "at least 1".into(),
            observed: "0".into(),
            passed: false,
            message: format!("no {request} request was measured: the run showed nothing"),
        });
    }
    if let Some(limit) = thresholds.max_error_rate {
        let rate = observed.error_rate();
        let passed = observed.requests > 0 && rate <= limit;
        let failed = if observed.rate_limited > 0 {
            format!(
                "{} failed and {} rate-limited (429) of {} requests",
                observed.failures, observed.rate_limited, observed.requests
            )
        } else {
            format!(
                "{} of {} requests failed",
                observed.failures, observed.requests
            )
        };
        checks.push(Check {
            metric: "error-rate".into(),
            limit: percent(limit),
            observed: percent(rate),
            passed,
            message: format!(
                "error rate {} ({failed}) {} --max-error-rate {}",
                percent(rate),
                if passed { "within" } else { "over" },
                percent(limit)
            ),
        });
    }
    if let Some(limit) = thresholds.max_p95_ms {
        let passed = observed.requests > 0 && observed.p95_ms <= limit;
        checks.push(Check {
            metric: "p95".into(),
            limit: format!("{limit} ms"),
            observed: format!("{:.3} ms", observed.p95_ms),
            passed,
            message: format!(
                "p95 of {request} {:.3} ms {} --max-p95-ms {limit}",
                observed.p95_ms,
                if passed { "within" } else { "over" },
            ),
        });
    }
    checks
}

/// Whether every check passed.
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.passed)
}

/// `0.0123` → `1.23%`; small rates keep enough digits to be non-zero when they are.
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p == 0.0 || p >= 0.01 {
        format!("{p:.2}%")
    } else {
        format!("{p:.4}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = "GET /api/auth/get-session";

    fn limits(max_p95_ms: Option<f64>, max_error_rate: Option<f64>) -> Thresholds {
        Thresholds {
            max_p95_ms,
            max_error_rate,
        }
    }

    fn observed(requests: u64, failures: u64, p95_ms: f64) -> Observed {
        Observed {
            requests,
            failures,
            rate_limited: 0,
            p95_ms,
        }
    }

    #[test]
    fn rate_limited_answers_count_in_the_error_rate_and_are_named() {
        let t = limits(None, Some(0.01));
        let o = Observed {
            requests: 100,
            failures: 1,
            rate_limited: 9,
            p95_ms: 1.0,
        };
        let checks = evaluate(&t, &o, GET);
        assert!(!passed(&checks));
        assert!(
            checks[0]
                .message
                .contains("1 failed and 9 rate-limited (429) of 100"),
            "{}",
            checks[0].message
        );
        assert!(checks[0].message.contains("10.00%"));
    }

    #[test]
    fn within_limits_passes() {
        let t = limits(Some(50.0), Some(0.01));
        let checks = evaluate(&t, &observed(1000, 10, 49.9), GET);
        assert_eq!(checks.len(), 2);
        assert!(passed(&checks), "{checks:?}");
    }

    #[test]
    fn a_miss_names_the_figure() {
        let t = limits(Some(50.0), Some(0.0));
        let checks = evaluate(&t, &observed(1000, 1, 50.5), GET);
        assert!(!passed(&checks));
        let rate = checks.iter().find(|c| c.metric == "error-rate").unwrap();
        assert!(!rate.passed);
        assert!(rate.message.contains("0.10%"), "{}", rate.message);
        assert!(rate.message.contains("1 of 1000"), "{}", rate.message);
        let p95 = checks.iter().find(|c| c.metric == "p95").unwrap();
        assert!(!p95.passed);
        assert!(p95.message.contains("50.500 ms"), "{}", p95.message);
        assert!(p95.message.contains(GET));
    }

    #[test]
    fn the_limit_itself_passes() {
        let t = limits(Some(10.0), Some(0.5));
        assert!(passed(&evaluate(&t, &observed(10, 5, 10.0), GET)));
    }

    #[test]
    fn every_request_failed_fails_an_error_rate_of_zero() {
        let t = limits(None, Some(0.0));
        assert!(!passed(&evaluate(&t, &observed(500, 500, 1.0), GET)));
    }

    #[test]
    fn nothing_measured_fails_even_without_thresholds() {
        let checks = evaluate(&Thresholds::default(), &observed(0, 0, 0.0), GET);
        assert_eq!(checks.len(), 1);
        assert!(!passed(&checks));
        // With no thresholds and something measured, there is nothing to fail.
        assert!(passed(&evaluate(
            &Thresholds::default(),
            &observed(3, 3, 9.0),
            GET
        )));
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(0.0123), "1.23%");
        assert_eq!(percent(0.000_01), "0.0010%");
        assert_eq!(percent(1.0), "100.00%");
    }
}
