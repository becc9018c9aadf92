//! Every conformance scenario must be shown to fail against a server that breaks its rule. This
//! guard finds scenarios that no test names: each scenario name in features/ must appear, as a
//! string literal, in one of the broken-server test files.

use std::path::Path;

fn read_dir_files(dir: &Path, extension: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_is_failed_by_some_broken_server_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tests: String = read_dir_files(&root.join("tests"), "rs")
        .into_iter()
        .filter(|(path, _)| !path.ends_with("coverage.rs") && !path.ends_with("cli.rs"))
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("\n");
    let mut uncovered = Vec::new();
    for (path, text) in read_dir_files(&root.join("features"), "feature") {
        for line in text.lines() {
            if let Some(name) = line.trim_start().strip_prefix("Scenario:") {
                let name = name.trim();
                if !tests.contains(&format!("\"{name}\"")) {
                    uncovered.push(format!("{path}: {name}"));
                }
            }
        }
    }
    assert!(
        uncovered.is_empty(),
        "scenarios that no broken-server test fails ({}):\n{}",
        uncovered.len(),
        uncovered.join("\n")
    );
}
