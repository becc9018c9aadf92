//! `ba-harness matrix`: the compatibility matrix of several conform JSON reports (the bundled
//! reference and the ports, `conform --port NAME --json FILE`), printed or written into the
//! generated block of a Markdown file (docs/compatibility.md).

use std::path::{Path, PathBuf};

use super::MatrixArgs;
use crate::error::{HarnessError, Outcome};
use crate::report::matrix::{BEGIN, END, render, replace_block};

pub(super) fn run(args: MatrixArgs) -> Result<Outcome, HarnessError> {
    let columns = args
        .reports
        .iter()
        .map(|spec| load(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let table = render(&columns);
    let Some(path) = args.into else {
        print!("{table}");
        return Ok(Outcome::Passed);
    };
    let document = read(&path)?;
    let Some(updated) = replace_block(&document, &table) else {
        return Err(HarnessError::Usage(format!(
            "{} has no generated block: add the lines `{BEGIN}` and `{END}` where the matrix goes",
            path.display()
        )));
    };
    crate::report::write_file(&path, &updated)?;
    eprintln!("ba-harness: updated the matrix in {}", path.display());
    Ok(Outcome::Passed)
}

/// `NAME=FILE`, or `FILE` (named after its stem, without a `port-` prefix).
fn load(spec: &str) -> Result<(String, serde_json::Value), HarnessError> {
    let (name, path) = match spec.split_once('=') {
        Some((name, path)) => (name.to_string(), PathBuf::from(path)),
        None => {
            let path = PathBuf::from(spec);
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            (stem.trim_start_matches("port-").to_string(), path)
        }
    };
    let report = serde_json::from_str(&read(&path)?).map_err(|e| {
        HarnessError::Usage(format!(
            "{} is not a conform JSON report: {e}",
            path.display()
        ))
    })?;
    Ok((name, report))
}

fn read(path: &Path) -> Result<String, HarnessError> {
    std::fs::read_to_string(path)
        .map_err(|e| HarnessError::Usage(format!("could not read {}: {e}", path.display())))
}
