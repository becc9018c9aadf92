//! Keeps the rule inventory honest (docs/rules.md):
//! - every inventory file is well formed, ids are unique and fit their file and section, and the
//!   copy built into the binary is the folder's;
//! - every rule-id-looking tag of a scenario names an inventory entry, and no scenario tags a
//!   rule the inventory declares not observable or not applicable;
//! - every scenario names at least one rule;
//! - every observable MUST / MUST NOT rule has a scenario; rules/gaps.toml, where missing ones
//!   were listed with why while they were being written, is empty and must stay so.
//!
//! tests/coverage.rs, separately, requires every scenario to be failed by a broken server.

use std::collections::BTreeSet;
use std::path::Path;

use ba_harness::rules::{self, Status};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The rule inventory of rules/ and the scenarios of features/.
fn inventory_and_scenarios() -> (rules::Inventory, Vec<rules::ScenarioTags>) {
    let inventory = rules::load_dir(&root().join("rules")).unwrap_or_else(|e| panic!("{e}"));
    let scenarios =
        rules::load_scenarios(&root().join("features")).unwrap_or_else(|e| panic!("{e}"));
    (inventory, scenarios)
}

fn coverage() -> (rules::Inventory, rules::Coverage) {
    let (inventory, scenarios) = inventory_and_scenarios();
    let coverage = rules::coverage(&inventory, &scenarios);
    (inventory, coverage)
}

#[test]
fn the_inventory_is_well_formed_and_embedded_as_it_is_in_the_folder() {
    let (inventory, _) = coverage();
    assert!(
        inventory.rules.len() >= 150,
        "{} rules",
        inventory.rules.len()
    );
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| !p.ends_with(rules::GAPS_FILE))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    on_disk.sort();
    let embedded: Vec<(String, String)> = rules::EMBEDDED_SOURCES
        .iter()
        .map(|(s, t)| (s.to_string(), t.to_string()))
        .collect();
    assert_eq!(
        on_disk.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        embedded.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "src/rules.rs EMBEDDED_SOURCES must list every rules/*.toml file, sorted"
    );
    assert!(
        on_disk == embedded,
        "the embedded inventory differs from rules/"
    );
    assert_eq!(rules::embedded().rules.len(), inventory.rules.len());
}

/// Fails with `what`, how many and which, unless `found` is empty.
fn assert_none(found: &[String], what: &str) {
    assert!(
        found.is_empty(),
        "{what} ({}):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn scenario_tags_name_only_known_rules_and_respect_declarations() {
    let (_, coverage) = coverage();
    let unknown: Vec<String> = coverage
        .unknown_ids
        .iter()
        .map(|(at, tag)| format!("{at}: @{tag}"))
        .collect();
    assert_none(
        &unknown,
        "scenario tags that look like rule ids but are not in rules/*.toml",
    );
    assert!(
        coverage.contradictions.is_empty(),
        "rules declared not observable / not applicable that scenarios check:\n{}",
        coverage.contradictions.join("\n")
    );
}

#[test]
fn every_scenario_names_a_rule() {
    let (inventory, scenarios) = inventory_and_scenarios();
    let untagged: Vec<String> = scenarios
        .iter()
        .filter(|s| rules::rules_for_tags(&inventory, &s.tags).is_empty())
        .map(|s| format!("{}: {}", s.location, s.name))
        .collect();
    assert_none(&untagged, "scenarios without a rule id tag");
}

#[test]
fn every_observable_must_has_a_scenario_or_a_reviewed_gap() {
    let (inventory, coverage) = coverage();
    let gaps = rules::parse_gaps(&std::fs::read_to_string(root().join("rules/gaps.toml")).unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for gap in &gaps {
        if !listed.insert(gap.id.as_str()) {
            problems.push(format!("{}: listed twice in gaps.toml", gap.id));
        }
        if gap.why.trim().is_empty() {
            problems.push(format!("{}: gaps.toml gives no reason", gap.id));
        }
        match coverage.rules.iter().find(|r| r.rule.id == gap.id) {
            None => problems.push(format!("{}: in gaps.toml but not in the inventory", gap.id)),
            Some(rc) if !rc.rule.level.is_binding() => problems.push(format!(
                "{}: gaps.toml lists only MUST / MUST NOT rules, this one is {}",
                gap.id,
                rc.rule.level.as_str()
            )),
            Some(rc) if !matches!(rc.status, Status::Missing) => problems.push(format!(
                "{}: is {} now: delete it from gaps.toml",
                gap.id,
                rc.status.label()
            )),
            Some(_) => {}
        }
    }
    for rc in coverage.missing() {
        if rc.rule.level.is_binding() && !listed.contains(rc.rule.id.as_str()) {
            problems.push(format!(
                "{} ({} §{}, {}): no scenario checks this observable rule: {}",
                rc.rule.id,
                rc.rule.spec,
                rc.rule.section,
                rc.rule.level.as_str(),
                rc.rule.summary
            ));
        }
    }
    eprintln!(
        "rule inventory: {} rules, {} covered, {} not observable, {} not applicable, {} missing ({} MUST, {} listed in rules/gaps.toml)",
        inventory.rules.len(),
        coverage.totals.covered,
        coverage.totals.not_observable,
        coverage.totals.not_applicable,
        coverage.totals.missing,
        coverage.totals.missing_must,
        gaps.len()
    );
    assert_none(&problems, "the inventory and the scenarios disagree");
    // Every observable MUST has a scenario now: the reviewed-gap list is empty and stays so.
    assert!(
        gaps.is_empty(),
        "rules/gaps.toml lists {} observable MUST rule(s) without a scenario: write the scenario \
         (with its broken server) instead of listing the gap",
        gaps.len()
    );
}

#[test]
fn the_rules_command_prints_the_counts_and_the_missing_rules() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"))
            .arg("rules")
            .args(args)
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (inventory, coverage) = coverage();
    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    assert_eq!(
        json["rules"].as_array().unwrap().len(),
        inventory.rules.len()
    );
    assert_eq!(json["totals"]["covered"], coverage.totals.covered);
    let missing: serde_json::Value = serde_json::from_str(&run(&["--missing", "--json"])).unwrap();
    assert_eq!(
        missing["rules"].as_array().unwrap().len(),
        coverage.totals.missing
    );
    assert!(
        missing["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "missing")
    );
    let text = run(&["--missing"]);
    assert!(text.contains("| all "), "{text}");
    assert!(
        !text.contains("covered by"),
        "--missing lists only missing rules"
    );
}

/// A MUST scenario (no @should tag) whose failure fails the run must check at least one MUST /
/// MUST NOT rule: otherwise a failure would call a SHOULD broken a conformance failure.
/// Reviewed exceptions, each with why.
const SEVERITY_EXCEPTIONS: &[(&str, &str)] = &[(
    "Every cookie arrives in its own Set-Cookie header line",
    "RFC 6265bis only says SHOULD NOT fold, but a folded Set-Cookie line loses cookies in every \
     browser, so the harness has always held it as a MUST; the lead decides whether it becomes @should",
)];

#[test]
fn every_must_scenario_checks_a_must_rule() {
    let (inventory, scenarios) = inventory_and_scenarios();
    let weak: Vec<String> = scenarios
        .iter()
        .filter(|s| !s.tags.iter().any(|t| t == "should"))
        .filter(|s| !SEVERITY_EXCEPTIONS.iter().any(|(name, _)| *name == s.name))
        .filter(|s| {
            let named = rules::rules_for_tags(&inventory, &s.tags);
            !named.is_empty() && !named.iter().any(|r| r.level.is_binding())
        })
        .map(|s| format!("{}: {}", s.location, s.name))
        .collect();
    assert_none(
        &weak,
        "MUST scenarios that name only SHOULD / MAY rules: tag the MUST they check, or make them @should",
    );
}
