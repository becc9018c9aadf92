//! Errors that end a run, how a command ended, and the exit code each maps to (the CI contract
//! in the README). This is the one place that maps outcomes and errors to codes; library code
//! returns them, and only `main` ends the process with the code.

/// 0: everything checked passed.
pub const EXIT_OK: i32 = 0;
/// 1: a conformance failure (or, for `load`, a threshold missed; for `diff`, a difference).
pub const EXIT_FAILED: i32 = 1;
/// 2: bad usage or configuration.
pub const EXIT_USAGE: i32 = 2;
/// 3: the target could not be reached, or the bundled server could not be installed or booted.
pub const EXIT_UNREACHABLE: i32 = 3;
/// 130: interrupted by Ctrl-C (the shell convention, 128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// How a command ended, before it becomes a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked passed (or, for `diff`, nothing differs).
    Passed,
    /// A conformance failure, a missed load threshold, a snapshot difference.
    Failed,
    /// Ctrl-C.
    Interrupted,
}

impl Outcome {
    /// `Passed` when `passed`, else `Failed`.
    pub fn from_passed(passed: bool) -> Self {
        if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }

    /// The exit code of this outcome.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Passed => EXIT_OK,
            Outcome::Failed => EXIT_FAILED,
            Outcome::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The command line or a configuration value is wrong; the message says how to fix it.
    #[error("{0}")]
    Usage(String),
    /// The target did not answer at all.
    #[error("target unreachable: {cause}\n  fix: {fix}")]
    Unreachable { cause: String, fix: String },
    /// The bundled server could not be installed or started.
    #[error("{cause}\n  fix: {fix}{}", log_tail.as_ref().map(|t| format!("\n  last lines of the server log:\n{t}")).unwrap_or_default())]
    Boot {
        cause: String,
        fix: String,
        log_tail: Option<String>,
    },
    /// Writing a report failed.
    #[error("could not write {path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
}

impl HarnessError {
    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> i32 {
        match self {
            HarnessError::Usage(_) | HarnessError::Output { .. } => EXIT_USAGE,
            HarnessError::Unreachable { .. } | HarnessError::Boot { .. } => EXIT_UNREACHABLE,
        }
    }
}

/// The exit code of a whole command: its outcome, or the error that ended it.
pub fn exit_code(result: &Result<Outcome, HarnessError>) -> i32 {
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => error.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_and_error_has_its_documented_code() {
        assert_eq!(exit_code(&Ok(Outcome::Passed)), 0);
        assert_eq!(exit_code(&Ok(Outcome::from_passed(false))), 1);
        assert_eq!(exit_code(&Ok(Outcome::Interrupted)), 130);
        assert_eq!(exit_code(&Err(HarnessError::Usage("x".into()))), 2);
        let output = HarnessError::Output {
            path: "p".into(),
            source: std::io::Error::other("x"),
        };
        assert_eq!(exit_code(&Err(output)), 2);
        let unreachable = HarnessError::Unreachable {
            cause: "c".into(),
            fix: "f".into(),
        };
        assert_eq!(exit_code(&Err(unreachable)), 3);
    }
}
