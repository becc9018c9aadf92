//! The terminal reporter: one line per scenario as it finishes (status, area › name, duration),
//! a live counter on a terminal, and the failures in full at the end (cargo-nextest's shape).
//! `--verbose` adds each scenario's steps; `--quiet` prints the summary and failures only.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;

use super::event::{RunEvent, RunListener, StepRecord, StepStatus};
use super::style::{ColorWhen, Style};
use super::{RunReport, ScenarioOutcome, Verdict};

/// How much the terminal shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// The summary and the failures only (`--quiet`).
    Quiet,
    /// One line per scenario, then the summary (the default).
    #[default]
    Normal,
    /// Every scenario's steps, then the summary (`--verbose`).
    Verbose,
}

/// The status word of a finished scenario.
pub fn status_word(outcome: &ScenarioOutcome, strict: bool) -> &'static str {
    match outcome.verdict {
        Verdict::Passed => "PASS",
        Verdict::Failed { .. } if outcome.is_warning() && !strict => "WARN",
        Verdict::Failed { .. } => "FAIL",
        Verdict::Skipped { .. } => "SKIP",
        Verdict::Deviation { .. } => "DEVIATION",
    }
}

fn paint_status(style: Style, word: &str) -> String {
    let padded = format!("{word:>10}");
    match word {
        "PASS" => style.green(&padded),
        "FAIL" => style.red(&padded),
        "WARN" => style.yellow(&padded),
        "DEVIATION" => style.magenta(&padded),
        _ => style.cyan(&padded),
    }
}

/// `      PASS [  0.412s] Session cookie › HttpOnly` (a skip names the capability it needs).
pub fn scenario_line(style: Style, outcome: &ScenarioOutcome, strict: bool) -> String {
    let word = status_word(outcome, strict);
    let duration = outcome
        .duration_ms
        .map(|ms| format!("{:>7.3}s", ms as f64 / 1000.0))
        .unwrap_or_else(|| " ".repeat(8));
    let mut line = format!(
        "{} [{duration}] {} › {}",
        paint_status(style, word),
        style.dim(&outcome.feature),
        outcome.scenario
    );
    if let Verdict::Skipped { reason } = &outcome.verdict {
        let short = reason.split(':').next().unwrap_or(reason);
        line.push_str(&style.dim(&format!("  ({short})")));
    }
    line
}

/// The step-by-step block of one scenario (`--verbose`).
pub fn scenario_block(
    style: Style,
    outcome: &ScenarioOutcome,
    steps: &[StepRecord],
    strict: bool,
) -> String {
    let mut out = format!(
        "{} {} › {}  {}\n",
        style.bold("Scenario:"),
        outcome.feature,
        outcome.scenario,
        style.dim(&outcome.location)
    );
    for step in steps {
        let (mark, text) = match &step.status {
            StepStatus::Passed => (style.green("✔"), format!("{} {}", step.keyword, step.text)),
            StepStatus::Failed(_) => (style.red("✘"), format!("{} {}", step.keyword, step.text)),
            StepStatus::Skipped => (
                style.cyan("-"),
                style.dim(&format!("{} {} (not run)", step.keyword, step.text)),
            ),
        };
        out.push_str(&format!("  {mark} {text}\n"));
        if let StepStatus::Failed(message) = &step.status {
            for line in message.lines() {
                out.push_str(&format!("      {line}\n"));
            }
        }
    }
    out.push_str(&scenario_line(style, outcome, strict));
    out.push('\n');
    out
}

#[derive(Default)]
struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    strict: bool,
    /// The counter line is drawn on stderr and must be erased before the next line.
    counter_shown: bool,
}

/// Prints a run's events to the terminal.
pub struct TerminalReporter {
    verbosity: Verbosity,
    style: Style,
    /// Draw the live counter (stderr is a terminal, normal verbosity).
    live: bool,
    progress: Mutex<Progress>,
}

/// Erases the current terminal line.
const ERASE_LINE: &str = "\r\x1b[2K";

impl TerminalReporter {
    /// A reporter for this process's stdout and stderr.
    pub fn new(verbosity: Verbosity, color: ColorWhen) -> Self {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        let live = verbosity == Verbosity::Normal && std::io::stderr().is_terminal() && !dumb;
        TerminalReporter {
            verbosity,
            style: Style::new(color.enabled(std::io::stdout().is_terminal())),
            live,
            progress: Mutex::default(),
        }
    }

    pub fn style(&self) -> Style {
        self.style
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Prints a line on stdout (not in quiet mode), keeping the live counter below it.
    pub fn line(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            self.erase_counter(&mut progress);
            println!("{text}");
        }
    }

    fn erase_counter(&self, progress: &mut Progress) {
        if progress.counter_shown {
            eprint!("{ERASE_LINE}");
            progress.counter_shown = false;
        }
    }

    fn draw_counter(&self, progress: &mut Progress) {
        if !self.live {
            return;
        }
        let failed = if progress.failed > 0 {
            self.style.red(&format!("{} failed", progress.failed))
        } else {
            format!("{} failed", progress.failed)
        };
        eprint!(
            "{ERASE_LINE}{} [{:>4}/{}] {failed}",
            self.style.bold("   Running"),
            progress.done,
            progress.total
        );
        let _ = std::io::stderr().flush();
        progress.counter_shown = true;
    }

    /// The end of a run: the failures in full, then the counts (quiet: without the skipped
    /// list and the per-area table).
    pub fn summary(&self, report: &RunReport) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        self.erase_counter(&mut progress);
        let full = self.verbosity != Verbosity::Quiet;
        print!("{}", report.summary_with(self.style, full));
        let _ = std::io::stdout().flush();
    }
}

impl RunListener for TerminalReporter {
    fn on_event(&self, event: &RunEvent<'_>) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            RunEvent::Started {
                target,
                total,
                strict,
            } => {
                *progress = Progress {
                    total: *total,
                    strict: *strict,
                    ..Progress::default()
                };
                if self.verbosity != Verbosity::Quiet {
                    println!(
                        "{} {target} ({total} scenarios)",
                        self.style.bold("ba-harness conform:")
                    );
                }
            }
            RunEvent::Discovered {
                capabilities,
                notes,
            } => {
                if self.verbosity != Verbosity::Quiet {
                    println!("capabilities: {}", capabilities.join(", "));
                    for note in notes.iter() {
                        println!("  note: {note}");
                    }
                }
            }
            RunEvent::ScenarioFinished { outcome, steps } => {
                progress.done += 1;
                if status_word(outcome, progress.strict) == "FAIL" {
                    progress.failed += 1;
                }
                self.erase_counter(&mut progress);
                match self.verbosity {
                    Verbosity::Quiet => {}
                    Verbosity::Normal => {
                        println!("{}", scenario_line(self.style, outcome, progress.strict));
                    }
                    Verbosity::Verbose => {
                        print!(
                            "{}",
                            scenario_block(self.style, outcome, steps, progress.strict)
                        );
                    }
                }
                let _ = std::io::stdout().flush();
                self.draw_counter(&mut progress);
            }
            RunEvent::Cleanup { summary } => {
                self.erase_counter(&mut progress);
                if self.verbosity != Verbosity::Quiet {
                    println!("{summary}");
                }
            }
            RunEvent::RateLimitWaits { waited, retries } => {
                self.erase_counter(&mut progress);
                if self.verbosity != Verbosity::Quiet {
                    println!(
                        "waited {} s for the target's rate limit ({retries} retries of requests it refused with 429)",
                        waited.as_secs()
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: Verdict, tags: Vec<String>) -> ScenarioOutcome {
        let mut o = ScenarioOutcome::new(
            "Session cookie",
            "HttpOnly",
            "features/a.feature:3".into(),
            tags,
            verdict,
        );
        o.duration_ms = Some(412);
        o
    }

    #[test]
    fn one_line_per_scenario_with_status_area_name_and_duration() {
        let line = scenario_line(Style::new(false), &outcome(Verdict::Passed, vec![]), false);
        assert_eq!(line, "      PASS [  0.412s] Session cookie › HttpOnly");
        let failed = Verdict::Failed {
            rule: "r".into(),
            expected: "e".into(),
            actual: "a".into(),
            exchange: None,
        };
        let should = outcome(failed.clone(), vec!["should".into()]);
        assert!(scenario_line(Style::new(false), &should, false).contains("      WARN ["));
        assert!(scenario_line(Style::new(false), &should, true).contains("      FAIL ["));
        let skipped = outcome(
            Verdict::Skipped {
                reason: "needs @jwt: no JWKS endpoint".into(),
            },
            vec![],
        );
        assert!(scenario_line(Style::new(false), &skipped, false).ends_with("(needs @jwt)"));
    }

    #[test]
    fn the_verbose_block_lists_steps_and_the_failure_as_a_rule_not_a_panic() {
        let steps = vec![
            StepRecord {
                keyword: "Given".into(),
                text: "a new user".into(),
                status: StepStatus::Passed,
            },
            StepRecord {
                keyword: "Then".into(),
                text: "the cookie is HttpOnly".into(),
                status: StepStatus::Failed("rule: HttpOnly\nexpected: x\nactual: y".into()),
            },
        ];
        let block = scenario_block(
            Style::new(false),
            &outcome(Verdict::Passed, vec![]),
            &steps,
            false,
        );
        assert!(block.contains("  ✔ Given a new user\n"), "{block}");
        assert!(block.contains("  ✘ Then the cookie is HttpOnly\n      rule: HttpOnly\n"));
        assert!(!block.contains("panicked"));
    }
}
