//! docs/findings.md and known-deviations.toml describe the same deviations: every scenario the
//! deviation list names has its own section on the findings page, so neither can drift.

use std::path::Path;

#[test]
fn every_known_deviation_has_a_findings_section() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("known-deviations.toml")).unwrap())
            .unwrap();
    let findings = std::fs::read_to_string(root.join("docs/findings.md")).unwrap();
    let headings: Vec<&str> = findings
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::trim)
        .collect();
    let entries = list["deviation"].as_array().unwrap();
    assert!(!entries.is_empty());
    let missing: Vec<&str> = entries
        .iter()
        .map(|e| e["scenario"].as_str().unwrap())
        .filter(|s| !headings.contains(s))
        .collect();
    assert!(
        missing.is_empty(),
        "known-deviations.toml entries without a `### <scenario>` section in docs/findings.md: {missing:?}"
    );
}
