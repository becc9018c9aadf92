//! `ba-harness snapshot`: a conform run that records every exchange, written as .snap files.

use super::{Output, SnapshotArgs};
use crate::error::{HarnessError, Outcome};

pub(super) async fn run(
    args: SnapshotArgs,
    output: Output,
    secrets: crate::redact::Secrets,
) -> Result<Outcome, HarnessError> {
    super::conform::run(args.conform, Some(args.out), output, secrets).await
}
