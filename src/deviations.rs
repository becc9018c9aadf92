//! known-deviations.toml: where a real Better Auth release breaks an RFC MUST on purpose or by
//! long-standing behaviour. The check stays as strict as the RFC; a failure that matches an
//! entry is reported as a known deviation, with its evidence, instead of a failure.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::HarnessError;
use crate::report::{ScenarioOutcome, Verdict};

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The exact scenario name.
    pub scenario: String,
    /// The rule, as the RFC or the docs state it.
    pub rule: String,
    /// The release(s) that deviate, e.g. "better-auth 1.7.25 + @better-auth/oauth-provider 1.7.5".
    pub release: String,
    /// What was observed: the request and the answer.
    pub evidence: String,
    /// A fragment of the failure's `actual` text that identifies this deviation, so that any
    /// other failure of the same scenario is still reported as a failure.
    pub actual_contains: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviationFile {
    #[serde(default)]
    deviation: Vec<Deviation>,
}

/// The list: `$BA_HARNESS_DEVIATIONS`, else ./known-deviations.toml, else the one shipped next
/// to this crate's sources.
pub fn default_path() -> PathBuf {
    if let Ok(path) = std::env::var("BA_HARNESS_DEVIATIONS") {
        return PathBuf::from(path);
    }
    let local = PathBuf::from("known-deviations.toml");
    if local.is_file() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("known-deviations.toml")
}

pub fn parse(text: &str) -> Result<Vec<Deviation>, String> {
    let file: DeviationFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for d in &file.deviation {
        if d.actual_contains.trim().is_empty() {
            return Err(format!(
                "deviation for `{}` has an empty actual_contains: it would hide every failure of that scenario",
                d.scenario
            ));
        }
    }
    Ok(file.deviation)
}

/// Loads the list; a missing file is an empty list, a malformed one is a configuration error.
pub fn load(path: &Path) -> Result<Vec<Deviation>, HarnessError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| {
            HarnessError::Usage(format!(
                "{} is not a valid deviation list: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(HarnessError::Usage(format!(
            "could not read {}: {e}",
            path.display()
        ))),
    }
}

/// Turns a failure that matches an entry into a known deviation; leaves everything else alone.
pub fn apply(outcome: &mut ScenarioOutcome, deviations: &[Deviation]) {
    let Verdict::Failed {
        rule,
        expected,
        actual,
        exchange,
    } = &outcome.verdict
    else {
        return;
    };
    let Some(d) = deviations
        .iter()
        .find(|d| d.scenario == outcome.scenario && actual.contains(&d.actual_contains))
    else {
        return;
    };
    outcome.verdict = Verdict::Deviation {
        rule: rule.clone(),
        expected: expected.clone(),
        actual: actual.clone(),
        exchange: exchange.clone(),
        release: d.release.clone(),
        evidence: d.evidence.clone(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StepFailure;

    const LIST: &str = r#"
[[deviation]]
scenario = "A wrong code_verifier is refused"
rule = "RFC 7636 4.6: invalid_grant"
release = "oauth-provider 1.7.5"
evidence = "401 invalid_request"
actual_contains = "invalid_request"
"#;

    fn failed(actual: &str) -> ScenarioOutcome {
        ScenarioOutcome::failed(
            "OAuth",
            "A wrong code_verifier is refused",
            "f:1".into(),
            vec![],
            StepFailure {
                rule: "r".into(),
                expected: "invalid_grant".into(),
                actual: actual.into(),
                exchange: None,
            },
        )
    }

    #[test]
    fn a_matching_failure_becomes_a_deviation_and_others_stay_failures() {
        let list = parse(LIST).unwrap();
        let mut matching = failed("HTTP 401 invalid_request");
        apply(&mut matching, &list);
        assert!(matches!(matching.verdict, Verdict::Deviation { .. }));
        let mut other = failed("HTTP 200 with tokens");
        apply(&mut other, &list);
        assert!(matches!(other.verdict, Verdict::Failed { .. }));
    }

    #[test]
    fn rejects_entries_that_would_hide_everything() {
        let bad = LIST.replace(
            "actual_contains = \"invalid_request\"",
            "actual_contains = \"\"",
        );
        assert!(parse(&bad).is_err());
        assert!(parse("[[deviation]]\nscenario = 1").is_err());
    }

    #[test]
    fn the_shipped_list_parses() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("known-deviations.toml");
        if path.is_file() {
            load(&path).unwrap();
        }
    }
}
