//! Run results: the terminal summary, JUnit XML, JSON and Markdown reports (docs/reports.md),
//! the events a run emits (`event`) and the terminal reporter that prints them (`terminal`).

pub mod event;
pub mod markdown;
pub mod matrix;
pub mod style;
pub mod terminal;

use std::fmt;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use style::Style;

use crate::error::HarnessError;

/// How binding a rule is (the OpenID conformance suite's FAILURE vs WARNING).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A failure fails the run (exit 1).
    #[serde(rename = "MUST")]
    Must,
    /// A failure is a warning (exit 0 unless --strict). Scenarios tagged `@should`.
    #[serde(rename = "SHOULD")]
    Should,
}

impl Severity {
    pub fn from_tags(tags: &[String]) -> Self {
        if tags.iter().any(|t| t == "should") {
            Severity::Should
        } else {
            Severity::Must
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed {
        rule: String,
        expected: String,
        actual: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        exchange: Option<String>,
    },
    Skipped {
        reason: String,
    },
    /// Failed, in the way a known-deviations.toml entry documents for a real release: shown
    /// with its evidence, not counted as a failure.
    Deviation {
        rule: String,
        expected: String,
        actual: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        exchange: Option<String>,
        release: String,
        evidence: String,
    },
}

/// What a failed (or deviating) scenario broke, borrowed from its verdict.
pub struct Failure<'a> {
    pub rule: &'a str,
    pub expected: &'a str,
    pub actual: &'a str,
    pub exchange: Option<&'a str>,
}

impl Verdict {
    /// The rule, expectation, answer and exchange of a failure or deviation; `None` otherwise.
    pub fn failure(&self) -> Option<Failure<'_>> {
        match self {
            Verdict::Failed {
                rule,
                expected,
                actual,
                exchange,
            }
            | Verdict::Deviation {
                rule,
                expected,
                actual,
                exchange,
                ..
            } => Some(Failure {
                rule,
                expected,
                actual,
                exchange: exchange.as_deref(),
            }),
            _ => None,
        }
    }
}

/// The failed (or deviating) scenarios among `listed`, each with what it broke.
pub fn with_failures<'a>(
    listed: impl IntoIterator<Item = &'a ScenarioOutcome>,
) -> impl Iterator<Item = (&'a ScenarioOutcome, Failure<'a>)> {
    listed
        .into_iter()
        .filter_map(|s| s.verdict.failure().map(|f| (s, f)))
}

/// Picks the scenarios one section of the summary lists.
type Selector<'a> = dyn Fn(&ScenarioOutcome) -> bool + 'a;

/// One scenario's result.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioOutcome {
    pub feature: String,
    pub scenario: String,
    /// `features/session-cookie.feature:12`
    pub location: String,
    pub tags: Vec<String>,
    pub severity: Severity,
    /// The capabilities this scenario needs (its capability tags).
    pub capabilities: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Wall time from the scenario's start to its end (absent for scenarios that did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u128>,
    /// The inventory rules (rules/*.toml) this scenario checks: its rule-id tags, with spec,
    /// section and level.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spec_rules: Vec<crate::rules::RuleRef>,
}

impl ScenarioOutcome {
    pub fn new(
        feature: &str,
        scenario: &str,
        location: String,
        tags: Vec<String>,
        verdict: Verdict,
    ) -> Self {
        ScenarioOutcome {
            feature: feature.into(),
            scenario: scenario.into(),
            location,
            severity: Severity::from_tags(&tags),
            capabilities: tags
                .iter()
                .filter(|t| crate::target::capability_for_tag(t).is_some())
                .cloned()
                .collect(),
            spec_rules: crate::rules::rules_for_tags(crate::rules::embedded(), &tags),
            tags,
            verdict,
            duration_ms: None,
        }
    }

    pub fn failed(
        feature: &str,
        scenario: &str,
        location: String,
        tags: Vec<String>,
        failure: StepFailure,
    ) -> Self {
        Self::new(feature, scenario, location, tags, failure.into_verdict())
    }

    /// The feature file and the scenario's line, from `location` (`features/a.feature:12`).
    pub fn file_and_line(&self) -> (&str, Option<u32>) {
        match self.location.rsplit_once(':') {
            Some((file, line)) if line.parse::<u32>().is_ok() => (file, line.parse().ok()),
            _ => (&self.location, None),
        }
    }

    /// A failure of a SHOULD rule: reported, but it fails the run only under --strict.
    pub fn is_warning(&self) -> bool {
        matches!(self.verdict, Verdict::Failed { .. }) && self.severity == Severity::Should
    }
}

/// A conformance failure: which rule, what it expects, what came back, and the exchange.
#[derive(Clone, Debug)]
pub struct StepFailure {
    pub rule: String,
    pub expected: String,
    pub actual: String,
    /// Redacted excerpt of the exchange the rule was checked on.
    pub exchange: Option<String>,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rule: {}", self.rule)?;
        writeln!(f, "expected: {}", self.expected)?;
        write!(f, "actual: {}", self.actual)?;
        if let Some(exchange) = &self.exchange {
            write!(f, "\nexchange:\n{}", indent(exchange.trim_end(), "  "))?;
        }
        Ok(())
    }
}

pub fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl StepFailure {
    pub fn into_verdict(self) -> Verdict {
        Verdict::Failed {
            rule: self.rule,
            expected: self.expected,
            actual: self.actual,
            exchange: self.exchange,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub passed: usize,
    /// MUST failures (and SHOULD failures under --strict).
    pub failed: usize,
    pub skipped: usize,
    /// SHOULD failures (not under --strict).
    pub warnings: usize,
    pub deviations: usize,
}

/// Counts for one feature (area).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AreaCounts {
    pub area: String,
    pub must: usize,
    pub should: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

impl AreaCounts {
    /// The by-area table's column headings, in the order of [`AreaCounts::cells`].
    pub const HEADINGS: [&'static str; 8] = [
        "area",
        "MUST",
        "SHOULD",
        "passed",
        "failed",
        "skipped",
        "warnings",
        "deviations",
    ];

    /// The area's row of the by-area table (terminal and Markdown alike).
    pub fn cells(&self) -> [String; 8] {
        [
            self.area.clone(),
            self.must.to_string(),
            self.should.to_string(),
            self.counts.passed.to_string(),
            self.counts.failed.to_string(),
            self.counts.skipped.to_string(),
            self.counts.warnings.to_string(),
            self.counts.deviations.to_string(),
        ]
    }
}

/// The version of the JSON report's shape (docs/report.schema.json). Raise it when a field is
/// removed or changes meaning; adding a field keeps it.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The time now, RFC 3339 in UTC, to the second (`2026-12-05T10:49:58Z`).
pub fn timestamp_now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// REPORT_SCHEMA_VERSION.
    pub schema_version: u32,
    /// The ba-harness version that made the report.
    pub harness_version: String,
    /// When the run started (RFC 3339, UTC).
    pub timestamp: String,
    pub target: String,
    pub duration_ms: u128,
    pub strict: bool,
    /// The capabilities discovery found (or the flags declared).
    pub capabilities: Vec<String>,
    /// What discovery noted about the target (assumptions, missing endpoints).
    pub discovery_notes: Vec<String>,
    /// The cleanup's summary line (accounts deleted or kept); absent when nothing ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
    /// The known-deviation list the run used: its path, or
    /// `embedded known-deviations.toml (better-auth 1.7.25)` (crate::deviations::DeviationList).
    pub deviation_list: String,
    pub counts: Counts,
    pub areas: Vec<AreaCounts>,
    pub scenarios: Vec<ScenarioOutcome>,
}

fn tally(counts: &mut Counts, scenario: &ScenarioOutcome, strict: bool) {
    match scenario.verdict {
        Verdict::Passed => counts.passed += 1,
        Verdict::Failed { .. } if scenario.is_warning() && !strict => counts.warnings += 1,
        Verdict::Failed { .. } => counts.failed += 1,
        Verdict::Skipped { .. } => counts.skipped += 1,
        Verdict::Deviation { .. } => counts.deviations += 1,
    }
}

impl RunReport {
    pub fn new(
        target: String,
        duration_ms: u128,
        strict: bool,
        mut scenarios: Vec<ScenarioOutcome>,
    ) -> Self {
        scenarios.sort_by(|a, b| (&a.location, &a.scenario).cmp(&(&b.location, &b.scenario)));
        let mut counts = Counts::default();
        let mut areas: Vec<AreaCounts> = Vec::new();
        for s in &scenarios {
            tally(&mut counts, s, strict);
            let index = match areas.iter().position(|a| a.area == s.feature) {
                Some(i) => i,
                None => {
                    areas.push(AreaCounts {
                        area: s.feature.clone(),
                        ..AreaCounts::default()
                    });
                    areas.len() - 1
                }
            };
            let area = &mut areas[index];
            match s.severity {
                Severity::Must => area.must += 1,
                Severity::Should => area.should += 1,
            }
            tally(&mut area.counts, s, strict);
        }
        RunReport {
            schema_version: REPORT_SCHEMA_VERSION,
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            timestamp: timestamp_now(),
            target,
            duration_ms,
            strict,
            capabilities: Vec::new(),
            discovery_notes: Vec::new(),
            cleanup: None,
            deviation_list: String::new(),
            counts,
            areas,
            scenarios,
        }
    }

    /// No MUST failure (and, under --strict, no SHOULD failure either).
    pub fn passed(&self) -> bool {
        self.counts.failed == 0
    }

    /// The summary for a person: every failure with its rule, expectation, answer and
    /// exchange; every skip with its reason; then the one-line count CI tools read.
    pub fn summary(&self) -> String {
        self.summary_with(Style::default(), true)
    }

    /// The summary, coloured by `style`; without `full`, only the failures, warnings and
    /// counts (no deviations, skipped list or per-area table: `--quiet`).
    pub fn summary_with(&self, style: Style, full: bool) -> String {
        let mut out = String::new();
        let strict = self.strict;
        let sections: [(&str, &str, &Selector); 3] = [
            ("Failures", "✘", &|s| {
                matches!(s.verdict, Verdict::Failed { .. }) && (strict || !s.is_warning())
            }),
            (
                "Warnings (SHOULD rules; --strict makes them failures)",
                "⚠",
                &|s| !strict && s.is_warning(),
            ),
            (
                "Known deviations (listed in known-deviations.toml; not counted as failures)",
                "≠",
                &|s| matches!(s.verdict, Verdict::Deviation { .. }),
            ),
        ];
        for (index, (title, mark, keep)) in sections.into_iter().enumerate() {
            let listed: Vec<_> = self.scenarios.iter().filter(|s| keep(s)).collect();
            if listed.is_empty() || (!full && index == 2) {
                continue;
            }
            let mark = match index {
                0 => style.red(mark),
                1 => style.yellow(mark),
                _ => style.magenta(mark),
            };
            let _ = writeln!(out, "\n{} ({}):", style.bold(title), listed.len());
            for (s, failed) in with_failures(listed) {
                let _ = writeln!(
                    out,
                    "\n  {mark} [{}] {} › {}  ({})",
                    s.severity.as_str(),
                    s.feature,
                    s.scenario,
                    s.location
                );
                let _ = writeln!(out, "    rule:     {}", failed.rule);
                let _ = writeln!(out, "    expected: {}", failed.expected);
                let _ = writeln!(out, "    actual:   {}", failed.actual);
                if let Verdict::Deviation {
                    release, evidence, ..
                } = &s.verdict
                {
                    let _ = writeln!(out, "    release:  {release}");
                    let _ = writeln!(out, "    evidence: {evidence}");
                }
                if let Some(exchange) = failed.exchange {
                    let _ = writeln!(out, "    exchange:");
                    for line in exchange.lines().take(30) {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
        let skipped = self.skipped();
        if !skipped.is_empty() && full {
            let _ = writeln!(out, "\n{} ({}):", style.bold("Skipped"), skipped.len());
            for s in skipped {
                if let Verdict::Skipped { reason } = &s.verdict {
                    let _ = writeln!(
                        out,
                        "  - {} › {}  ({}): {reason}",
                        s.feature, s.scenario, s.location
                    );
                }
            }
        }
        if full {
            self.write_area_table(&mut out);
        }
        if !self.deviation_list.is_empty() {
            let _ = write!(out, "\nDeviation list: {}", self.deviation_list);
        }
        let _ = writeln!(
            out,
            "\nTarget: {}\nScenarios: {} in {:.1} s; {} SHOULD warning(s), {} known deviation(s){}",
            self.target,
            self.scenarios.len(),
            self.duration_ms as f64 / 1000.0,
            self.counts.warnings,
            self.counts.deviations,
            if self.strict { " (--strict)" } else { "" }
        );
        // The plain closing line CI reads (coloured as a whole, so a plain grep still finds it
        // when colour is off).
        let closing = format!(
            "conform: {} passed, {} failed, {} skipped",
            self.counts.passed, self.counts.failed, self.counts.skipped
        );
        let closing = if self.passed() {
            style.green(&closing)
        } else {
            style.red(&closing)
        };
        let _ = writeln!(out, "{closing}");
        out
    }

    /// The per-area table of the summary.
    fn write_area_table(&self, out: &mut String) {
        let _ = writeln!(out, "\nBy area:");
        let width = self
            .areas
            .iter()
            .map(|a| a.area.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        // The area left-aligned, the counts right-aligned under their headings.
        let widths = [width, 5, 6, 6, 6, 7, 8, 10];
        let mut line = |cells: &[&str]| {
            out.push(' ');
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let _ = if i == 0 {
                    write!(out, " {cell:<w$}")
                } else {
                    write!(out, " {cell:>w$}")
                };
            }
            out.push('\n');
        };
        line(&AreaCounts::HEADINGS);
        for a in &self.areas {
            line(&a.cells().each_ref().map(String::as_str));
        }
    }

    /// The scenarios that were skipped, in run order.
    pub fn skipped(&self) -> Vec<&ScenarioOutcome> {
        self.scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Skipped { .. }))
            .collect()
    }

    pub fn write_json(&self, path: &Path) -> Result<(), HarnessError> {
        let text = serde_json::to_string_pretty(self).expect("the report serialises");
        write_file(path, &text)
    }

    /// A Markdown summary (for CI step summaries, e.g. $GITHUB_STEP_SUMMARY).
    pub fn write_markdown(&self, path: &Path) -> Result<(), HarnessError> {
        write_file(path, &markdown::markdown(self))
    }

    /// JUnit XML: one testsuite per feature, one testcase per scenario.
    pub fn write_junit(&self, path: &Path) -> Result<(), HarnessError> {
        write_file(path, &self.junit_xml())
    }

    pub fn junit_xml(&self) -> String {
        let mut features: Vec<&str> = Vec::new();
        for s in &self.scenarios {
            if !features.contains(&s.feature.as_str()) {
                features.push(&s.feature);
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"ba-harness conform\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
            self.scenarios.len(),
            self.counts.failed,
            self.counts.skipped,
            self.duration_ms as f64 / 1000.0,
            xml(&self.timestamp)
        );
        for (feature, area) in features.iter().zip(&self.areas) {
            let cases: Vec<_> = self
                .scenarios
                .iter()
                .filter(|s| s.feature == *feature)
                .collect();
            // A suite's time is the sum of its scenarios' (they run concurrently, so the suites'
            // times add up to more than the run's wall time, which <testsuites> carries).
            let suite_ms: u128 = cases.iter().filter_map(|c| c.duration_ms).sum();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
                xml(feature),
                cases.len(),
                area.counts.failed,
                area.counts.skipped,
                suite_ms as f64 / 1000.0,
                xml(&self.timestamp)
            );
            for case in cases {
                let (file, line) = case.file_and_line();
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"{}{}>",
                    xml(feature),
                    xml(&case.scenario),
                    xml(file),
                    line.map(|l| format!(" line=\"{l}\"")).unwrap_or_default(),
                    case.duration_ms
                        .map(|ms| format!(" time=\"{:.3}\"", ms as f64 / 1000.0))
                        .unwrap_or_default()
                );
                let spec_rules: Vec<String> =
                    case.spec_rules.iter().map(|r| r.describe()).collect();
                let _ = writeln!(
                    out,
                    "      <properties><property name=\"severity\" value=\"{}\"/><property name=\"capabilities\" value=\"{}\"/><property name=\"spec_rules\" value=\"{}\"/></properties>",
                    case.severity.as_str(),
                    xml(&case.capabilities.join(",")),
                    xml(&spec_rules.join("; "))
                );
                match &case.verdict {
                    Verdict::Passed => {}
                    Verdict::Skipped { reason } => {
                        let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(reason));
                    }
                    Verdict::Failed {
                        rule,
                        expected,
                        actual,
                        exchange,
                    } => {
                        let body = format!(
                            "rule: {rule}\nspec rules: {}\nexpected: {expected}\nactual: {actual}\n{}",
                            spec_rules.join("; "),
                            exchange.as_deref().unwrap_or("")
                        );
                        if case.is_warning() && !self.strict {
                            let _ = writeln!(
                                out,
                                "      <system-out>WARNING (SHOULD rule failed)\n{}</system-out>",
                                xml(&body)
                            );
                        } else {
                            let _ = writeln!(
                                out,
                                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                                xml(rule),
                                case.severity.as_str(),
                                xml(&body)
                            );
                        }
                    }
                    Verdict::Deviation {
                        rule,
                        actual,
                        release,
                        evidence,
                        ..
                    } => {
                        let _ = writeln!(
                            out,
                            "      <system-out>KNOWN DEVIATION of {}: {}\nrule: {}\nactual: {}\nevidence: {}</system-out>",
                            xml(release),
                            xml(&case.scenario),
                            xml(rule),
                            xml(actual),
                            xml(evidence)
                        );
                    }
                }
                out.push_str("    </testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Checks, before a run, that a report can be written at `path` (given with `flag`): its folder
/// exists or can be made, and a file there can be opened for writing. A file that was not there
/// is not left behind. A bad path is a usage error (exit 2), found before anything runs.
pub fn check_writable(path: &Path, flag: &str) -> Result<(), HarnessError> {
    let problem = |what: String| {
        HarnessError::Usage(format!(
            "{flag} {}: {what}; give a file path in a writable folder",
            path.display()
        ))
    };
    if path.as_os_str().is_empty() {
        return Err(problem("is empty".into()));
    }
    if path.is_dir() {
        return Err(problem("is a folder".into()));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Some(file) = parent.ancestors().find(|a| a.is_file()) {
            return Err(problem(format!(
                "{} is a file, not a folder",
                file.display()
            )));
        }
        std::fs::create_dir_all(parent)
            .map_err(|e| problem(format!("cannot make its folder ({e})")))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| problem(format!("cannot be written ({e})")))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), HarnessError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| HarnessError::Output {
            path: parent.display().to_string(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| HarnessError::Output {
        path: path.display().to_string(),
        source,
    })
}

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 forbids.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunReport {
        RunReport::new(
            "http://x".into(),
            1500,
            false,
            vec![
                ScenarioOutcome::new(
                    "Session cookie",
                    "HttpOnly",
                    "features/a.feature:3".into(),
                    vec![],
                    Verdict::Passed,
                ),
                ScenarioOutcome::failed(
                    "Session cookie",
                    "SameSite <Lax>",
                    "features/a.feature:9".into(),
                    vec![],
                    StepFailure {
                        rule: "the session cookie is SameSite=Lax".into(),
                        expected: "SameSite=Lax".into(),
                        actual: "SameSite=None".into(),
                        exchange: Some("< HTTP 200".into()),
                    },
                ),
                ScenarioOutcome::new(
                    "JWT",
                    "jwks",
                    "features/b.feature:3".into(),
                    vec!["jwt".into()],
                    Verdict::Skipped {
                        reason: "no jwks endpoint".into(),
                    },
                ),
                ScenarioOutcome::failed(
                    "JWT",
                    "recommended header",
                    "features/b.feature:9".into(),
                    vec!["jwt".into(), "should".into()],
                    StepFailure {
                        rule: "a SHOULD rule".into(),
                        expected: "x".into(),
                        actual: "y".into(),
                        exchange: None,
                    },
                ),
            ],
        )
    }

    #[test]
    fn should_failures_are_warnings_unless_strict() {
        let report = sample();
        assert_eq!(report.counts.warnings, 1);
        assert_eq!(report.counts.failed, 1);
        let strict = RunReport::new("x".into(), 1, true, report.scenarios.clone());
        assert_eq!(strict.counts.failed, 2);
        assert_eq!(strict.counts.warnings, 0);
        assert!(report.summary().contains("Warnings (SHOULD rules"));
        let jwt = report.areas.iter().find(|a| a.area == "JWT").unwrap();
        assert_eq!(
            (
                jwt.must,
                jwt.should,
                jwt.counts.skipped,
                jwt.counts.warnings
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(report.scenarios[0].capabilities, Vec::<String>::new());
    }

    #[test]
    fn summary_names_rule_and_ends_with_the_count_line() {
        let report = sample();
        let text = report.summary();
        assert!(text.contains("rule:     the session cookie is SameSite=Lax"));
        assert!(text.contains("no jwks endpoint"));
        assert_eq!(
            text.lines().last(),
            Some("conform: 1 passed, 1 failed, 1 skipped")
        );
        assert!(!report.passed());
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = sample().junit_xml();
        assert!(
            xml.contains("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        // file and line apart, so annotators resolve the file; time and timestamp per suite.
        assert!(
            xml.contains("file=\"features/a.feature\" line=\"9\""),
            "{xml}"
        );
        assert!(!xml.contains(".feature:"), "{xml}");
        let suites: Vec<&str> = xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testsuite "))
            .collect();
        assert_eq!(suites.len(), 2);
        assert!(
            suites
                .iter()
                .all(|l| l.contains(" time=\"") && l.contains(" timestamp=\"")),
            "{xml}"
        );
        assert!(xml.contains("WARNING (SHOULD rule failed)"));
        assert!(xml.contains("SameSite &lt;Lax&gt;"));
        assert!(xml.contains("<skipped message=\"no jwks endpoint\"/>"));
        assert!(xml.contains("<property name=\"severity\" value=\"MUST\"/>"));
    }

    #[test]
    fn markdown_leads_with_the_verdict_and_lists_failures_in_full() {
        let md = markdown::markdown(&sample());
        assert!(md.starts_with("## ba-harness conform: ❌ failed"), "{md}");
        assert!(md.contains("### Failures (1)"), "{md}");
        assert!(
            md.contains("  - rule: the session cookie is SameSite=Lax"),
            "{md}"
        );
        assert!(md.contains("SameSite &lt;Lax&gt;"), "{md}");
        assert!(md.contains("### SHOULD warnings"), "{md}");
        assert!(
            md.ends_with("`conform: 1 passed, 1 failed, 1 skipped`\n"),
            "{md}"
        );
    }

    #[test]
    fn failed_scenarios_name_their_spec_rules_in_json_and_junit() {
        let failed = ScenarioOutcome::failed(
            "OAuth",
            "revoked refresh token",
            "features/o.feature:4".into(),
            vec!["oauth-client".into(), "rfc7009-2.1-c".into()],
            StepFailure {
                rule: "revoked means dead".into(),
                expected: "invalid_grant".into(),
                actual: "200".into(),
                exchange: None,
            },
        );
        let report = RunReport::new("x".into(), 1, false, vec![failed]);
        let value = serde_json::to_value(&report).unwrap();
        let rule = &value["scenarios"][0]["spec_rules"][0];
        assert_eq!(
            (&rule["id"], &rule["spec"], &rule["section"], &rule["level"]),
            (
                &serde_json::json!("rfc7009-2.1-c"),
                &serde_json::json!("RFC 7009"),
                &serde_json::json!("2.1"),
                &serde_json::json!("MUST")
            )
        );
        let xml = report.junit_xml();
        assert!(
            xml.contains("spec rules: rfc7009-2.1-c (RFC 7009 §2.1, MUST)"),
            "{xml}"
        );
    }

    #[test]
    fn report_paths_are_checked_without_leaving_files() {
        let dir = std::env::temp_dir().join(format!("ba-harness-check-{}", std::process::id()));
        let path = dir.join("sub/report.json");
        check_writable(&path, "--json").unwrap();
        assert!(!path.exists(), "the probe left a file");
        assert!(dir.join("sub").is_dir());
        let err = check_writable(&dir, "--json").unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        std::fs::write(dir.join("file"), "x").unwrap();
        let err = check_writable(&dir.join("file/report.xml"), "--junit")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a file, not a folder"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn json_report_has_status_per_scenario() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(value["schema_version"], REPORT_SCHEMA_VERSION);
        assert_eq!(value["harness_version"], env!("CARGO_PKG_VERSION"));
        assert!(value["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(value["counts"]["failed"], 1);
        assert_eq!(value["scenarios"][1]["status"], "failed");
        assert_eq!(
            value["scenarios"][1]["rule"],
            "the session cookie is SameSite=Lax"
        );
    }
}
