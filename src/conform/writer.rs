//! The cucumber writer of a conform run. cucumber's own writer prints every step and shows a
//! rule failure as "Step panicked. Captured output: …", which reads as a crash of the tool; this
//! one prints nothing. It turns cucumber's events into the run's events (crate::report::event):
//! each finished scenario, with its outcome (recorded by the after hook) and its steps, goes to
//! the run's listener, which decides what the terminal shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cucumber::event::{self, Cucumber, Feature, RetryableScenario, Rule, Scenario, StepError};
use cucumber::{Event, Writer, cli, gherkin, parser};

use super::location;
use super::world::AuthWorld;
use crate::deviations::Deviation;
use crate::redact::Secrets;
use crate::report::ScenarioOutcome;
use crate::report::event::{Listener, RunEvent, StepRecord, StepStatus};

/// Outcomes the after hook recorded, by location, until the writer sees the scenario finish.
pub type Pending = Arc<Mutex<HashMap<String, ScenarioOutcome>>>;

pub struct RunWriter {
    listener: Listener,
    pending: Pending,
    deviations: Vec<Deviation>,
    /// The run's redaction, for step error texts.
    secrets: Secrets,
    /// Steps seen so far, by scenario location.
    steps: HashMap<String, Vec<StepRecord>>,
    /// Feature files that could not be parsed, with the parser's message.
    pub parse_errors: Vec<String>,
}

impl RunWriter {
    pub fn new(
        listener: Listener,
        pending: Pending,
        deviations: Vec<Deviation>,
        secrets: Secrets,
    ) -> Self {
        RunWriter {
            listener,
            pending,
            deviations,
            secrets,
            steps: HashMap::new(),
            parse_errors: Vec::new(),
        }
    }

    fn scenario(
        &mut self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        event: RetryableScenario<AuthWorld>,
    ) {
        let loc = location(feature, scenario);
        let (step, step_event) = match event.event {
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => (step, ev),
            Scenario::Finished => {
                let steps = self.steps.remove(&loc).unwrap_or_default();
                let outcome = self
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&loc);
                if let Some(mut outcome) = outcome {
                    crate::deviations::apply(&mut outcome, &self.deviations);
                    self.listener.emit(&RunEvent::ScenarioFinished {
                        outcome: &outcome,
                        steps: &steps,
                    });
                }
                return;
            }
            _ => return,
        };
        let status = match step_event {
            event::Step::Started => return,
            event::Step::Passed(..) => StepStatus::Passed,
            event::Step::Skipped => StepStatus::Skipped,
            event::Step::Failed(_, _, _, error) => {
                StepStatus::Failed(self.secrets.scrub_text(&step_error_text(&error)))
            }
        };
        self.steps.entry(loc).or_default().push(StepRecord {
            keyword: step.keyword.trim().to_string(),
            text: step.value.clone(),
            status,
        });
    }
}

/// What a failed step says: a rule failure's own text (rule, expected, actual, exchange), not
/// cucumber's "Step panicked" wrapper.
fn step_error_text(error: &StepError) -> String {
    match error {
        StepError::Panic(info) => info
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the step panicked".into()),
        other => other.to_string(),
    }
}

impl Writer<AuthWorld> for RunWriter {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<Cucumber<AuthWorld>>>,
        _cli: &Self::Cli,
    ) {
        let event = match event {
            Ok(event) => event.value,
            Err(error) => {
                self.parse_errors.push(error.to_string());
                return;
            }
        };
        if let Cucumber::Feature(feature, feature_event) = event {
            match feature_event {
                Feature::Scenario(scenario, ev) => self.scenario(&feature, &scenario, ev),
                Feature::Rule(_, Rule::Scenario(scenario, ev)) => {
                    self.scenario(&feature, &scenario, ev)
                }
                _ => {}
            }
        }
    }
}

// Events of concurrent scenarios arrive interleaved; this writer keys everything by scenario,
// so it needs no normalisation.
impl cucumber::writer::Normalized for RunWriter {}
