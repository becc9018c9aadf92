//! Deployments that differ from the bundled reference in ordinary, documented ways, faked with
//! wiremock where only a few endpoints matter: the mount path, closed sign-up, the rate limiter
//! and its 429s. A missing precondition must be a skip with its reason, a wrong mount an exit 2
//! naming --base-path, and each rate-limit scenario must fail on a limiter that breaks exactly
//! its rule (and no other scenario with it).

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use mutating_proxy::harness;

/// Bound on one harness run, on top of the harness's own --run-timeout.
const RUN_BOUND: Duration = Duration::from_secs(120);

/// Sign-ins one bucket allows before 429.
const LIMIT: u32 = 3;

/// How the fake's sign-in limiter behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Limiter {
    /// One bucket for every client (it ignores X-Forwarded-For): 429 with X-Retry-After and a
    /// JSON message, as Better Auth answers.
    Compliant,
    /// No limit at all.
    Off,
    /// 429 without X-Retry-After or Retry-After.
    NoRetryHeader,
    /// 429 with a text/plain body.
    TextBody,
    /// One bucket per X-Forwarded-For value: a client escapes by claiming another address.
    TrustsForwardedFor,
}

struct SignIn {
    limiter: Limiter,
    counts: Mutex<HashMap<String, u32>>,
}

impl Respond for SignIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = match self.limiter {
            Limiter::TrustsForwardedFor => request
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            _ => "everyone".to_string(),
        };
        let count = {
            let mut counts = self.counts.lock().unwrap();
            let count = counts.entry(key).or_default();
            *count += 1;
            *count
        };
        if self.limiter == Limiter::Off || count <= LIMIT {
            return ResponseTemplate::new(401).set_body_json(json!({
                "code": "INVALID_EMAIL_OR_PASSWORD",
                "message": "Invalid email or password",
            }));
        }
        let limited = ResponseTemplate::new(429);
        let limited = if self.limiter == Limiter::NoRetryHeader {
            limited
        } else {
            limited.insert_header("x-retry-after", "7")
        };
        if self.limiter == Limiter::TextBody {
            limited.set_body_raw("Too many requests", "text/plain")
        } else {
            limited.set_body_json(json!({"message": "Too many requests. Please try again later."}))
        }
    }
}

/// A fake Better Auth at `mount`: get-session answers `null`, sign-up is closed
/// (EMAIL_PASSWORD_SIGN_UP_DISABLED), sign-in refuses every password behind `limiter`;
/// everything else is 404.
async fn fake(mount: &str, limiter: Limiter) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{mount}/get-session")))
        .respond_with(ResponseTemplate::new(200).set_body_raw("null", "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{mount}/sign-up/email")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "EMAIL_PASSWORD_SIGN_UP_DISABLED",
            "message": "Email and password sign up is not enabled",
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{mount}/sign-in/email")))
        .respond_with(SignIn {
            limiter,
            counts: Mutex::default(),
        })
        .mount(&server)
        .await;
    server
}

/// One finished `ba-harness conform` run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    report: Value,
}

impl Run {
    fn scenario(&self, name: &str) -> &Value {
        self.report["scenarios"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["scenario"] == name))
            .unwrap_or_else(|| panic!("no scenario {name:?} in the report\n{}", self.context()))
    }

    fn failed(&self) -> Vec<String> {
        self.report["scenarios"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|s| s["status"] == "failed")
                    .filter_map(|s| s["scenario"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn context(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `conform --target <target>` with `args` until it finishes.
async fn conform(target: &str, args: &[&str]) -> Run {
    let report_file = harness::temp_file("deployments.json");
    let output = harness::output_within(
        harness::command()
            .args(["conform", "--target", target, "--json"])
            .arg(&report_file)
            .args(["--timeout", "10", "--run-timeout", "90"])
            .args(args)
            .env_remove("BA_HARNESS_FEATURES_DIR"),
        RUN_BOUND,
    )
    .await;
    Run {
        code: output.status.code(),
        stdout: harness::lossy(&output.stdout),
        stderr: harness::lossy(&output.stderr),
        report: harness::take_json(&report_file),
    }
}

const PROBE_SCENARIOS: &[&str] = &[
    "Sign-in is rate-limited: a burst of failed sign-ins from one client meets 429",
    "A 429 from the sign-in limit says when to retry",
    "A 429 from the sign-in limit explains itself in a JSON body",
    "Another X-Forwarded-For does not escape the sign-in limit",
];

#[tokio::test]
async fn a_base_path_that_answers_404_with_no_better_auth_elsewhere_exits_2_naming_base_path() {
    let server = MockServer::start().await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    assert_eq!(run.code, Some(2), "{}", run.context());
    assert!(
        run.stderr.contains("--base-path") && run.stderr.contains("/api/auth/get-session is 404"),
        "{}",
        run.context()
    );
}

#[tokio::test]
async fn better_auth_mounted_elsewhere_is_found_and_used() {
    let server = fake("/auth", Limiter::Compliant).await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    assert!(
        run.stdout.contains(
            "Better Auth found at /auth (not /api/auth); using it. Pass --base-path /auth to skip this probe"
        ),
        "{}",
        run.context()
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    for name in PROBE_SCENARIOS {
        assert_eq!(run.scenario(name)["status"], "passed", "{}", run.context());
    }
}

#[tokio::test]
async fn closed_sign_up_skips_the_scenarios_that_need_a_fresh_account_with_the_flag_to_give() {
    let server = fake("/api/auth", Limiter::Compliant).await;
    let run = conform(&server.uri(), &["--tags", "@sessions or @sign-up"]).await;
    assert_eq!(run.code, Some(0), "{}", run.context());
    let scenarios = run.report["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(scenarios.len() >= 8, "{}", run.context());
    for scenario in &scenarios {
        assert_eq!(
            scenario["status"],
            "skipped",
            "{scenario:#}\n{}",
            run.context()
        );
        let reason = scenario["reason"].as_str().unwrap_or_default();
        let tags = scenario["tags"].to_string();
        if tags.contains("\"sign-up\"") {
            // Scenarios that check sign-up itself cannot run with any flag.
            assert!(reason.contains("sign-up is closed"), "{scenario:#}");
        } else {
            assert!(
                reason.contains(
                    "sign-up is closed: give --user-email/--user-password (or --users-file)"
                ),
                "{scenario:#}"
            );
        }
    }
}

#[tokio::test]
async fn a_compliant_limiter_passes_every_probe_scenario() {
    let server = fake("/api/auth", Limiter::Compliant).await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    assert_eq!(run.code, Some(0), "{}", run.context());
    assert!(run.failed().is_empty(), "{}", run.context());
}

/// Runs the probe scenarios against `limiter` and checks that exactly `scenario` failed.
async fn assert_limiter_fails(limiter: Limiter, scenario: &str, rule_fragment: &str, code: i32) {
    let server = fake("/api/auth", limiter).await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    assert_eq!(
        run.failed(),
        vec![scenario.to_string()],
        "{limiter:?}\n{}",
        run.context()
    );
    let rule = run.scenario(scenario)["rule"].as_str().unwrap_or_default();
    assert!(rule.contains(rule_fragment), "{limiter:?}: rule {rule:?}");
    assert_eq!(run.code, Some(code), "{limiter:?}\n{}", run.context());
}

#[tokio::test]
async fn no_limit_is_a_should_warning_and_the_429_checks_are_skipped() {
    let server = fake("/api/auth", Limiter::Off).await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    let name = "Sign-in is rate-limited: a burst of failed sign-ins from one client meets 429";
    assert_eq!(run.failed(), vec![name.to_string()], "{}", run.context());
    assert!(
        run.scenario(name)["actual"]
            .as_str()
            .unwrap_or_default()
            .contains("no rate limit seen in 30 attempts"),
        "{}",
        run.context()
    );
    // A SHOULD: a warning, exit 0.
    assert_eq!(run.code, Some(0), "{}", run.context());
    for skipped in &PROBE_SCENARIOS[1..] {
        let outcome = run.scenario(skipped);
        assert_eq!(outcome["status"], "skipped", "{outcome:#}");
        assert!(
            outcome["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("--rate-limit-max"),
            "{outcome:#}"
        );
    }
}

#[tokio::test]
async fn a_429_without_a_retry_header_fails_its_must_rule() {
    assert_limiter_fails(
        Limiter::NoRetryHeader,
        "A 429 from the sign-in limit says when to retry",
        "says when to retry",
        1,
    )
    .await;
}

#[tokio::test]
async fn a_429_with_a_text_body_is_a_should_warning() {
    assert_limiter_fails(
        Limiter::TextBody,
        "A 429 from the sign-in limit explains itself in a JSON body",
        "explains the refusal",
        0,
    )
    .await;
}

#[tokio::test]
async fn a_limiter_that_trusts_any_x_forwarded_for_is_a_should_warning_naming_the_setting() {
    assert_limiter_fails(
        Limiter::TrustsForwardedFor,
        "Another X-Forwarded-For does not escape the sign-in limit",
        "advanced.ipAddress.ipAddressHeaders",
        0,
    )
    .await;
}

#[tokio::test]
async fn a_429_the_run_did_not_ask_for_is_waited_out_and_the_wait_reported() {
    let server = fake("/api/auth", Limiter::Compliant).await;
    // The reachability check's get-session is refused with 429 twice: it waits the announced
    // second each time and goes on.
    Mock::given(method("GET"))
        .and(path("/api/auth/get-session"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-retry-after", "1")
                .set_body_json(json!({"message": "Too many requests. Please try again later."})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &["--tags", "@rate-limit-probe"]).await;
    assert_eq!(run.code, Some(0), "{}", run.context());
    assert!(
        run.stdout
            .contains("s for the target's rate limit (2 retries")
            && run.stdout.contains("waited "),
        "{}",
        run.context()
    );
}
