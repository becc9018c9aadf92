//! What a conform run tells while it runs: the runner emits events, a listener (the terminal
//! reporter, or nothing) consumes them. The runner itself never prints (the nextest shape).

use std::fmt;
use std::sync::Arc;

use super::ScenarioOutcome;

/// One step of a finished scenario, for the step-by-step (`--verbose`) output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// `Given`, `When`, `Then`, `And`...
    pub keyword: String,
    pub text: String,
    pub status: StepStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    /// The step failed; the text names the rule, what was expected and what came back.
    Failed(String),
    /// Not run (an earlier step failed).
    Skipped,
}

/// What happens during a run, in order.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// The run starts: the target and how many scenarios the tag filter selects.
    Started {
        target: &'a str,
        total: usize,
        strict: bool,
    },
    /// Discovery finished: the target's capabilities and what discovery noted.
    Discovered {
        capabilities: &'a [String],
        notes: &'a [String],
    },
    /// One scenario ended (ran, or was skipped for a missing capability).
    ScenarioFinished {
        outcome: &'a ScenarioOutcome,
        steps: &'a [StepRecord],
    },
    /// The accounts the run created were deleted (or kept): the cleanup's summary line.
    Cleanup { summary: &'a str },
    /// The run's clients waited out the target's rate limit: how long, over how many retries
    /// of requests the target refused with 429.
    RateLimitWaits {
        waited: std::time::Duration,
        retries: u64,
    },
}

/// Consumes a run's events.
pub trait RunListener: Send + Sync {
    fn on_event(&self, event: &RunEvent<'_>);
}

/// Consumes nothing (library callers, tests).
pub struct Silent;

impl RunListener for Silent {
    fn on_event(&self, _event: &RunEvent<'_>) {}
}

/// A shared listener, carried in the run's options.
#[derive(Clone)]
pub struct Listener(pub Arc<dyn RunListener>);

impl Listener {
    pub fn new(listener: impl RunListener + 'static) -> Self {
        Listener(Arc::new(listener))
    }

    pub fn emit(&self, event: &RunEvent<'_>) {
        self.0.on_event(event);
    }
}

impl Default for Listener {
    fn default() -> Self {
        Listener::new(Silent)
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Listener")
    }
}
