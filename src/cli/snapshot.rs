//! `ba-harness snapshot`: a conform run that records every exchange, written as .snap files.

use std::path::Path;

use super::{Output, SnapshotArgs};
use crate::error::{HarnessError, Outcome};
use crate::report::terminal::TerminalReporter;

/// Scenarios left out of snapshots: they poll until something expires, so how many exchanges
/// they make depends on timing, not on the protocol.
/// The Next.js scenarios post multipart forms outside the recorded client, so they are left out too.
/// The resource-server scenarios talk to a backend on a random port outside the recorded target.
pub(super) const SNAPSHOT_EXCLUDED_TAGS: &str = "not @short-cookie-cache and not @session-refresh and not @rate-limit and not @next-app and not @resource-server";

pub(super) async fn run(args: SnapshotArgs, output: Output) -> Result<Outcome, HarnessError> {
    super::conform::run(args.conform, Some(args.out), output).await
}

/// Replaces the .snap files in `dir` with this run's.
pub(super) fn write_snapshot_dir(
    dir: &Path,
    recorder: &crate::snapshot::Recorder,
    reporter: &TerminalReporter,
) -> Result<Outcome, HarnessError> {
    let files = recorder.files();
    let output_error = |source: std::io::Error| HarnessError::Output {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        for old in crate::snapshot::read_snapshots(dir)
            .map_err(output_error)?
            .keys()
        {
            std::fs::remove_file(dir.join(old)).map_err(output_error)?;
        }
    }
    let written = crate::snapshot::write_snapshots(dir, &files).map_err(output_error)?;
    reporter.line(&format!(
        "snapshot: {} exchanges written to {}",
        written.len(),
        dir.display()
    ));
    Ok(Outcome::Passed)
}
