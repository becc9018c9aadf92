//! Errors that end a run, and the exit code each maps to (the CI contract in the README).

/// 0: everything checked passed.
pub const EXIT_OK: i32 = 0;
/// 1: a conformance failure (or, for `load`, a threshold missed).
pub const EXIT_FAILED: i32 = 1;
/// 2: bad usage or configuration.
pub const EXIT_USAGE: i32 = 2;
/// 3: the target could not be reached, or the bundled server could not be installed or booted.
pub const EXIT_UNREACHABLE: i32 = 3;
/// 130: interrupted by Ctrl-C (the shell convention, 128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

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
    pub fn exit_code(&self) -> i32 {
        match self {
            HarnessError::Usage(_) | HarnessError::Output { .. } => EXIT_USAGE,
            HarnessError::Unreachable { .. } | HarnessError::Boot { .. } => EXIT_UNREACHABLE,
        }
    }
}
