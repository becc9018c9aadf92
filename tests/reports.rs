//! The reports CI tools read, written by real runs against the fake Better Auth (tests/support),
//! once compliant and once broken: the JSON report validates against docs/report.schema.json, the
//! JUnit report is read by a real JUnit reader (quick-junit), and the Markdown summary names the
//! failure.

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::{Flaw, SECRET};

/// The feature areas the fake implements.
const FAKE_AREAS_TAGS: &str = "@email-password or @session-cookie or @sign-out";

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nonce: u32 = rand::random();
        let dir = std::env::temp_dir().join(format!(
            "ba-harness-reports-{}-{nonce:08x}-{tag}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Reports {
    code: Option<i32>,
    output: String,
    json: Value,
    junit: String,
    markdown: String,
}

/// Runs conform against the fake with `flaw`, writing all three reports (into a folder that
/// does not exist yet: the harness makes it).
async fn run_with_reports(flaw: Flaw) -> Reports {
    let server = support::start(flaw).await;
    let dir = TempDir::new(&format!("{flaw:?}"));
    let out = dir.0.join("reports");
    let (json, junit, markdown) = (
        out.join("report.json"),
        out.join("junit.xml"),
        out.join("summary.md"),
    );
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["conform", "--target", &server.uri(), "--secret", SECRET])
        .args(["--tags", FAKE_AREAS_TAGS])
        .args(["--timeout", "10", "--run-timeout", "60"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .arg("--report")
        .arg(&markdown)
        .env_remove("BA_HARNESS_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the run finishes within 120 s")
        .expect("the harness runs");
    drop(server);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{} not written ({e}):\n{all}", path.display()))
    };
    Reports {
        code: output.status.code(),
        json: serde_json::from_str(&read(&json)).expect("the JSON report parses"),
        junit: read(&junit),
        markdown: read(&markdown),
        output: all,
    }
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_valid(report: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("docs/report.schema.json is a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the report breaks its schema: {errors:#?}"
    );
}

/// Checks the JUnit report with quick-junit's reader against the JSON report of the same run.
fn assert_junit_matches(junit: &str, json: &Value) {
    let report = quick_junit::Report::deserialize_from_str(junit)
        .unwrap_or_else(|e| panic!("quick-junit cannot read the JUnit report ({e}):\n{junit}"));
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(report.tests, scenarios.len());
    assert_eq!(
        report.failures,
        json["counts"]["failed"].as_u64().unwrap() as usize
    );
    assert!(!report.test_suites.is_empty());
    let mut cases = 0;
    for suite in &report.test_suites {
        assert!(
            suite.timestamp.is_some(),
            "suite {} has no timestamp",
            suite.name.as_str()
        );
        assert!(
            suite.time.is_some(),
            "suite {} has no time",
            suite.name.as_str()
        );
        for case in &suite.test_cases {
            cases += 1;
            let name = case.name.as_str();
            let file = case
                .extra
                .get("file")
                .map(|f| f.as_str())
                .unwrap_or_else(|| panic!("{name} has no file attribute"));
            let line = case
                .extra
                .get("line")
                .map(|l| l.as_str())
                .unwrap_or_else(|| panic!("{name} has no line attribute"));
            assert!(
                file.ends_with(".feature") && !file.contains(':'),
                "file={file}"
            );
            let line: u32 = line.parse().expect("line is a number");
            let location = format!("{file}:{line}");
            let scenario = scenarios
                .iter()
                .find(|s| s["location"] == location.as_str() && s["scenario"] == name)
                .unwrap_or_else(|| panic!("no scenario at {location} named {name}"));
            let failed_in_junit = matches!(
                case.status,
                quick_junit::TestCaseStatus::NonSuccess {
                    kind: quick_junit::NonSuccessKind::Failure,
                    ..
                }
            );
            let failed_in_json = scenario["status"] == "failed" && scenario["severity"] == "MUST";
            assert_eq!(failed_in_junit, failed_in_json, "{location}");
        }
    }
    assert_eq!(cases, scenarios.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_servers_reports_are_read_by_real_readers() {
    let run = run_with_reports(Flaw::WrongPassword400).await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    assert_valid(&run.json);
    assert_eq!(run.json["schema_version"], 1);
    assert_eq!(run.json["harness_version"], env!("CARGO_PKG_VERSION"));
    assert!(run.json["counts"]["failed"].as_u64().unwrap() >= 1);
    assert_junit_matches(&run.junit, &run.json);

    let failed: Vec<&Value> = run.json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert!(
        run.markdown.starts_with("## ba-harness conform: ❌ failed"),
        "{}",
        run.markdown
    );
    assert!(
        run.markdown
            .contains(&format!("### Failures ({})", failed.len())),
        "{}",
        run.markdown
    );
    for scenario in failed {
        let rule = scenario["rule"].as_str().unwrap();
        assert!(
            run.markdown.contains(&rule.replace('|', "\\|")),
            "the Markdown misses the rule {rule:?}:\n{}",
            run.markdown
        );
    }
    let counts = &run.json["counts"];
    assert!(run.markdown.contains(&format!(
        "`conform: {} passed, {} failed, {} skipped`",
        counts["passed"], counts["failed"], counts["skipped"]
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compliant_servers_reports_validate_and_read_as_passed() {
    let run = run_with_reports(Flaw::None).await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_valid(&run.json);
    assert_junit_matches(&run.junit, &run.json);
    assert!(run.markdown.starts_with("## ba-harness conform: ✅ passed"));
    assert!(!run.markdown.contains("### Failures"));
}

#[test]
fn the_schema_rejects_a_report_that_breaks_it() {
    // A validator that accepts anything would make the tests above assert nothing.
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let broken = serde_json::json!({
        "schema_version": 1,
        "harness_version": "0.1.0",
        "timestamp": "yesterday",
        "target": "x",
        "duration_ms": 1,
        "strict": false,
        "capabilities": [],
        "discovery_notes": [],
        "counts": {"passed": 0, "failed": 1, "skipped": 0, "warnings": 0, "deviations": 0},
        "areas": [],
        "scenarios": [{
            "feature": "f", "scenario": "s", "location": "f.feature:1", "tags": [],
            "severity": "MUST", "capabilities": [], "status": "failed"
        }]
    });
    let errors: Vec<String> = validator
        .iter_errors(&broken)
        .map(|e| e.to_string())
        .collect();
    // The timestamp's pattern and the failed scenario's missing rule, expected and actual.
    assert!(errors.iter().any(|e| e.contains("yesterday")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("rule")), "{errors:?}");
}
