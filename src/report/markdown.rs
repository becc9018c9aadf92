//! The Markdown report: a short summary for CI step summaries ($GITHUB_STEP_SUMMARY, a merge
//! request note). Failures come first, in full; passes are only counted.

use std::fmt::Write as _;

use super::{AreaCounts, RunReport, ScenarioOutcome, Verdict};

/// Picks the scenarios one section lists.
type Selector<'a> = Box<dyn Fn(&&ScenarioOutcome) -> bool + 'a>;

/// Escapes text for a Markdown table cell or a line of prose.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The head of a Markdown table whose first column is text and whose others are figures
/// (right-aligned): the headings row and the alignment row.
pub fn figures_table_head<'a>(headings: impl IntoIterator<Item = &'a str>) -> String {
    let headings: Vec<&str> = headings.into_iter().collect();
    format!(
        "| {} |\n| --- |{}",
        headings.join(" | "),
        " ---: |".repeat(headings.len().saturating_sub(1))
    )
}

/// The Markdown summary of a run.
pub fn markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let c = &report.counts;
    let verdict = if report.passed() {
        "✅ passed"
    } else {
        "❌ failed"
    };
    let _ = writeln!(out, "## ba-harness conform: {verdict}\n");
    let _ = writeln!(out, "Target: {}  ", cell(&report.target));
    let _ = writeln!(
        out,
        "ba-harness {}, {} scenarios in {:.1} s, started {}{}\n",
        report.harness_version,
        report.scenarios.len(),
        report.duration_ms as f64 / 1000.0,
        report.timestamp,
        if report.strict { " (--strict)" } else { "" }
    );
    let _ = writeln!(
        out,
        "| passed | failed | skipped | SHOULD warnings | known deviations |\n|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n",
        c.passed, c.failed, c.skipped, c.warnings, c.deviations
    );
    let failing = |s: &&ScenarioOutcome| {
        matches!(s.verdict, Verdict::Failed { .. }) && (report.strict || !s.is_warning())
    };
    let sections: [(&str, Selector); 3] = [
        ("Failures", Box::new(failing)),
        (
            "SHOULD warnings (--strict makes them failures)",
            Box::new(|s| !report.strict && s.is_warning()),
        ),
        (
            "Known deviations (not counted as failures)",
            Box::new(|s| matches!(s.verdict, Verdict::Deviation { .. })),
        ),
    ];
    for (title, keep) in sections {
        let listed: Vec<_> = report.scenarios.iter().filter(keep).collect();
        if listed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", listed.len());
        for (s, failed) in super::with_failures(listed) {
            let _ = writeln!(
                out,
                "- **{}** › {} (`{}`, {})",
                cell(&s.feature),
                cell(&s.scenario),
                s.location,
                s.severity.as_str()
            );
            let _ = writeln!(out, "  - rule: {}", cell(failed.rule));
            let _ = writeln!(out, "  - expected: {}", cell(failed.expected));
            let _ = writeln!(out, "  - actual: {}", cell(failed.actual));
            if let Verdict::Deviation { release, .. } = &s.verdict {
                let _ = writeln!(out, "  - release: {}", cell(release));
            }
            if let Some(exchange) = failed.exchange {
                // Four backticks: an exchange may itself contain three.
                let _ = writeln!(
                    out,
                    "\n  <details><summary>exchange</summary>\n\n  ````text\n{}\n  ````\n\n  </details>",
                    exchange
                        .lines()
                        .take(30)
                        .map(|l| format!("  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<details><summary>By area</summary>\n\n{}",
        figures_table_head(AreaCounts::HEADINGS)
    );
    for a in &report.areas {
        let _ = writeln!(out, "| {} |", a.cells().map(|c| cell(&c)).join(" | "));
    }
    let _ = writeln!(out, "\n</details>\n");
    let skipped = report.skipped();
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Skipped ({})</summary>\n",
            skipped.len()
        );
        for s in skipped {
            if let Verdict::Skipped { reason } = &s.verdict {
                let _ = writeln!(
                    out,
                    "- {} › {}: {}",
                    cell(&s.feature),
                    cell(&s.scenario),
                    cell(reason)
                );
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    let _ = writeln!(
        out,
        "\n`conform: {} passed, {} failed, {} skipped`",
        c.passed, c.failed, c.skipped
    );
    out
}
