//! `ba-harness load`: the load runner (crate::load) owns its flags and its run.

use crate::error::{EXIT_INTERRUPTED, EXIT_OK, HarnessError, Outcome};
use crate::load::LoadArgs;

pub(super) async fn run(
    args: LoadArgs,
    secrets: crate::redact::Secrets,
) -> Result<Outcome, HarnessError> {
    // crate::load::run answers with an exit code; read back as the outcome it stands for.
    Ok(match crate::load::run(args, secrets).await? {
        EXIT_OK => Outcome::Passed,
        EXIT_INTERRUPTED => Outcome::Interrupted,
        _ => Outcome::Failed,
    })
}
