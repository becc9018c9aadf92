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

/// Which deviation list a run uses: a file (`--deviations FILE`, or `$BA_HARNESS_DEVIATIONS`),
/// or the one embedded in the binary, made for the bundled release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviationList {
    Embedded,
    File(PathBuf),
    /// No list: a port of Better Auth to another language is judged without the TypeScript
    /// release's findings, which must not excuse another implementation.
    Empty,
}

impl DeviationList {
    /// `--deviations FILE` when given, else `$BA_HARNESS_DEVIATIONS` when set, else the
    /// embedded list. The working directory plays no part: a run means the same from anywhere.
    pub fn from_flag(flag: Option<PathBuf>) -> Self {
        if let Some(path) = flag {
            return DeviationList::File(path);
        }
        match std::env::var_os("BA_HARNESS_DEVIATIONS").filter(|v| !v.is_empty()) {
            Some(path) => DeviationList::File(PathBuf::from(path)),
            None => DeviationList::Embedded,
        }
    }

    /// What the report says about the list: its path, or
    /// `embedded known-deviations.toml (better-auth 1.7.25)`.
    pub fn describe(&self) -> String {
        match self {
            DeviationList::File(path) => path.display().to_string(),
            DeviationList::Empty => "none (a port is judged without the reference's list)".into(),
            DeviationList::Embedded => match crate::assets::bundled_better_auth_version() {
                Some(version) => format!("embedded known-deviations.toml (better-auth {version})"),
                None => "embedded known-deviations.toml".into(),
            },
        }
    }

    /// Reads and checks the list. A file that is missing, unreadable or malformed is a
    /// configuration error (exit 2): a list silently taken as empty would turn every listed
    /// deviation into a MUST failure.
    pub fn load(&self) -> Result<Vec<Deviation>, HarnessError> {
        match self {
            DeviationList::Embedded => parse(crate::assets::DEVIATIONS).map_err(|e| {
                HarnessError::Usage(format!("the embedded deviation list is not valid: {e}"))
            }),
            DeviationList::File(path) => load(path),
            DeviationList::Empty => Ok(Vec::new()),
        }
    }
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

/// Loads a list file; a missing, unreadable or malformed one is a configuration error (exit 2)
/// that names the file and the cause.
pub fn load(path: &Path) -> Result<Vec<Deviation>, HarnessError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| {
            HarnessError::Usage(format!(
                "deviation list {} is not valid: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(HarnessError::Usage(format!(
            "deviation list {} does not exist; give an existing file with --deviations FILE, \
             or leave the flag (and BA_HARNESS_DEVIATIONS) out to use the embedded list",
            path.display()
        ))),
        Err(e) => Err(HarnessError::Usage(format!(
            "could not read deviation list {}: {e}",
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
        let embedded = DeviationList::Embedded.load().unwrap();
        assert!(!embedded.is_empty());
        // cargo runs unit tests in the package root.
        let path = PathBuf::from("known-deviations.toml");
        assert_eq!(
            load(&path).unwrap(),
            embedded,
            "the embedded list is the file"
        );
        assert_eq!(
            DeviationList::Embedded.describe(),
            "embedded known-deviations.toml (better-auth 1.7.25)"
        );
    }

    #[test]
    fn a_missing_or_malformed_file_is_a_usage_error_naming_it() {
        let missing = PathBuf::from("/nonexistent/deviations.toml");
        let Err(HarnessError::Usage(message)) = DeviationList::File(missing).load() else {
            panic!("a missing list must be a usage error");
        };
        assert!(
            message.contains("/nonexistent/deviations.toml"),
            "{message}"
        );
        assert!(message.contains("does not exist"), "{message}");

        let bad =
            std::env::temp_dir().join(format!("ba-harness-bad-list-{}.toml", std::process::id()));
        std::fs::write(&bad, "[[deviation]]\nscenario = 1\n").unwrap();
        let result = load(&bad);
        std::fs::remove_file(&bad).unwrap();
        let Err(HarnessError::Usage(message)) = result else {
            panic!("a malformed list must be a usage error");
        };
        assert!(message.contains(&bad.display().to_string()), "{message}");
        assert!(message.contains("not valid"), "{message}");
    }
}
