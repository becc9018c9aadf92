//! `ba-harness diff`: compare two snapshot folders, one coloured unified diff per changed
//! exchange, then a summary. Colour follows the global --color and NO_COLOR.

use std::io::IsTerminal as _;

use super::{DiffArgs, Output};
use crate::error::{HarnessError, Outcome};

pub(super) fn run(args: DiffArgs, output: Output) -> Result<Outcome, HarnessError> {
    let ignore = args
        .ignore
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| {
                HarnessError::Usage(format!("--ignore `{p}` is not a regular expression: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let read = |dir: &std::path::Path| {
        crate::snapshot::read_snapshots(dir).map_err(|e| {
            HarnessError::Usage(format!(
                "cannot read snapshots in {}: {e} (make them with `ba-harness snapshot --out DIR`)",
                dir.display()
            ))
        })
    };
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let color = output.color.enabled(std::io::stdout().is_terminal());
    let diff = crate::snapshot::diff_snapshots(&before, &after, &ignore, color);
    for (name, text) in &diff.changed {
        println!("changed: {name}\n{text}");
    }
    for name in &diff.added {
        println!("added: {name}");
    }
    for name in &diff.removed {
        println!("removed: {name}");
    }
    println!(
        "diff: {} changed, {} added, {} removed, {} unchanged",
        diff.changed.len(),
        diff.added.len(),
        diff.removed.len(),
        before.len() - diff.changed.len() - diff.removed.len()
    );
    Ok(Outcome::from_passed(diff.is_empty()))
}
