//! What a load run leaves behind: the console summary, and the reports. goose writes its JSON
//! and Markdown reports; the harness adds its verdict (thresholds, the figure that missed, the
//! coordinated-omission mode, the 429s) to each, and to the JSON the raw latency histograms of
//! every request and the per-second timeline, so that several runs can be merged
//! (`load merge`). The HTML report is the harness's own (html.rs): self-contained, no CDN.

/// The self-contained HTML report (inline SVG charts), drawn from a [`Summary`].
pub mod html;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use goose::metrics::{GooseMetrics, GooseRequestMetricTimingData};
use goose::test_plan::TestPlanStepAction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HarnessError;
use crate::redact::Secrets;
use crate::report::markdown::figures_table_head;
use crate::target::Target;
use crate::temp_dir::TempDir;

use super::jwt_verification::{VERIFY_METHOD, VERIFY_NAME};
use super::live::Sample;
use super::pacing::SignInPhase;
use super::threshold::{self, Check, Observed, Thresholds};
use super::{Bound, ScenarioKind, Settings, WorkerShare};

/// The default report folder.
pub const DEFAULT_DIR: &str = "reports";

/// Where this run's reports go.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportPaths {
    pub html: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub md: Option<PathBuf>,
}

impl ReportPaths {
    /// `--report` files by extension, or all three under reports/ named after the scenario and
    /// the time (UTC).
    pub fn resolve(files: &[PathBuf], scenario: ScenarioKind) -> Result<Self, HarnessError> {
        let paths = if files.is_empty() {
            let now = time::OffsetDateTime::now_utc();
            let stamp = format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            );
            let base = Path::new(DEFAULT_DIR).join(format!("load-{}-{stamp}", scenario.name()));
            ReportPaths {
                html: Some(base.with_extension("html")),
                json: Some(base.with_extension("json")),
                md: Some(base.with_extension("md")),
            }
        } else {
            Self::from_files(files)?
        };
        for path in [&paths.html, &paths.json, &paths.md].into_iter().flatten() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| HarnessError::Output {
                    path: parent.display().to_string(),
                    source: e,
                })?;
            }
        }
        Ok(paths)
    }

    /// Sorts `--report` files by kind. Pure.
    pub fn from_files(files: &[PathBuf]) -> Result<Self, HarnessError> {
        let mut paths = ReportPaths::default();
        for file in files {
            let ext = file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            let slot = match ext.as_str() {
                "html" | "htm" => &mut paths.html,
                "json" => &mut paths.json,
                "md" | "markdown" => &mut paths.md,
                _ => {
                    return Err(HarnessError::Usage(format!(
                        "--report {}: the extension picks the kind, .html, .json or .md",
                        file.display()
                    )));
                }
            };
            if slot.is_some() {
                return Err(HarnessError::Usage(format!(
                    "--report {}: a .{ext} report is already asked for",
                    file.display()
                )));
            }
            *slot = Some(file.clone());
        }
        Ok(paths)
    }

    /// What goose is asked to write: JSON and Markdown to the temporary folder, to be completed
    /// by the harness (the HTML is the harness's own).
    pub fn goose_files(&self, temp: &GooseDir) -> Vec<String> {
        vec![
            temp.goose_json().display().to_string(),
            temp.goose_md().display().to_string(),
        ]
    }
}

/// The private temporary folder goose writes its own reports into.
pub struct GooseDir(TempDir);

impl GooseDir {
    pub fn new() -> Result<Self, HarnessError> {
        TempDir::new("load").map(GooseDir)
    }

    fn goose_json(&self) -> PathBuf {
        self.0.path().join("goose-report.json")
    }

    fn goose_md(&self) -> PathBuf {
        self.0.path().join("goose-report.md")
    }
}

/// The paragraph goose puts at the top of its reports: what ran, and in which
/// coordinated-omission mode.
pub fn notes(settings: &Settings, target: &Target) -> String {
    let mut notes = format!(
        "ba-harness load, scenario {} against {}. Coordinated-omission mitigation: {}. Every response is checked ({}); a response that fails its check is a failed request.",
        settings.scenario.name(),
        target.description,
        settings.co.name(),
        match settings.scenario {
            ScenarioKind::GetSession =>
                "200, JSON, a live session carrying the virtual user's own id",
            ScenarioKind::JwtVerification =>
                "200 with a JWT that verifies against the JWKS: signature, iss and aud = the origin, exp in the future, sub = the virtual user",
        }
    );
    if let Some(profile) = &settings.profile {
        let _ = write!(notes, " Profile: {profile}.");
    }
    target.secrets.scrub_text(&notes)
}

/// One row of the measured figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// As goose names it: `GET /api/auth/get-session`, `JWT verify`.
    pub request: String,
    pub requests: u64,
    /// Failed requests other than 429s (wrong answers, other statuses, transport errors).
    pub failures: u64,
    /// Requests the target answered 429 (rate-limited): counted apart from `failures`.
    #[serde(default)]
    pub rate_limited: u64,
    pub per_second: f64,
    pub avg_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// p95 with coordinated-omission backfill, when mitigation ran.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub p95_ms_co_mitigated: Option<f64>,
    /// An HTTP request (counted in the error rate), not the harness's own verification row.
    #[serde(default)]
    pub http: bool,
}

/// What the thresholds judge: the HTTP rows' requests, failures and 429s summed (the harness's
/// own verification rows are not requests), and the measured request's p95.
pub(crate) fn observed_over(rows: &[Row], measured_p95: Option<f64>) -> Observed {
    let http_rows = rows.iter().filter(|r| r.http);
    Observed {
        requests: http_rows.clone().map(|r| r.requests).sum(),
        failures: http_rows.clone().map(|r| r.failures).sum(),
        rate_limited: http_rows.map(|r| r.rate_limited).sum(),
        p95_ms: measured_p95.unwrap_or(0.0),
    }
}

/// What the thresholds make of the rows: the observed figures, and the checks, with a failed
/// one when the measured request never ran although others did.
pub(crate) fn judge(
    thresholds: &Thresholds,
    rows: &[Row],
    measured_p95: Option<f64>,
    measured_request: &str,
) -> (Observed, Vec<Check>) {
    let observed = observed_over(rows, measured_p95);
    let mut checks = threshold::evaluate(thresholds, &observed, measured_request);
    if measured_p95.is_none() && observed.requests > 0 {
        checks.push(Check {
            metric: "requests".into(),
            limit: format!("{measured_request} measured"),
            observed: "absent".into(),
            passed: false,
            message: format!("no {measured_request} request was measured"),
        });
    }
    (observed, checks)
}

/// A requests-table row's counts; its latencies come from its histograms.
pub(crate) struct Tally {
    pub requests: u64,
    pub failures: u64,
    pub rate_limited: u64,
    pub per_second: f64,
}

impl Row {
    /// The requests table's column headings, in the order of [`Row::cells`].
    pub const HEADINGS: [&'static str; 10] = [
        "request", "requests", "failed", "429", "req/s", "avg ms", "p50 ms", "p95 ms", "p99 ms",
        "max ms",
    ];

    /// A row from its counts and its latency histograms. The coordinated-omission p95 is kept
    /// only for an HTTP row whose backfilled histogram holds more than the raw one: backfill is
    /// about a stalled server, it means nothing for the harness's own verification time.
    pub(crate) fn measured(
        request: String,
        http: bool,
        tally: Tally,
        histograms: &Histograms,
    ) -> Row {
        let raw = &histograms.raw;
        Row {
            request,
            requests: tally.requests,
            failures: tally.failures,
            rate_limited: tally.rate_limited,
            per_second: tally.per_second,
            avg_ms: if raw.counter == 0 {
                0.0
            } else {
                raw.average_ms()
            },
            p50_ms: ms(raw.percentile_us(0.50)),
            p95_ms: ms(raw.percentile_us(0.95)),
            p99_ms: ms(raw.percentile_us(0.99)),
            max_ms: ms(raw.maximum_time_us),
            p95_ms_co_mitigated: histograms
                .co_mitigated
                .as_ref()
                .filter(|d| http && d.counter > raw.counter)
                .map(|d| ms(d.percentile_us(0.95))),
            http,
        }
    }

    /// The p95 the threshold judges. With mitigation on, the backfilled distribution: the
    /// latency a user would have seen had the server not stalled the senders.
    pub(crate) fn judged_p95(&self) -> f64 {
        self.p95_ms_co_mitigated.unwrap_or(self.p95_ms)
    }

    /// The numbers of the requests table, formatted, in column order (request name first;
    /// p95 carries its coordinated-omission value when mitigation ran).
    pub fn cells(&self) -> [String; 10] {
        [
            self.request.clone(),
            self.requests.to_string(),
            self.failures.to_string(),
            self.rate_limited.to_string(),
            format!("{:.1}", self.per_second),
            format!("{:.3}", self.avg_ms),
            format!("{:.3}", self.p50_ms),
            format!(
                "{:.3}{}",
                self.p95_ms,
                self.p95_ms_co_mitigated
                    .map(|p| format!(" (CO {p:.3})"))
                    .unwrap_or_default()
            ),
            format!("{:.3}", self.p99_ms),
            format!("{:.3}", self.max_ms),
        ]
    }
}

/// A failure reason and how often it happened (goose's error table).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorRow {
    pub request: String,
    pub error: String,
    pub occurrences: usize,
}

/// The harness's verdict on a run, and what it is made from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub version: String,
    pub scenario: String,
    pub profile: Option<String>,
    pub target: String,
    /// Virtual users this report covers (a worker's share, or the sum of a merge).
    pub users: u64,
    /// `--worker INDEX/COUNT`: this report is one worker's share.
    #[serde(default)]
    pub worker: Option<WorkerShare>,
    /// Reports merged into this one (1 for a single run).
    #[serde(default = "one")]
    pub merged_from: usize,
    pub hatch_rate: f64,
    pub run_time_secs: Option<u64>,
    pub iterations: Option<u64>,
    pub co_mitigation: String,
    /// Synthetic (backfilled) requests coordinated-omission mitigation added, when it ran.
    pub co_synthetic_requests: Option<u64>,
    pub cookie_cache: Option<bool>,
    pub setup_users_ready: usize,
    /// The sign-in phase before the measured part.
    #[serde(default)]
    pub sign_in: SignInPhase,
    /// Seconds of the measured part of the run (all users running), as the rates use.
    pub measured_secs: f64,
    /// The measured window, wall clock (Unix ms): merges refuse windows that do not overlap.
    #[serde(default)]
    pub window_start_unix_ms: i64,
    #[serde(default)]
    pub window_end_unix_ms: i64,
    /// The limits judged.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// The request the p95 threshold judges.
    pub measured_request: String,
    pub observed: Observed,
    pub rows: Vec<Row>,
    pub errors: Vec<ErrorRow>,
    pub checks: Vec<Check>,
    pub passed: bool,
    /// Ctrl-C stopped the run early: the figures cover the part that ran.
    pub interrupted: bool,
    /// Raw latency histograms per request (microsecond buckets, as goose keeps them): merge
    /// the buckets of several runs to get their combined percentiles.
    pub histograms: BTreeMap<String, Histograms>,
    /// One sample per second: requests/s, failures, 429s, latency (the HTML charts).
    #[serde(default)]
    pub timeline: Vec<Sample>,
    /// A merge: each worker's own figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<WorkerLine>,
}

fn one() -> usize {
    1
}

/// One worker's figures in a merged report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerLine {
    pub name: String,
    pub users: u64,
    pub requests: u64,
    pub failures: u64,
    pub rate_limited: u64,
    pub p95_ms: f64,
    pub window: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Histograms {
    pub raw: GooseRequestMetricTimingData,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub co_mitigated: Option<GooseRequestMetricTimingData>,
}

/// Microseconds as milliseconds.
pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Seconds the measured part lasted: from the step in which all users ran (goose resets its
/// metrics there) to the next step; for a run without one, first step to last.
pub fn measured_secs(metrics: &GooseMetrics) -> f64 {
    let (from, to) = measured_window(metrics);
    let secs = (to - from) as f64 / 1000.0;
    if from > 0 && secs > 0.0 {
        secs
    } else {
        metrics.duration.max(1) as f64
    }
}

/// The measured part as wall-clock Unix ms (start, end); (0, 0) when goose kept no steps.
pub fn measured_window(metrics: &GooseMetrics) -> (i64, i64) {
    let history = &metrics.history;
    let at = |i: usize| history[i].timestamp.timestamp_millis();
    let maintaining = history
        .iter()
        .position(|s| matches!(s.action, TestPlanStepAction::Maintaining));
    match maintaining {
        Some(i) if i + 1 < history.len() => (at(i), at(i + 1)),
        _ if history.len() >= 2 => (at(0), at(history.len() - 1)),
        _ => (0, 0),
    }
}

impl Summary {
    pub fn build(
        settings: &Settings,
        target: &Target,
        metrics: &GooseMetrics,
        sign_in: &SignInPhase,
        measured_path: &str,
        bundled_reference: bool,
    ) -> Summary {
        let secs = measured_secs(metrics);
        let (window_start_unix_ms, window_end_unix_ms) = measured_window(metrics);
        let mut rows = Vec::new();
        let mut histograms = BTreeMap::new();
        let mut main_p95 = None;
        let mut keys: Vec<&String> = metrics.requests.keys().collect();
        keys.sort();
        for key in keys {
            let agg = &metrics.requests[key];
            let http = agg.custom_method.is_empty();
            let name = format!("{} {}", agg.method_label(), agg.path);
            let data = &agg.raw_data;
            // HTTP rows count requests made (goose's per-request counters); a custom row's
            // counts include coordinated-omission backfill, so its measured times count it.
            let requests = if http {
                (agg.success_count + agg.fail_count) as u64
            } else {
                data.counter as u64
            };
            let rate_limited = if http {
                agg.status_code_counts.get(&429).copied().unwrap_or(0) as u64
            } else {
                0
            };
            let tally = Tally {
                requests,
                failures: (agg.fail_count as u64).saturating_sub(rate_limited),
                rate_limited,
                per_second: requests as f64 / secs,
            };
            let timing = Histograms {
                raw: data.clone(),
                co_mitigated: agg.coordinated_omission_data.clone(),
            };
            let row = Row::measured(name.clone(), http, tally, &timing);
            if http && agg.path == measured_path {
                main_p95 = Some(row.judged_p95());
            }
            histograms.insert(name, timing);
            rows.push(row);
        }
        let measured_request = format!("GET {measured_path}");
        let (observed, checks) = judge(&settings.thresholds, &rows, main_p95, &measured_request);
        let mut errors: Vec<ErrorRow> = metrics
            .errors
            .values()
            .map(|e| ErrorRow {
                request: format!(
                    "{} {}",
                    if e.custom_method.is_empty() {
                        e.method.to_string()
                    } else {
                        e.custom_method.clone()
                    },
                    e.name
                ),
                error: target.secrets.scrub_text(&e.error),
                occurrences: e.occurrences,
            })
            .collect();
        errors.sort_by_key(|e| std::cmp::Reverse(e.occurrences));
        let passed = threshold::passed(&checks);
        Summary {
            version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: settings.scenario.name().to_string(),
            profile: settings.profile.clone(),
            target: target.secrets.scrub_text(&target.description),
            users: settings.users,
            worker: settings.worker,
            merged_from: 1,
            hatch_rate: settings.hatch_rate,
            run_time_secs: match settings.bound {
                Bound::RunTime(s) => Some(s),
                Bound::Iterations(_) => None,
            },
            iterations: match settings.bound {
                Bound::Iterations(n) => Some(n),
                Bound::RunTime(_) => None,
            },
            co_mitigation: settings.co.name().to_string(),
            co_synthetic_requests: metrics
                .coordinated_omission_metrics
                .as_ref()
                .map(|m| m.synthetic_requests),
            cookie_cache: bundled_reference.then_some(settings.cookie_cache),
            setup_users_ready: sign_in.users_ready,
            sign_in: sign_in.clone(),
            measured_secs: secs,
            window_start_unix_ms,
            window_end_unix_ms,
            thresholds: settings.thresholds,
            measured_request,
            observed,
            rows,
            errors,
            checks,
            passed,
            interrupted: false,
            histograms,
            timeline: Vec::new(),
            workers: Vec::new(),
        }
    }

    /// The line that says the target refused part of the load, when it did.
    pub fn rate_limited_line(&self) -> Option<String> {
        (self.observed.rate_limited > 0).then(|| {
            format!(
                "the target rate-limited the load: {} responses 429 (of {} requests); raise the target's rate limit for the load's clients, or lower --users",
                self.observed.rate_limited, self.observed.requests
            )
        })
    }

    /// Ctrl-C stopped the run: it neither passed nor failed its thresholds (exit 130).
    pub fn mark_interrupted(&mut self) {
        self.interrupted = true;
        self.passed = false;
    }

    /// The verdict in one line.
    pub fn verdict(&self) -> String {
        if self.interrupted {
            format!(
                "load: interrupted (Ctrl-C) after {:.1} s measured; the figures cover the part that ran",
                self.measured_secs
            )
        } else if self.passed {
            format!(
                "load: passed ({} requests, {} failed{}, every response checked)",
                self.observed.requests,
                self.observed.failures,
                if self.observed.rate_limited > 0 {
                    format!(", {} rate-limited (429)", self.observed.rate_limited)
                } else {
                    String::new()
                }
            )
        } else {
            let mut missed: Vec<String> = Vec::new();
            if self.observed.rate_limited > 0 {
                missed.push(format!(
                    "the target rate-limited the load ({} responses 429)",
                    self.observed.rate_limited
                ));
            }
            missed.extend(
                self.checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.message.clone()),
            );
            format!("load: failed: {}", missed.join("; "))
        }
    }

    /// The console summary.
    pub fn print(&self) {
        print!("{}", self.console());
    }

    pub fn console(&self) -> String {
        let mut out = String::new();
        if self.merged_from > 1 {
            let _ = writeln!(out, "merged {} worker reports:", self.merged_from);
            for w in &self.workers {
                let _ = writeln!(
                    out,
                    "  worker {:<8} {:>5} users {:>9} req {:>7} failed {:>7} 429  p95 {:.3} ms  window {}",
                    w.name, w.users, w.requests, w.failures, w.rate_limited, w.p95_ms, w.window
                );
            }
        }
        let _ = writeln!(
            out,
            "measured {:.1} s with {} users (coordinated-omission mitigation {}{}):",
            self.measured_secs,
            self.users,
            self.co_mitigation,
            self.co_synthetic_requests
                .map(|n| format!(", {n} synthetic requests"))
                .unwrap_or_default()
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "  {:<44} {:>9} req {:>7} failed{} {:>10.1}/s  avg {:.3} ms  p50 {:.3}  p95 {:.3}  p99 {:.3}  max {:.3} ms{}",
                r.request,
                r.requests,
                r.failures,
                if r.rate_limited > 0 {
                    format!(" {:>7} rate-limited (429)", r.rate_limited)
                } else {
                    String::new()
                },
                r.per_second,
                r.avg_ms,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.max_ms,
                r.p95_ms_co_mitigated
                    .map(|p| format!("  (p95 with CO backfill {p:.3} ms)"))
                    .unwrap_or_default()
            );
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out, "failed requests, by reason:");
            for e in self.errors.iter().take(10) {
                let _ = writeln!(out, "  {:>9}× {}: {}", e.occurrences, e.request, e.error);
            }
            if self.errors.len() > 10 {
                let _ = writeln!(
                    out,
                    "  … {} more reasons in the reports",
                    self.errors.len() - 10
                );
            }
        }
        if let Some(line) = self.rate_limited_line() {
            let _ = writeln!(out, "{line}");
        }
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  threshold {}: {}",
                if c.passed { "ok    " } else { "MISSED" },
                c.message
            );
        }
        let _ = writeln!(out, "{}", self.verdict());
        out
    }

    /// How the run was bounded, as the reports word it (none for a report without it).
    fn bound(&self) -> Option<String> {
        match (self.run_time_secs, self.iterations) {
            (Some(s), _) => Some(Bound::RunTime(s).describe()),
            (_, Some(n)) => Some(Bound::Iterations(n).describe()),
            _ => None,
        }
    }

    /// ` (N synthetic requests)` after the mitigation mode, when the mitigation added any.
    fn synthetic_note(&self) -> String {
        self.co_synthetic_requests
            .map(|n| format!(" ({n} synthetic requests)"))
            .unwrap_or_default()
    }

    /// The bundled reference's cookie cache, `on` or `off` (none against a --target).
    fn cookie_cache(&self) -> Option<&'static str> {
        self.cookie_cache.map(|on| if on { "on" } else { "off" })
    }

    /// The Markdown summary the harness puts above goose's Markdown report.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# ba-harness load: {}\n", self.scenario);
        let _ = writeln!(
            md,
            "**{}**\n",
            if self.interrupted {
                "INTERRUPTED"
            } else if self.passed {
                "PASSED"
            } else {
                "FAILED"
            }
        );
        if let Some(line) = self.rate_limited_line() {
            let _ = writeln!(md, "**{line}**\n");
        }
        let _ = writeln!(md, "| | |\n| --- | --- |");
        let _ = writeln!(md, "| target | {} |", self.target);
        if let Some(p) = &self.profile {
            let _ = writeln!(md, "| profile | {p} |");
        }
        let _ = writeln!(
            md,
            "| users | {} (started at {}/s), signed in before the run |",
            self.users, self.hatch_rate
        );
        if let Some(bound) = self.bound() {
            let _ = writeln!(md, "| bound | {bound} |");
        }
        let _ = writeln!(
            md,
            "| coordinated-omission mitigation | **{}**{} |",
            self.co_mitigation,
            self.synthetic_note()
        );
        if let Some(cache) = self.cookie_cache() {
            let _ = writeln!(md, "| cookie cache (reference) | {cache} |");
        }
        let _ = writeln!(md, "| sign-in phase | {} |", self.sign_in.line());
        if let Some(w) = &self.worker {
            let _ = writeln!(md, "| worker | {} of {} |", w.index, w.count);
        }
        if self.merged_from > 1 {
            let _ = writeln!(md, "| merged from | {} worker reports |", self.merged_from);
        }
        let _ = writeln!(md, "| measured | {:.1} s |", self.measured_secs);
        let _ = writeln!(md, "\n## Thresholds\n");
        let _ = writeln!(
            md,
            "| check | limit | observed | result |\n| --- | --- | --- | --- |"
        );
        for c in &self.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                c.metric,
                c.limit,
                c.observed,
                if c.passed { "ok" } else { "**missed**" }
            );
        }
        let _ = writeln!(md, "\n## Requests (every response checked)\n");
        let _ = writeln!(md, "{}", figures_table_head(Row::HEADINGS));
        for r in &self.rows {
            let _ = writeln!(md, "| {} |", r.cells().join(" | "));
        }
        if !self.errors.is_empty() {
            let _ = writeln!(md, "\n## Failed requests, by reason\n");
            let _ = writeln!(md, "| request | reason | count |\n| --- | --- | ---: |");
            for e in &self.errors {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    e.request,
                    e.error.replace('|', "\\|"),
                    e.occurrences
                );
            }
        }
        let _ = writeln!(
            md,
            "\nThe error rate counts HTTP requests; `{VERIFY_METHOD} {VERIFY_NAME}` is the harness's own verification of each JWT, timed separately."
        );
        md
    }

    /// Writes the reports and prints where they are. `temp` holds goose's JSON and Markdown
    /// (none for a merge).
    pub fn write(
        &self,
        paths: &ReportPaths,
        temp: Option<&GooseDir>,
        secrets: &Secrets,
    ) -> Result<(), HarnessError> {
        let output = |path: &Path, e: std::io::Error| HarnessError::Output {
            path: path.display().to_string(),
            source: e,
        };
        if let Some(html) = &paths.html {
            let text = secrets.scrub_text(&html::render(self));
            std::fs::write(html, text).map_err(|e| output(html, e))?;
            println!("HTML report: {}", html.display());
        }
        if let Some(json) = &paths.json {
            let goose: Value = temp
                .and_then(|t| std::fs::read_to_string(t.goose_json()).ok())
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            let mut doc = match goose {
                Value::Object(map) => map,
                Value::Null => serde_json::Map::new(),
                other => {
                    let mut map = serde_json::Map::new();
                    map.insert("goose".into(), other);
                    map
                }
            };
            doc.insert(
                "ba_harness".into(),
                serde_json::to_value(self).unwrap_or(Value::Null),
            );
            let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
            std::fs::write(json, secrets.scrub_text(&text)).map_err(|e| output(json, e))?;
            println!("JSON report: {}", json.display());
        }
        if let Some(md) = &paths.md {
            let goose = temp
                .and_then(|t| std::fs::read_to_string(t.goose_md()).ok())
                .unwrap_or_default();
            let text = if goose.is_empty() {
                self.markdown()
            } else {
                format!("{}\n---\n\n{}", self.markdown(), secrets.scrub_text(&goose))
            };
            std::fs::write(md, text).map_err(|e| output(md, e))?;
            println!("Markdown report: {}", md.display());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_files_are_sorted_by_extension() {
        let paths = ReportPaths::from_files(&[
            PathBuf::from("a/run.HTML"),
            PathBuf::from("b.json"),
            PathBuf::from("c.md"),
        ])
        .unwrap();
        assert_eq!(paths.html, Some(PathBuf::from("a/run.HTML")));
        assert_eq!(paths.json, Some(PathBuf::from("b.json")));
        assert_eq!(paths.md, Some(PathBuf::from("c.md")));
        assert!(matches!(
            ReportPaths::from_files(&[PathBuf::from("x.pdf")]),
            Err(HarnessError::Usage(_))
        ));
        assert!(matches!(
            ReportPaths::from_files(&[PathBuf::from("x.md"), PathBuf::from("y.md")]),
            Err(HarnessError::Usage(_))
        ));
    }
}
