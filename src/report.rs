//! Run results: the terminal summary, JUnit XML and JSON reports.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::conform::world::StepFailure;
use crate::error::HarnessError;

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
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioOutcome {
    pub feature: String,
    pub scenario: String,
    /// `features/session-cookie.feature:12`
    pub location: String,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl ScenarioOutcome {
    pub fn failed(
        feature: &str,
        scenario: &str,
        location: String,
        tags: Vec<String>,
        failure: StepFailure,
    ) -> Self {
        ScenarioOutcome {
            feature: feature.into(),
            scenario: scenario.into(),
            location,
            tags,
            verdict: Verdict::Failed {
                rule: failure.rule,
                expected: failure.expected,
                actual: failure.actual,
                exchange: failure.exchange,
            },
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub target: String,
    pub duration_ms: u128,
    pub counts: Counts,
    pub scenarios: Vec<ScenarioOutcome>,
}

impl RunReport {
    pub fn new(target: String, duration_ms: u128, mut scenarios: Vec<ScenarioOutcome>) -> Self {
        scenarios.sort_by(|a, b| (&a.location, &a.scenario).cmp(&(&b.location, &b.scenario)));
        let mut counts = Counts::default();
        for s in &scenarios {
            match s.verdict {
                Verdict::Passed => counts.passed += 1,
                Verdict::Failed { .. } => counts.failed += 1,
                Verdict::Skipped { .. } => counts.skipped += 1,
            }
        }
        RunReport {
            target,
            duration_ms,
            counts,
            scenarios,
        }
    }

    pub fn passed(&self) -> bool {
        self.counts.failed == 0
    }

    /// The summary for a person: every failure with its rule, expectation, answer and
    /// exchange; every skip with its reason; then the one-line count CI tools read.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let failures: Vec<_> = self
            .scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Failed { .. }))
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "\nFailures ({}):", failures.len());
            for s in failures {
                if let Verdict::Failed {
                    rule,
                    expected,
                    actual,
                    exchange,
                } = &s.verdict
                {
                    let _ = writeln!(
                        out,
                        "\n  ✘ {} › {}  ({})",
                        s.feature, s.scenario, s.location
                    );
                    let _ = writeln!(out, "    rule:     {rule}");
                    let _ = writeln!(out, "    expected: {expected}");
                    let _ = writeln!(out, "    actual:   {actual}");
                    if let Some(exchange) = exchange {
                        let _ = writeln!(out, "    exchange:");
                        for line in exchange.lines().take(30) {
                            let _ = writeln!(out, "      {line}");
                        }
                    }
                }
            }
        }
        let skipped: Vec<_> = self
            .scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Skipped { .. }))
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(out, "\nSkipped ({}):", skipped.len());
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
        let _ = writeln!(
            out,
            "\nTarget: {}\nScenarios: {} total in {:.1} s",
            self.target,
            self.scenarios.len(),
            self.duration_ms as f64 / 1000.0
        );
        // The plain closing line CI reads.
        let _ = writeln!(
            out,
            "conform: {} passed, {} failed, {} skipped",
            self.counts.passed, self.counts.failed, self.counts.skipped
        );
        out
    }

    pub fn write_json(&self, path: &Path) -> Result<(), HarnessError> {
        let text = serde_json::to_string_pretty(self).expect("the report serialises");
        write_file(path, &text)
    }

    /// JUnit XML: one testsuite per feature, one testcase per scenario.
    pub fn write_junit(&self, path: &Path) -> Result<(), HarnessError> {
        write_file(path, &self.junit_xml())
    }

    pub fn junit_xml(&self) -> String {
        let mut features: Vec<&str> = self.scenarios.iter().map(|s| s.feature.as_str()).collect();
        features.dedup();
        let mut seen = std::collections::BTreeSet::new();
        features.retain(|f| seen.insert(*f));

        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"ba-harness conform\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.scenarios.len(),
            self.counts.failed,
            self.counts.skipped,
            self.duration_ms as f64 / 1000.0
        );
        for feature in features {
            let cases: Vec<_> = self
                .scenarios
                .iter()
                .filter(|s| s.feature == feature)
                .collect();
            let failed = cases
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::Failed { .. }))
                .count();
            let skipped = cases
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::Skipped { .. }))
                .count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">",
                xml(feature),
                cases.len()
            );
            for case in cases {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
                    xml(feature),
                    xml(&case.scenario),
                    xml(&case.location)
                );
                match &case.verdict {
                    Verdict::Passed => out.push_str("/>\n"),
                    Verdict::Skipped { reason } => {
                        let _ = writeln!(
                            out,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                            xml(reason)
                        );
                    }
                    Verdict::Failed {
                        rule,
                        expected,
                        actual,
                        exchange,
                    } => {
                        let body = format!(
                            "rule: {rule}\nexpected: {expected}\nactual: {actual}\n{}",
                            exchange.as_deref().unwrap_or("")
                        );
                        let _ = writeln!(
                            out,
                            ">\n      <failure message=\"{}\" type=\"conformance\">{}</failure>\n    </testcase>",
                            xml(rule),
                            xml(&body)
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), HarnessError> {
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
            vec![
                ScenarioOutcome {
                    feature: "Session cookie".into(),
                    scenario: "HttpOnly".into(),
                    location: "features/a.feature:3".into(),
                    tags: vec![],
                    verdict: Verdict::Passed,
                },
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
                ScenarioOutcome {
                    feature: "JWT".into(),
                    scenario: "jwks".into(),
                    location: "features/b.feature:3".into(),
                    tags: vec!["jwt".into()],
                    verdict: Verdict::Skipped {
                        reason: "no jwks endpoint".into(),
                    },
                },
            ],
        )
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
        assert!(xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
        assert!(xml.contains("SameSite &lt;Lax&gt;"));
        assert!(xml.contains("<skipped message=\"no jwks endpoint\"/>"));
    }

    #[test]
    fn json_report_has_status_per_scenario() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(value["counts"]["failed"], 1);
        assert_eq!(value["scenarios"][1]["status"], "failed");
        assert_eq!(
            value["scenarios"][1]["rule"],
            "the session cookie is SameSite=Lax"
        );
    }
}
