//! Running the harness binary from a test: its command, what it printed, and the report files it
//! wrote. Shared by the flaw tests and the CLI, load and deployment tests.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// The harness binary for a blocking test: run from the package root with no stdin.
pub fn blocking_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    command
}

/// Runs the harness binary with `args` and waits for it.
pub fn run(args: &[&str]) -> Output {
    blocking_command()
        .args(args)
        .output()
        .expect("the harness binary runs")
}

/// The harness binary for an async test: run from the package root, with no stdin and no
/// BA_HARNESS_SECRET from the test's environment, killed if the test drops it.
pub fn command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("BA_HARNESS_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `command` to its end, which must come within `bound`.
pub async fn output_within(command: &mut tokio::process::Command, bound: Duration) -> Output {
    tokio::time::timeout(bound, command.output())
        .await
        .unwrap_or_else(|_| panic!("the harness did not finish within {bound:?}"))
        .expect("the harness binary runs")
}

/// Bytes a run printed, as text.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a run printed: its stdout, then its stderr.
pub fn text(output: &Output) -> String {
    format!("{}{}", lossy(&output.stdout), lossy(&output.stderr))
}

/// A fresh path in the temporary folder for a file one run writes, keeping the extension of
/// `name` last (the harness picks a report's kind by it): `ba-harness-<stem>-<pid>-<random>.<ext>`.
pub fn temp_file(name: &str) -> PathBuf {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    std::env::temp_dir().join(format!(
        "ba-harness-{stem}-{}-{:016x}.{ext}",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// The JSON file a run wrote (`Null` when it wrote none, or no JSON), removed once read.
pub fn take_json(path: &Path) -> serde_json::Value {
    let report = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let _ = std::fs::remove_file(path);
    report
}
