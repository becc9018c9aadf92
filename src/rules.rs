//! The rule inventory: one entry per normative statement of the specs a Better Auth server must
//! keep (rules/<source>.toml), joined with the scenarios that check them (their rule-id tags).
//!
//! A rule's status is never written by hand as "covered": it is covered exactly when a scenario
//! in the features folder carries its id as a tag. Otherwise the entry says why it cannot be
//! checked from outside (`not_observable`) or does not apply (`not_applicable`), or it is
//! missing. rules/gaps.toml lists the observable MUST / MUST NOT rules that are missing, each
//! with why; tests/rules.rs keeps that list honest. See docs/rules.md.
//!
//! Everything here but the two loaders (`load_dir`, `embedded`) is pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::HarnessError;

/// How binding a rule is, in the words of RFC 2119.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }

    /// MUST and MUST NOT: a server that breaks one is not conformant.
    pub fn is_binding(self) -> bool {
        matches!(self, Level::Must | Level::MustNot)
    }
}

/// One normative statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Lowercase, usable as a cucumber tag: `rfc7009-2.1-c` is tagged `@rfc7009-2.1-c`.
    pub id: String,
    /// The source's name, e.g. "RFC 7009".
    pub spec: String,
    /// Section (or documentation page) of the source.
    pub section: String,
    pub level: Level,
    /// One line, in our own words.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_observable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// The passive check that enforces this rule on every recorded exchange of every scenario
    /// (e.g. "src/protocol/passive.rs password_echo"): covered without a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passive: Option<String>,
    /// The inventory file's stem (`rfc7009`): the id's prefix.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    spec: String,
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    url: String,
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: String,
    section: String,
    level: Level,
    summary: String,
    not_observable: Option<String>,
    not_applicable: Option<String>,
    passive: Option<String>,
}

/// The inventory files, embedded so that reports can name rules wherever the binary runs.
/// A new source file goes here too (tests/rules.rs checks that the list matches the folder).
pub const EMBEDDED_SOURCES: &[(&str, &str)] = &[
    ("better-auth", include_str!("../rules/better-auth.toml")),
    ("fetch-cors", include_str!("../rules/fetch-cors.toml")),
    ("oauth21", include_str!("../rules/oauth21.toml")),
    ("oidc-core", include_str!("../rules/oidc-core.toml")),
    (
        "oidc-discovery",
        include_str!("../rules/oidc-discovery.toml"),
    ),
    (
        "oidc-rp-logout",
        include_str!("../rules/oidc-rp-logout.toml"),
    ),
    ("rfc6265bis", include_str!("../rules/rfc6265bis.toml")),
    ("rfc6749", include_str!("../rules/rfc6749.toml")),
    ("rfc6750", include_str!("../rules/rfc6750.toml")),
    ("rfc7009", include_str!("../rules/rfc7009.toml")),
    ("rfc7591", include_str!("../rules/rfc7591.toml")),
    ("rfc7636", include_str!("../rules/rfc7636.toml")),
    ("rfc7662", include_str!("../rules/rfc7662.toml")),
    ("rfc8414", include_str!("../rules/rfc8414.toml")),
    ("rfc9207", include_str!("../rules/rfc9207.toml")),
];

/// The gap list, embedded alongside.
pub const EMBEDDED_GAPS: &str = include_str!("../rules/gaps.toml");

/// The file (in the rules folder) that lists the missing MUST rules.
pub const GAPS_FILE: &str = "gaps.toml";

/// The whole inventory, in file order (sources sorted by name).
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub rules: Vec<Rule>,
}

impl Inventory {
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The source prefixes (file stems), longest first so that `oidc-core-…` is not read as
    /// some shorter prefix.
    pub fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self
            .rules
            .iter()
            .map(|r| r.source.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        sources.sort_by_key(|s| std::cmp::Reverse(s.len()));
        sources
    }

    /// Builds the inventory from (file stem, text) pairs. Every problem found is returned: a
    /// malformed file or entry, an id that does not fit its file and section, a duplicate id.
    pub fn parse(sources: &[(&str, &str)]) -> Result<Inventory, Vec<String>> {
        let mut rules = Vec::new();
        let mut problems = Vec::new();
        let mut sorted: Vec<&(&str, &str)> = sources.iter().collect();
        sorted.sort_by_key(|(stem, _)| *stem);
        for (stem, text) in sorted {
            match parse_source(stem, text) {
                Ok(mut found) => rules.append(&mut found),
                Err(mut errs) => problems.append(&mut errs),
            }
        }
        let mut seen = BTreeSet::new();
        for rule in &rules {
            if !seen.insert(rule.id.as_str()) {
                problems.push(format!("{}: duplicate id", rule.id));
            }
        }
        if problems.is_empty() {
            Ok(Inventory { rules })
        } else {
            Err(problems)
        }
    }
}

/// Parses one inventory file (`stem` is its name without `.toml`) and checks every entry.
pub fn parse_source(stem: &str, text: &str) -> Result<Vec<Rule>, Vec<String>> {
    let file: SourceFile =
        toml::from_str(text).map_err(|e| vec![format!("rules/{stem}.toml: {e}")])?;
    let mut problems = Vec::new();
    let rules: Vec<Rule> = file
        .rule
        .into_iter()
        .map(|e| Rule {
            id: e.id,
            spec: file.spec.clone(),
            section: e.section,
            level: e.level,
            summary: e.summary,
            not_observable: e.not_observable,
            not_applicable: e.not_applicable,
            passive: e.passive,
            source: stem.to_string(),
        })
        .collect();
    if rules.is_empty() {
        problems.push(format!("rules/{stem}.toml: no [[rule]] entries"));
    }
    for rule in &rules {
        problems.extend(
            entry_problems(rule)
                .into_iter()
                .map(|p| format!("rules/{stem}.toml: {}: {p}", rule.id)),
        );
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems)
    }
}

/// What is wrong with one entry (empty when nothing is).
pub fn entry_problems(rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_tag_safe(&rule.id) {
        problems.push("the id must be lowercase letters, digits, '.' and '-' only".to_string());
    }
    match rule.id.strip_prefix(&format!("{}-", rule.source)) {
        None => problems.push(format!("the id must start with `{}-`", rule.source)),
        Some(rest) => match rest.rsplit_once('-') {
            Some((middle, letter))
                if !letter.is_empty() && letter.chars().all(|c| c.is_ascii_lowercase()) =>
            {
                // Spec ids embed their section (rfc6749-4.1.2-b has section 4.1.2); the
                // Better Auth ids embed an area of the documentation instead.
                if rule.source != "better-auth" && middle != rule.section {
                    problems.push(format!(
                        "the id names section {middle} but the entry says section {}",
                        rule.section
                    ));
                }
            }
            _ => problems.push("the id must end with -<letter(s)>, e.g. rfc7009-2.1-a".to_string()),
        },
    }
    if rule.section.trim().is_empty() {
        problems.push("empty section".to_string());
    }
    let summary = rule.summary.trim();
    if summary.is_empty() || summary.contains('\n') {
        problems.push("the summary must be one non-empty line".to_string());
    }
    if summary.len() > 240 {
        problems.push("the summary is longer than 240 characters: paraphrase, do not copy".into());
    }
    let declarations = [&rule.not_observable, &rule.not_applicable, &rule.passive];
    if declarations.iter().filter(|d| d.is_some()).count() > 1 {
        problems.push(
            "more than one of not_observable, not_applicable and passive: choose one".to_string(),
        );
    }
    for reason in declarations.into_iter().flatten() {
        if reason.trim().is_empty() {
            problems.push("an empty reason: say why".to_string());
        }
    }
    problems
}

fn is_tag_safe(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

/// Whether a scenario tag claims to be a rule id: it starts with an inventory source's prefix
/// (`rfc6749-`, `oidc-core-`, `better-auth-` …) or has the shape of an RFC rule id
/// (`rfc1234-…`), so that an id of a source that has no file yet is caught too.
pub fn looks_like_rule_id(tag: &str, sources: &[String]) -> bool {
    let tag = tag.trim_start_matches('@');
    if sources.iter().any(|s| tag.starts_with(&format!("{s}-"))) {
        return true;
    }
    tag.strip_prefix("rfc")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains('-'))
}

/// One gap: an observable MUST / MUST NOT rule without a scenario yet, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    pub id: String,
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GapsFile {
    #[serde(default)]
    gap: Vec<Gap>,
}

pub fn parse_gaps(text: &str) -> Result<Vec<Gap>, String> {
    toml::from_str::<GapsFile>(text)
        .map(|f| f.gap)
        .map_err(|e| format!("rules/{GAPS_FILE}: {e}"))
}

/// A scenario and the tags it carries (its feature's and rule's tags included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioTags {
    /// `features/oauth-tokens.feature:42`
    pub location: String,
    pub name: String,
    pub tags: Vec<String>,
}

/// The scenarios of one feature file's text.
pub fn scenarios_of(file_label: &str, text: &str) -> Result<Vec<ScenarioTags>, String> {
    use cucumber::gherkin::{Feature, GherkinEnv};
    let feature = Feature::parse(text, GherkinEnv::default())
        .map_err(|e| format!("{file_label}: not a feature file: {e}"))?;
    let mut found = Vec::new();
    let mut add = |inherited: &[String], scenario: &cucumber::gherkin::Scenario| {
        let mut tags: Vec<String> = inherited.to_vec();
        tags.extend(scenario.tags.iter().cloned());
        found.push(ScenarioTags {
            location: format!("{file_label}:{}", scenario.position.line),
            name: scenario.name.clone(),
            tags,
        });
    };
    for scenario in &feature.scenarios {
        add(&feature.tags, scenario);
    }
    for rule in &feature.rules {
        let inherited: Vec<String> = feature.tags.iter().chain(&rule.tags).cloned().collect();
        for scenario in &rule.scenarios {
            add(&inherited, scenario);
        }
    }
    Ok(found)
}

/// A rule's status, derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Scenarios that carry the id (their locations).
    Covered {
        scenarios: Vec<String>,
    },
    /// Checked by a passive check on every recorded exchange of every scenario.
    Passive {
        check: String,
    },
    NotObservable {
        why: String,
    },
    NotApplicable {
        why: String,
    },
    Missing,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Covered { .. } => "covered",
            Status::Passive { .. } => "covered (passive check)",
            Status::NotObservable { .. } => "not observable",
            Status::NotApplicable { .. } => "not applicable",
            Status::Missing => "missing",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    #[serde(flatten)]
    pub rule: Rule,
    #[serde(flatten)]
    pub status: Status,
}

/// Counts for one source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpecCounts {
    pub spec: String,
    pub source: String,
    pub total: usize,
    pub covered: usize,
    pub not_observable: usize,
    pub not_applicable: usize,
    pub missing: usize,
    /// Missing MUST / MUST NOT rules.
    pub missing_must: usize,
}

/// The inventory joined with the scenarios' tags.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
    pub specs: Vec<SpecCounts>,
    pub totals: SpecCounts,
    /// (scenario location, tag) for tags that look like rule ids but name no inventory entry.
    pub unknown_ids: Vec<(String, String)>,
    /// Rules declared not observable / not applicable that a scenario nevertheless tags: the
    /// declaration or the tag is wrong.
    pub contradictions: Vec<String>,
}

impl Coverage {
    pub fn missing(&self) -> impl Iterator<Item = &RuleCoverage> {
        self.rules
            .iter()
            .filter(|r| matches!(r.status, Status::Missing))
    }
}

pub fn coverage(inventory: &Inventory, scenarios: &[ScenarioTags]) -> Coverage {
    let sources = inventory.sources();
    let mut by_id: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut unknown_ids = Vec::new();
    for scenario in scenarios {
        for tag in &scenario.tags {
            let tag = tag.trim_start_matches('@');
            if inventory.get(tag).is_some() {
                by_id
                    .entry(inventory.get(tag).map(|r| r.id.as_str()).unwrap_or(tag))
                    .or_default()
                    .push(format!("{} ({})", scenario.location, scenario.name));
            } else if looks_like_rule_id(tag, &sources) {
                unknown_ids.push((scenario.location.clone(), tag.to_string()));
            }
        }
    }
    let mut contradictions = Vec::new();
    let rules: Vec<RuleCoverage> = inventory
        .rules
        .iter()
        .map(|rule| {
            let scenarios = by_id.get(rule.id.as_str()).cloned().unwrap_or_default();
            let declared = rule
                .not_observable
                .clone()
                .map(|why| Status::NotObservable { why })
                .or_else(|| {
                    rule.not_applicable
                        .clone()
                        .map(|why| Status::NotApplicable { why })
                });
            let passive = rule.passive.clone().map(|check| Status::Passive { check });
            let status = match (declared, scenarios.is_empty()) {
                (None, true) if passive.is_some() => passive.expect("checked"),
                (Some(declared), true) => declared,
                (Some(declared), false) => {
                    contradictions.push(format!(
                        "{} is declared {} but scenarios tag it: {}",
                        rule.id,
                        declared.label(),
                        scenarios.join("; ")
                    ));
                    Status::Covered { scenarios }
                }
                (None, false) => Status::Covered { scenarios },
                (None, true) => Status::Missing,
            };
            RuleCoverage {
                rule: rule.clone(),
                status,
            }
        })
        .collect();
    let mut specs: Vec<SpecCounts> = Vec::new();
    let mut totals = SpecCounts {
        spec: "all".into(),
        source: "all".into(),
        ..Default::default()
    };
    for rc in &rules {
        if specs.last().is_none_or(|s| s.source != rc.rule.source) {
            specs.push(SpecCounts {
                spec: rc.rule.spec.clone(),
                source: rc.rule.source.clone(),
                ..Default::default()
            });
        }
        let counts = specs.last_mut().expect("pushed above");
        for c in [counts, &mut totals] {
            c.total += 1;
            match rc.status {
                Status::Covered { .. } | Status::Passive { .. } => c.covered += 1,
                Status::NotObservable { .. } => c.not_observable += 1,
                Status::NotApplicable { .. } => c.not_applicable += 1,
                Status::Missing => {
                    c.missing += 1;
                    if rc.rule.level.is_binding() {
                        c.missing_must += 1;
                    }
                }
            }
        }
    }
    Coverage {
        rules,
        specs,
        totals,
        unknown_ids,
        contradictions,
    }
}

/// The per-spec table `ba-harness rules` prints (and docs/rules.md shows).
pub fn counts_table(coverage: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {:<16} | {:>5} | {:>7} | {:>14} | {:>14} | {:>7} | {:>12} |",
        "source", "rules", "covered", "not observable", "not applicable", "missing", "missing MUST"
    );
    let _ = writeln!(
        out,
        "|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(18),
        "-".repeat(7),
        "-".repeat(9),
        "-".repeat(16),
        "-".repeat(16),
        "-".repeat(9),
        "-".repeat(14)
    );
    for c in coverage
        .specs
        .iter()
        .chain(std::iter::once(&coverage.totals))
    {
        let _ = writeln!(
            out,
            "| {:<16} | {:>5} | {:>7} | {:>14} | {:>14} | {:>7} | {:>12} |",
            c.source,
            c.total,
            c.covered,
            c.not_observable,
            c.not_applicable,
            c.missing,
            c.missing_must
        );
    }
    out
}

/// The full listing: every rule with its level, status and summary, source by source, then the
/// counts table.
pub fn render(coverage: &Coverage, only_missing: bool) -> String {
    let mut out = String::new();
    let mut current = "";
    for rc in &coverage.rules {
        if only_missing && !matches!(rc.status, Status::Missing) {
            continue;
        }
        if rc.rule.source != current {
            current = &rc.rule.source;
            let _ = writeln!(out, "\n{} (rules/{}.toml)", rc.rule.spec, rc.rule.source);
        }
        let status = match &rc.status {
            Status::Covered { scenarios } => format!("covered by {}", scenarios.len()),
            Status::Passive { check } => format!("covered by the passive check {check}"),
            Status::NotObservable { why } => format!("not observable: {why}"),
            Status::NotApplicable { why } => format!("not applicable: {why}"),
            Status::Missing => "MISSING".to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<32} {:<10} {}\n      §{}: {}",
            rc.rule.id,
            rc.rule.level.as_str(),
            status,
            rc.rule.section,
            rc.rule.summary
        );
    }
    for (location, tag) in &coverage.unknown_ids {
        let _ = writeln!(out, "\nunknown rule id @{tag} at {location}");
    }
    for c in &coverage.contradictions {
        let _ = writeln!(out, "\ncontradiction: {c}");
    }
    let _ = writeln!(out);
    out.push_str(&counts_table(coverage));
    out
}

/// A rule named by a scenario, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub id: String,
    pub spec: String,
    pub section: String,
    pub level: Level,
}

impl RuleRef {
    /// `rfc7009-2.1-c (RFC 7009 §2.1, MUST)`
    pub fn describe(&self) -> String {
        format!(
            "{} ({} §{}, {})",
            self.id,
            self.spec,
            self.section,
            self.level.as_str()
        )
    }
}

/// The inventory rules a scenario's tags name, in tag order.
pub fn rules_for_tags(inventory: &Inventory, tags: &[String]) -> Vec<RuleRef> {
    tags.iter()
        .filter_map(|t| inventory.get(t.trim_start_matches('@')))
        .map(|r| RuleRef {
            id: r.id.clone(),
            spec: r.spec.clone(),
            section: r.section.clone(),
            level: r.level,
        })
        .collect()
}

/// The inventory built into the binary (reports use it, so they name rules wherever the
/// binary runs). The files are checked by tests/rules.rs, so a broken one cannot ship; should
/// it happen anyway, reports name no rules rather than fail the run.
pub fn embedded() -> &'static Inventory {
    static INVENTORY: OnceLock<Inventory> = OnceLock::new();
    INVENTORY.get_or_init(|| Inventory::parse(EMBEDDED_SOURCES).unwrap_or_default())
}

/// The rules folder for a features folder: BA_HARNESS_RULES_DIR, else `rules` next to the
/// features folder, else ./rules; `None` means the inventory built into the binary.
pub fn default_rules_dir(features_dir: &Path) -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("BA_HARNESS_RULES_DIR") {
        return Some(PathBuf::from(dir));
    }
    let beside = features_dir
        .parent()
        .map(|p| p.join("rules"))
        .unwrap_or_else(|| PathBuf::from("rules"));
    if beside.is_dir() {
        return Some(beside);
    }
    let local = PathBuf::from("rules");
    // None: the inventory built into the binary ([`embedded`]); never the build folder.
    local.is_dir().then_some(local)
}

/// Reads every `<source>.toml` of a rules folder (gaps.toml apart).
pub fn load_dir(dir: &Path) -> Result<Inventory, HarnessError> {
    let mut texts: Vec<(String, String)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        HarnessError::Usage(format!(
            "cannot read the rules folder {}: {e}; give it with --rules DIR",
            dir.display()
        ))
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|x| x == "toml") && format!("{stem}.toml") != GAPS_FILE {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| HarnessError::Usage(format!("cannot read {}: {e}", path.display())))?;
            texts.push((stem.to_string(), text));
        }
    }
    let borrowed: Vec<(&str, &str)> = texts
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    Inventory::parse(&borrowed).map_err(|problems| {
        HarnessError::Usage(format!(
            "the rule inventory in {} is malformed:\n  {}",
            dir.display(),
            problems.join("\n  ")
        ))
    })
}

/// The scenarios of every .feature file in a folder, files in name order.
pub fn load_scenarios(features_dir: &Path) -> Result<Vec<ScenarioTags>, HarnessError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(features_dir)
        .map_err(|e| {
            HarnessError::Usage(format!(
                "cannot read the features folder {}: {e}",
                features_dir.display()
            ))
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "feature"))
        .collect();
    paths.sort();
    let mut scenarios = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| HarnessError::Usage(format!("cannot read {}: {e}", path.display())))?;
        let label = format!(
            "features/{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        );
        scenarios.extend(scenarios_of(&label, &text).map_err(HarnessError::Usage)?);
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
spec = "RFC 7009"
title = "OAuth 2.0 Token Revocation"
url = "https://www.rfc-editor.org/rfc/rfc7009"

[[rule]]
id = "rfc7009-2.1-c"
section = "2.1"
level = "MUST"
summary = "A revoked refresh token is dead at once."

[[rule]]
id = "rfc7009-2-c"
section = "2"
level = "MUST"
summary = "TLS."
not_observable = "loopback http"

[[rule]]
id = "rfc7009-2.2-b"
section = "2.2"
level = "MUST"
summary = "Unknown tokens get 200."

[[rule]]
id = "rfc7009-2-b"
section = "2"
level = "SHOULD"
summary = "Access tokens too."
"#;

    fn inventory() -> Inventory {
        Inventory::parse(&[("rfc7009", SAMPLE)]).unwrap()
    }

    fn scenario(tags: &[&str]) -> ScenarioTags {
        ScenarioTags {
            location: "features/x.feature:3".into(),
            name: "x".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn coverage_derives_the_status_from_tags_and_declarations() {
        let cov = coverage(
            &inventory(),
            &[scenario(&["oauth-client", "rfc7009-2.1-c"])],
        );
        let status = |id: &str| {
            cov.rules
                .iter()
                .find(|r| r.rule.id == id)
                .unwrap()
                .status
                .label()
        };
        assert_eq!(status("rfc7009-2.1-c"), "covered");
        assert_eq!(status("rfc7009-2-c"), "not observable");
        assert_eq!(status("rfc7009-2.2-b"), "missing");
        assert_eq!(cov.totals.total, 4);
        assert_eq!(cov.totals.missing, 2);
        assert_eq!(cov.totals.missing_must, 1);
        assert!(cov.unknown_ids.is_empty());
    }

    #[test]
    fn a_passive_rule_is_covered_without_a_tag() {
        let text = SAMPLE.replacen(
            "summary = \"Unknown tokens get 200.\"",
            "summary = \"Unknown tokens get 200.\"\npassive = \"src/protocol/passive.rs x\"",
            1,
        );
        let inventory = Inventory::parse(&[("rfc7009", &text)]).unwrap();
        let cov = coverage(&inventory, &[]);
        let rc = cov
            .rules
            .iter()
            .find(|r| r.rule.id == "rfc7009-2.2-b")
            .unwrap();
        assert_eq!(rc.status.label(), "covered (passive check)");
        assert_eq!(cov.totals.covered, 1);
    }

    #[test]
    fn a_tag_that_looks_like_an_unknown_rule_id_is_reported() {
        let cov = coverage(
            &inventory(),
            &[scenario(&["rfc7009-9.9-z", "rfc1234-1-a", "core"])],
        );
        let tags: Vec<&str> = cov.unknown_ids.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(tags, ["rfc7009-9.9-z", "rfc1234-1-a"]);
    }

    #[test]
    fn tagging_a_rule_declared_not_observable_is_a_contradiction() {
        let cov = coverage(&inventory(), &[scenario(&["rfc7009-2-c"])]);
        assert_eq!(cov.contradictions.len(), 1);
    }

    #[test]
    fn malformed_entries_are_named() {
        let bad = SAMPLE
            .replace("rfc7009-2.2-b", "rfc7009-2.3-b")
            .replace("id = \"rfc7009-2-b\"", "id = \"RFC7009-2-b\"");
        let problems = Inventory::parse(&[("rfc7009", &bad)]).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("names section 2.3")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("lowercase")),
            "{problems:?}"
        );
        let dup = format!(
            "{SAMPLE}\n[[rule]]\nid = \"rfc7009-2-b\"\nsection = \"2\"\nlevel = \"MAY\"\nsummary = \"again\"\n"
        );
        let problems = Inventory::parse(&[("rfc7009", &dup)]).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("duplicate")),
            "{problems:?}"
        );
        let unknown_level = SAMPLE.replace("level = \"SHOULD\"", "level = \"OUGHT\"");
        assert!(Inventory::parse(&[("rfc7009", &unknown_level)]).is_err());
    }

    #[test]
    fn scenario_tags_include_the_feature_tags() {
        let text = "@core\nFeature: F\n\n  @rfc7009-2.1-c @should\n  Scenario: S\n    Given x\n";
        let found = scenarios_of("features/f.feature", text).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].tags, ["core", "rfc7009-2.1-c", "should"]);
        assert_eq!(found[0].location, "features/f.feature:5");
    }

    #[test]
    fn rules_for_tags_names_spec_and_section() {
        let refs = rules_for_tags(&inventory(), &["should".into(), "rfc7009-2.1-c".into()]);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].describe(), "rfc7009-2.1-c (RFC 7009 §2.1, MUST)");
    }

    #[test]
    fn the_embedded_inventory_parses() {
        assert!(Inventory::parse(EMBEDDED_SOURCES).is_ok());
        assert!(parse_gaps(EMBEDDED_GAPS).is_ok());
    }
}
