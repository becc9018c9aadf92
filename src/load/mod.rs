//! `load`: goose scenarios on the hot paths (get-session, JWT issue + verification), every
//! response checked, with reports.

use clap::Args;

use crate::error::HarnessError;

/// Arguments of `ba-harness load`.
#[derive(Debug, Args)]
pub struct LoadArgs {}

/// Runs a load test and returns the exit code.
pub async fn run(_args: LoadArgs) -> Result<i32, HarnessError> {
    Err(HarnessError::Usage("load is not implemented yet".into()))
}
