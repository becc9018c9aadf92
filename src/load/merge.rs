//! `ba-harness load merge REPORTS...`: one report from the JSON reports of several workers
//! (`load --worker INDEX/COUNT`). Totals are sums; percentiles come from the merged latency
//! histograms (bucket counts added), never from averaging the workers' percentiles; the
//! thresholds are judged again on the merged figures. Reports that cannot describe one run
//! are refused: other scenarios or targets, a worker twice or missing, measured windows that
//! do not overlap. The merge itself is pure ([`merge`]); only [`run`] reads and writes files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use goose::metrics::{GooseRequestMetricTimingData, TimeBuckets};
use serde_json::Value;

use crate::error::{EXIT_FAILED, EXIT_OK, HarnessError};

use super::live::Sample;
use super::report::{ErrorRow, Histograms, ReportPaths, Row, Summary, Tally, WorkerLine};
use super::threshold::{self, Thresholds};

/// Arguments of `ba-harness load merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The workers' JSON reports (`load --worker I/N --report worker-I.json`).
    #[arg(required = true, value_name = "REPORTS")]
    pub reports: Vec<PathBuf>,

    #[command(flatten)]
    pub verdict: super::VerdictArgs,
}

/// The earliest and the latest of one edge (start or end) of the workers' measured windows;
/// 0 for no reports.
fn spread(parts: &[(String, Summary)], edge: fn(&Summary) -> i64) -> (i64, i64) {
    let edges = || parts.iter().map(|(_, s)| edge(s));
    (edges().min().unwrap_or(0), edges().max().unwrap_or(0))
}

/// Histograms added: bucket counts summed, extremes and totals combined. Pure.
pub fn merge_timing<'a>(
    parts: impl IntoIterator<Item = &'a GooseRequestMetricTimingData>,
) -> GooseRequestMetricTimingData {
    let mut buckets: BTreeMap<u64, usize> = BTreeMap::new();
    let mut merged = GooseRequestMetricTimingData::default();
    for part in parts {
        for (bucket, count) in part.times_us.iter() {
            *buckets.entry(*bucket).or_default() += count;
        }
        if part.counter > 0
            && (merged.counter == 0 || part.minimum_time_us < merged.minimum_time_us)
        {
            merged.minimum_time_us = part.minimum_time_us;
        }
        merged.maximum_time_us = merged.maximum_time_us.max(part.maximum_time_us);
        merged.total_time_us += part.total_time_us;
        merged.counter += part.counter;
    }
    merged.times_us = buckets.into_iter().collect::<TimeBuckets>();
    merged
}

fn utc(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix_ms.to_string())
}

fn worker_name(s: &Summary, file: &str) -> String {
    match &s.worker {
        Some(w) => format!("{}/{}", w.index, w.count),
        None => file.to_string(),
    }
}

/// Merges the workers' summaries (each with the file it came from). `thresholds`: limits to
/// judge instead of the workers' own. Pure.
pub fn merge(
    parts: &[(String, Summary)],
    thresholds: Option<Thresholds>,
) -> Result<Summary, String> {
    let Some((_, first)) = parts.first() else {
        return Err("no report to merge".into());
    };
    for (file, s) in parts {
        for (what, mine, theirs) in [
            ("scenario", &s.scenario, &first.scenario),
            ("target", &s.target, &first.target),
            (
                "coordinated-omission mitigation",
                &s.co_mitigation,
                &first.co_mitigation,
            ),
            (
                "measured request",
                &s.measured_request,
                &first.measured_request,
            ),
        ] {
            if mine != theirs {
                return Err(format!(
                    "{file} is another run: its {what} is {mine}, not {theirs} as in {}",
                    parts[0].0
                ));
            }
        }
        if s.merged_from > 1 {
            return Err(format!(
                "{file} is already a merge; merge the workers' own reports"
            ));
        }
        if s.window_start_unix_ms <= 0 || s.window_end_unix_ms <= s.window_start_unix_ms {
            return Err(format!("{file} has no measured window to align"));
        }
    }
    // Workers: each once, all of them.
    let counts: Vec<u64> = parts
        .iter()
        .filter_map(|(_, s)| s.worker.map(|w| w.count))
        .collect();
    if !counts.is_empty() {
        if counts.len() != parts.len() || counts.iter().any(|c| *c != counts[0]) {
            return Err(
                "the reports are not the workers of one run: give every report of one --worker I/N set"
                    .into(),
            );
        }
        let mut seen = BTreeMap::new();
        for (file, s) in parts {
            let index = s.worker.map(|w| w.index).unwrap_or_default();
            if let Some(other) = seen.insert(index, file) {
                return Err(format!(
                    "worker {index}/{} appears twice: {other} and {file}",
                    counts[0]
                ));
            }
        }
        let missing: Vec<String> = (0..counts[0])
            .filter(|i| !seen.contains_key(i))
            .map(|i| format!("{i}/{}", counts[0]))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "worker {} missing: the totals would not be the run's",
                missing.join(", ")
            ));
        }
    }
    // The measured windows must overlap, or the figures are of different moments.
    let (window_start, start) = spread(parts, |s| s.window_start_unix_ms);
    let (end, window_end) = spread(parts, |s| s.window_end_unix_ms);
    if end <= start {
        let late = parts
            .iter()
            .max_by_key(|(_, s)| s.window_start_unix_ms)
            .map(|(f, _)| f.as_str())
            .unwrap_or_default();
        let early = parts
            .iter()
            .min_by_key(|(_, s)| s.window_end_unix_ms)
            .map(|(f, _)| f.as_str())
            .unwrap_or_default();
        return Err(format!(
            "the measured windows do not overlap: {early} ended at {} before {late} started at {}; start every worker with the same --start-at",
            utc(end),
            utc(start)
        ));
    }
    let thresholds = match thresholds {
        Some(t) => t,
        None => {
            if parts.iter().any(|(_, s)| s.thresholds != first.thresholds) {
                return Err(
                    "the workers were judged against different thresholds: give --max-p95-ms and --max-error-rate to the merge"
                        .into(),
                );
            }
            first.thresholds
        }
    };

    // Rows: sums, and percentiles from the merged histograms.
    let mut names: Vec<String> = Vec::new();
    for (_, s) in parts {
        for r in &s.rows {
            if !names.contains(&r.request) {
                names.push(r.request.clone());
            }
        }
    }
    let mut rows = Vec::new();
    let mut histograms = BTreeMap::new();
    let mut main_p95 = None;
    for name in names {
        let same: Vec<&Row> = parts
            .iter()
            .filter_map(|(_, s)| s.rows.iter().find(|r| r.request == name))
            .collect();
        let raw = merge_timing(
            parts
                .iter()
                .filter_map(|(_, s)| s.histograms.get(&name).map(|h| &h.raw)),
        );
        let co_parts: Vec<&GooseRequestMetricTimingData> = parts
            .iter()
            .filter_map(|(_, s)| {
                s.histograms
                    .get(&name)
                    .and_then(|h| h.co_mitigated.as_ref())
            })
            .collect();
        let timing = Histograms {
            raw,
            co_mitigated: (!co_parts.is_empty()).then(|| merge_timing(co_parts)),
        };
        let tally = Tally {
            requests: same.iter().map(|r| r.requests).sum(),
            failures: same.iter().map(|r| r.failures).sum(),
            rate_limited: same.iter().map(|r| r.rate_limited).sum(),
            per_second: same.iter().map(|r| r.per_second).sum(),
        };
        let http = same.iter().any(|r| r.http);
        let row = Row::measured(name.clone(), http, tally, &timing);
        if http && name == first.measured_request {
            main_p95 = Some(row.judged_p95());
        }
        histograms.insert(name, timing);
        rows.push(row);
    }
    let (observed, checks) =
        super::report::judge(&thresholds, &rows, main_p95, &first.measured_request);
    let mut errors: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (_, s) in parts {
        for e in &s.errors {
            *errors
                .entry((e.request.clone(), e.error.clone()))
                .or_default() += e.occurrences;
        }
    }
    let mut errors: Vec<ErrorRow> = errors
        .into_iter()
        .map(|((request, error), occurrences)| ErrorRow {
            request,
            error,
            occurrences,
        })
        .collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.occurrences));

    // The timeline, aligned by wall-clock second: counts summed, latency the highest worker's.
    let mut seconds: BTreeMap<i64, Sample> = BTreeMap::new();
    for (_, s) in parts {
        for p in &s.timeline {
            let at = p.at_unix_ms.div_euclid(1000);
            let e = seconds.entry(at).or_insert_with(|| Sample {
                at_unix_ms: at * 1000,
                ..Sample::default()
            });
            e.users += p.users;
            e.requests_per_sec += p.requests_per_sec;
            e.failures += p.failures;
            e.rate_limited += p.rate_limited;
            e.p50_ms = e.p50_ms.max(p.p50_ms);
            e.p95_ms = e.p95_ms.max(p.p95_ms);
            e.p99_ms = e.p99_ms.max(p.p99_ms);
        }
    }
    let t0 = seconds.keys().next().copied().unwrap_or_default() - 1;
    let timeline = seconds
        .into_values()
        .map(|mut p| {
            p.t = (p.at_unix_ms / 1000 - t0) as f64;
            p
        })
        .collect();

    let workers = parts
        .iter()
        .map(|(file, s)| WorkerLine {
            name: worker_name(s, file),
            users: s.users,
            requests: s.observed.requests,
            failures: s.observed.failures,
            rate_limited: s.observed.rate_limited,
            p95_ms: s.observed.p95_ms,
            window: format!(
                "{} to {}",
                utc(s.window_start_unix_ms),
                utc(s.window_end_unix_ms)
            ),
        })
        .collect();
    let mut sign_in = first.sign_in.clone();
    sign_in.users_ready = parts.iter().map(|(_, s)| s.sign_in.users_ready).sum();
    sign_in.users_failed = parts.iter().map(|(_, s)| s.sign_in.users_failed).sum();
    sign_in.secs = parts
        .iter()
        .map(|(_, s)| s.sign_in.secs)
        .fold(0.0, f64::max);
    sign_in.rate_limited_answers = parts
        .iter()
        .map(|(_, s)| s.sign_in.rate_limited_answers)
        .sum();
    sign_in.rate_limited_wait_secs = parts
        .iter()
        .map(|(_, s)| s.sign_in.rate_limited_wait_secs)
        .sum();
    let interrupted = parts.iter().any(|(_, s)| s.interrupted);
    let passed = threshold::passed(&checks) && !interrupted;
    Ok(Summary {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: first.scenario.clone(),
        profile: first.profile.clone(),
        target: first.target.clone(),
        users: parts.iter().map(|(_, s)| s.users).sum(),
        worker: None,
        merged_from: parts.len(),
        hatch_rate: parts.iter().map(|(_, s)| s.hatch_rate).sum(),
        run_time_secs: first.run_time_secs,
        iterations: first.iterations,
        co_mitigation: first.co_mitigation.clone(),
        co_synthetic_requests: parts
            .iter()
            .map(|(_, s)| s.co_synthetic_requests)
            .reduce(|a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            })
            .flatten(),
        cookie_cache: first.cookie_cache,
        setup_users_ready: sign_in.users_ready,
        sign_in,
        measured_secs: (window_end - window_start) as f64 / 1000.0,
        window_start_unix_ms: window_start,
        window_end_unix_ms: window_end,
        thresholds,
        measured_request: first.measured_request.clone(),
        observed,
        rows,
        errors,
        checks,
        passed,
        interrupted,
        histograms,
        timeline,
        workers,
    })
}

/// Reads one worker's JSON report.
fn read(path: &PathBuf) -> Result<Summary, HarnessError> {
    let usage = |m: String| HarnessError::Usage(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| usage(e.to_string()))?;
    let mut doc: Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("not JSON ({e})")))?;
    let summary = doc
        .get_mut("ba_harness")
        .map(Value::take)
        .ok_or_else(|| usage("not a `ba-harness load` JSON report (no ba_harness)".into()))?;
    serde_json::from_value(summary)
        .map_err(|e| usage(format!("not a report this version can merge ({e})")))
}

/// `load merge`: reads, merges, prints and writes; exit 0 when the merged run passes its
/// thresholds, 1 when not, 2 when the reports cannot be merged.
pub fn run(args: MergeArgs, secrets: &crate::redact::Secrets) -> Result<i32, HarnessError> {
    let mut parts = Vec::new();
    for path in &args.reports {
        parts.push((path.display().to_string(), read(path)?));
    }
    let given = args.verdict.thresholds().map_err(HarnessError::Usage)?;
    let thresholds = if given.max_p95_ms.is_some() || given.max_error_rate.is_some() {
        let base = parts.first().map(|(_, s)| s.thresholds).unwrap_or_default();
        Some(Thresholds {
            max_p95_ms: given.max_p95_ms.or(base.max_p95_ms),
            max_error_rate: given.max_error_rate.or(base.max_error_rate),
        })
    } else {
        None
    };
    let merged =
        merge(&parts, thresholds).map_err(|e| HarnessError::Usage(format!("load merge: {e}")))?;
    let paths = if args.verdict.report.is_empty() {
        let mut paths = ReportPaths::resolve(&[], super::ScenarioKind::GetSession)?;
        for path in [&mut paths.html, &mut paths.json, &mut paths.md]
            .into_iter()
            .flatten()
        {
            let name = path
                .file_name()
                .map(|n| {
                    n.to_string_lossy().replace(
                        "load-get-session",
                        &format!("load-merged-{}", merged.scenario),
                    )
                })
                .unwrap_or_default();
            path.set_file_name(name);
        }
        paths
    } else {
        ReportPaths::resolve(&args.verdict.report, super::ScenarioKind::GetSession)?
    };
    merged.print();
    merged.write(&paths, None, secrets)?;
    Ok(if merged.passed { EXIT_OK } else { EXIT_FAILED })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::WorkerShare;
    use crate::load::report::ms;
    use crate::load::threshold::Observed;

    /// Timing data of these µs times, as goose buckets them (via its own deserializer).
    fn timing(times: &[u64]) -> GooseRequestMetricTimingData {
        let mut buckets: BTreeMap<u64, usize> = BTreeMap::new();
        for t in times {
            *buckets.entry(goose_floor(*t)).or_default() += 1;
        }
        let json = serde_json::json!({
            "times_us": buckets,
            "counter": times.len(),
            "minimum_time_us": times.iter().min().copied().unwrap_or(0),
            "maximum_time_us": times.iter().max().copied().unwrap_or(0),
            "total_time_us": times.iter().sum::<u64>(),
        });
        serde_json::from_value(json).unwrap()
    }

    /// goose's bucket floor (1/64 of a power of two from 128 µs).
    fn goose_floor(us: u64) -> u64 {
        if us < 128 {
            us
        } else {
            let bits = 63 - us.leading_zeros() - 6;
            (us >> bits) << bits
        }
    }

    const GET: &str = "GET /api/auth/get-session";

    fn worker(index: u64, times: &[u64], failures: u64, window: (i64, i64)) -> (String, Summary) {
        let histograms = Histograms {
            raw: timing(times),
            co_mitigated: None,
        };
        let tally = Tally {
            requests: times.len() as u64,
            failures,
            rate_limited: 1,
            per_second: times.len() as f64 / 10.0,
        };
        let row = Row::measured(GET.into(), true, tally, &histograms);
        let summary = Summary {
            version: "0".into(),
            scenario: "get-session".into(),
            profile: None,
            target: "http://127.0.0.1:1".into(),
            users: 2,
            worker: Some(WorkerShare { index, count: 3 }),
            merged_from: 1,
            hatch_rate: 2.0,
            run_time_secs: Some(10),
            iterations: None,
            co_mitigation: "disabled".into(),
            co_synthetic_requests: None,
            cookie_cache: None,
            setup_users_ready: 2,
            sign_in: Default::default(),
            measured_secs: 10.0,
            window_start_unix_ms: window.0,
            window_end_unix_ms: window.1,
            thresholds: Thresholds {
                max_p95_ms: Some(5.0),
                max_error_rate: Some(0.0),
            },
            measured_request: GET.into(),
            observed: Observed {
                requests: times.len() as u64,
                failures,
                rate_limited: 1,
                p95_ms: row.p95_ms,
            },
            rows: vec![row],
            errors: vec![ErrorRow {
                request: GET.into(),
                error: "429 Too Many Requests".into(),
                occurrences: 1,
            }],
            checks: Vec::new(),
            passed: true,
            interrupted: false,
            histograms: BTreeMap::from([(GET.to_string(), histograms)]),
            timeline: Vec::new(),
            workers: Vec::new(),
        };
        (format!("w{index}.json"), summary)
    }

    #[test]
    fn totals_are_sums_and_percentiles_come_from_the_merged_histogram() {
        // Three workers with very different latencies: averaging their p95s would be wrong.
        let a: Vec<u64> = (1..=1000).map(|i| 100 + i).collect();
        let b: Vec<u64> = (1..=1000).map(|i| 2000 + i * 3).collect();
        let c: Vec<u64> = (1..=200).map(|i| 50_000 + i * 100).collect();
        let parts = vec![
            worker(0, &a, 0, (1_000, 11_000)),
            worker(1, &b, 2, (1_200, 11_100)),
            worker(2, &c, 0, (900, 10_900)),
        ];
        let merged = merge(&parts, None).unwrap();
        assert_eq!(merged.merged_from, 3);
        assert_eq!(merged.users, 6);
        assert_eq!(merged.observed.requests, 2200);
        assert_eq!(merged.observed.failures, 2);
        assert_eq!(merged.observed.rate_limited, 3);
        assert_eq!(merged.histograms[GET].raw.counter, 2200);
        assert_eq!(merged.errors[0].occurrences, 3);
        // One histogram of every time is the truth the merge must give.
        let all: Vec<u64> = a.iter().chain(&b).chain(&c).copied().collect();
        let one = timing(&all);
        let row = &merged.rows[0];
        assert_eq!(row.p50_ms, ms(one.percentile_us(0.5)));
        assert_eq!(row.p95_ms, ms(one.percentile_us(0.95)));
        assert_eq!(row.max_ms, ms(one.maximum_time_us));
        // And it is far from the average of the workers' p95s.
        let averaged: f64 = parts.iter().map(|(_, s)| s.rows[0].p95_ms).sum::<f64>() / 3.0;
        assert!(
            (row.p95_ms - averaged).abs() > 1.0,
            "{} vs {averaged}",
            row.p95_ms
        );
        // Thresholds judged again: p95 over 5 ms and 2 failures miss.
        assert!(!merged.passed);
        assert!(merged.checks.iter().any(|c| c.metric == "p95" && !c.passed));
        assert_eq!(merged.workers.len(), 3);
        assert_eq!(merged.window_start_unix_ms, 900);
    }

    #[test]
    fn windows_that_do_not_overlap_are_refused() {
        let parts = vec![
            worker(0, &[100], 0, (1_000, 11_000)),
            worker(1, &[100], 0, (11_500, 21_500)),
            worker(2, &[100], 0, (1_000, 11_000)),
        ];
        let e = merge(&parts, None).unwrap_err();
        assert!(e.contains("do not overlap"), "{e}");
        assert!(e.contains("--start-at"), "{e}");
    }

    #[test]
    fn a_worker_twice_or_missing_or_another_run_is_refused() {
        let w = |i| worker(i, &[100], 0, (1_000, 11_000));
        let e = merge(&[w(0), w(1), w(1)], None).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = merge(&[w(0), w(2)], None).unwrap_err();
        assert!(e.contains("worker 1/3 missing"), "{e}");
        let mut other = w(2);
        other.1.scenario = "jwt-verification".into();
        let e = merge(&[w(0), w(1), other], None).unwrap_err();
        assert!(e.contains("scenario"), "{e}");
        let mut strict = w(2);
        strict.1.thresholds.max_p95_ms = Some(1.0);
        let e = merge(&[w(0), w(1), strict.clone()], None).unwrap_err();
        assert!(e.contains("different thresholds"), "{e}");
        assert!(merge(&[w(0), w(1), strict], Some(Thresholds::default())).is_ok());
    }

    #[test]
    fn a_merged_report_reads_back() {
        let parts = vec![
            worker(0, &[100, 200], 0, (1_000, 11_000)),
            worker(1, &[300], 0, (1_000, 11_000)),
            worker(2, &[400], 0, (1_000, 11_000)),
        ];
        let merged = merge(&parts, None).unwrap();
        let json = serde_json::to_value(&merged).unwrap();
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back.observed.requests, 4);
        assert_eq!(back.histograms[GET].raw.counter, 4);
        // A merge is not merged again.
        let e = merge(&[("m.json".into(), back)], None).unwrap_err();
        assert!(e.contains("already a merge"), "{e}");
    }
}
