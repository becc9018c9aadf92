//! `ba-harness completions SHELL` and `ba-harness man`: shell completions and man pages made
//! from the clap definitions, so they never drift from the flags.

use std::io::Write as _;
use std::path::Path;

use clap::CommandFactory as _;

use super::Cli;
use crate::error::{HarnessError, Outcome};

pub(super) fn completions(shell: clap_complete::Shell) -> Result<Outcome, HarnessError> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "ba-harness", &mut out);
    write_stdout(&out)?;
    Ok(Outcome::Passed)
}

/// The man page on stdout, or with `out`, ba-harness.1 and one page per subcommand there.
pub(super) fn man(out: Option<&Path>) -> Result<Outcome, HarnessError> {
    let command = Cli::command();
    let output_error = |path: &Path, source: std::io::Error| HarnessError::Output {
        path: path.display().to_string(),
        source,
    };
    match out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| output_error(Path::new("stdout"), e))?;
            write_stdout(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
            clap_mangen::generate_to(command, dir).map_err(|e| output_error(dir, e))?;
            println!("man pages written to {}", dir.display());
        }
    }
    Ok(Outcome::Passed)
}

fn write_stdout(bytes: &[u8]) -> Result<(), HarnessError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        // A closed pipe (`ba-harness man | head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(HarnessError::Output {
            path: "stdout".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}
