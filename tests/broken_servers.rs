//! Every conformance scenario can fail: `ba-harness conform` is run against a fake Better Auth
//! (tests/support) that is compliant, then against one broken variant per documented rule, and
//! the JSON report must name the broken rule on the scenario that checks it.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use support::{Flaw, SECRET};

/// Bound on one harness run, on top of the harness's own --run-timeout.
const RUN_BOUND: Duration = Duration::from_secs(120);

/// A file under the system temp folder, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nonce: u32 = rand::random();
        TempFile(std::env::temp_dir().join(format!(
            "ba-harness-broken-servers-{}-{n}-{nonce:08x}-{tag}.json",
            std::process::id()
        )))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One finished `ba-harness conform` run.
struct HarnessRun {
    flaw: Flaw,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    report: Value,
}

impl HarnessRun {
    fn scenarios(&self) -> &[Value] {
        self.report["scenarios"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn scenario(&self, name: &str) -> &Value {
        self.scenarios()
            .iter()
            .find(|s| s["scenario"] == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = self
                    .scenarios()
                    .iter()
                    .filter_map(|s| s["scenario"].as_str())
                    .collect();
                panic!(
                    "{:?}: the report has no scenario {name:?}; it has {names:#?}",
                    self.flaw
                )
            })
    }

    fn count(&self, what: &str) -> u64 {
        self.report["counts"][what].as_u64().unwrap_or_else(|| {
            panic!(
                "{:?}: the report has no counts.{what}: {}",
                self.flaw, self.report
            )
        })
    }

    /// What to show when an assertion fails: the harness's own summary and its stderr.
    fn context(&self) -> String {
        let tail: Vec<&str> = self.stdout.lines().rev().take(80).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "exit code {:?}\n--- stdout (last 80 lines) ---\n{}\n--- stderr ---\n{}",
            self.code,
            tail.join("\n"),
            self.stderr
        )
    }
}

/// Starts the fake with `flaw` and runs the harness binary against it until it finishes.
async fn run_harness(flaw: Flaw) -> HarnessRun {
    let server = support::start(flaw).await;
    let report_file = TempFile::new("report");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("conform")
        .arg("--target")
        .arg(server.uri())
        .arg("--secret")
        .arg(SECRET)
        .arg("--json")
        .arg(report_file.path())
        // The fake implements the foundation's areas; the other features are broken through
        // the real reference behind a proxy (tests/broken_reference.rs and friends).
        .args(["--tags", FAKE_AREAS_TAGS])
        .args(["--timeout", "10", "--run-timeout", "60"])
        .env_remove("BA_HARNESS_SECRET")
        .env_remove("BA_HARNESS_FEATURES_DIR")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(RUN_BOUND, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{flaw:?}: ba-harness did not finish within {} s",
                RUN_BOUND.as_secs()
            )
        })
        .expect("ba-harness starts");
    // The fake must outlive the run; it stops here.
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let text = std::fs::read_to_string(report_file.path()).unwrap_or_else(|e| {
        panic!(
            "{flaw:?}: no JSON report at {} ({e}); exit code {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            report_file.path().display(),
            output.status.code()
        )
    });
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{flaw:?}: the JSON report does not parse ({e}):\n{text}"));
    HarnessRun {
        flaw,
        code: output.status.code(),
        stdout,
        stderr,
        report,
    }
}

/// The feature files whose rules the fake implements, and the tag expression selecting them.
const FAKE_AREAS: &[&str] = &[
    "email-password.feature",
    "session-cookie.feature",
    "sign-out.feature",
];
const FAKE_AREAS_TAGS: &str = "@email-password or @session-cookie or @sign-out";

/// The scenario names in the fake's feature files.
fn feature_scenarios() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| FAKE_AREAS.contains(&n))
        })
        .collect();
    files.sort();
    let mut names = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for line in text.lines() {
            let line = line.trim_start();
            if let Some(name) = line
                .strip_prefix("Scenario:")
                .or_else(|| line.strip_prefix("Scenario Outline:"))
                .or_else(|| line.strip_prefix("Example:"))
            {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

/// Runs the harness against the fake broken by `flaw` and checks that `scenario` failed on a
/// rule naming `rule_fragment`, and that the run exited 1. Other failures are printed.
async fn assert_flaw_fails(flaw: Flaw, scenario: &str, rule_fragment: &str) {
    let run = run_harness(flaw).await;
    let outcome = run.scenario(scenario);
    assert_eq!(
        outcome["status"],
        "failed",
        "{flaw:?}: scenario {scenario:?} should fail, but its outcome is {outcome:#}\n{}",
        run.context()
    );
    let rule = outcome["rule"].as_str().unwrap_or_default();
    assert!(
        rule.contains(rule_fragment),
        "{flaw:?}: scenario {scenario:?} failed on rule {rule:?}, which does not name {rule_fragment:?}\n\
         expected: {}\nactual: {}\n{}",
        outcome["expected"],
        outcome["actual"],
        run.context()
    );
    assert_eq!(
        run.code,
        Some(1),
        "{flaw:?}: the run must exit 1 on a conformance failure\n{}",
        run.context()
    );

    let others: Vec<String> = run
        .scenarios()
        .iter()
        .filter(|s| s["status"] == "failed" && s["scenario"] != scenario)
        .map(|s| format!("  {} — rule: {}", s["scenario"], s["rule"]))
        .collect();
    if !others.is_empty() {
        println!(
            "{flaw:?} also failed {} other scenario(s):\n{}",
            others.len(),
            others.join("\n")
        );
    }
}

#[tokio::test]
async fn the_compliant_fake_passes_every_scenario() {
    let run = run_harness(Flaw::None).await;
    let failed: Vec<String> = run
        .scenarios()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| {
            format!(
                "  {} [{}] — rule: {}\n    expected: {}\n    actual: {}",
                s["scenario"], s["status"], s["rule"], s["expected"], s["actual"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "the compliant fake did not pass:\n{}\n{}",
        failed.join("\n"),
        run.context()
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    assert_eq!(run.count("failed"), 0, "{}", run.context());
    // --secret is given, so the @server-secret scenarios run (and pass) rather than being skipped.
    let with_secret: Vec<&Value> = run
        .scenarios()
        .iter()
        .filter(|s| {
            s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "server-secret"))
        })
        .collect();
    assert!(
        !with_secret.is_empty(),
        "no @server-secret scenario in the report\n{}",
        run.context()
    );
    assert!(
        with_secret.iter().all(|s| s["status"] == "passed"),
        "{}",
        run.context()
    );
    let non_skipped = run
        .scenarios()
        .iter()
        .filter(|s| s["status"] != "skipped")
        .count() as u64;
    assert_eq!(run.count("passed"), non_skipped, "{}", run.context());

    let expected: BTreeSet<String> = feature_scenarios().into_iter().collect();
    let reported: BTreeSet<String> = run
        .scenarios()
        .iter()
        .filter_map(|s| s["scenario"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        reported, expected,
        "the report must cover every scenario in features/"
    );
    assert_eq!(
        run.scenarios().len(),
        feature_scenarios().len(),
        "one outcome per scenario"
    );
}

/// Declares the flaw table and one test per flaw: `test_name: Flaw => "scenario", "rule fragment";`
macro_rules! flaw_tests {
    ($($test:ident: $flaw:ident => $scenario:literal, $rule:literal;)*) => {
        /// Every flaw, the scenario it must fail, and a fragment of the rule that must be named.
        const CASES: &[(Flaw, &str, &str)] = &[$((Flaw::$flaw, $scenario, $rule),)*];

        $(
            #[tokio::test]
            async fn $test() {
                assert_flaw_fails(Flaw::$flaw, $scenario, $rule).await;
            }
        )*
    };
}

flaw_tests! {
    // features/email-password.feature
    sign_up_without_session_cookie: SignUpWithoutSessionCookie =>
        "Sign-up creates the user and starts a session", "sent to the browser as the session cookie";
    sign_in_answers_another_user: SignInAnswersAnotherUser =>
        "Sign-in with the right password starts a session for that user", "answer with the user's record";
    get_session_anonymous_401: GetSessionAnonymous401 =>
        "get-session without credentials answers null", "answers HTTP 200";
    get_session_anonymous_empty_object: GetSessionAnonymousEmptyObject =>
        "get-session without credentials answers null", "answers JSON null";
    wrong_password_400: WrongPassword400 =>
        "A wrong password is refused with 401 and a JSON error", "answers HTTP 401";
    wrong_password_text_plain: WrongPasswordTextPlain =>
        "A wrong password is refused with 401 and a JSON error", "errors are JSON {code, message}";
    wrong_password_sets_cookie: WrongPasswordSetsCookie =>
        "A wrong password is refused with 401 and a JSON error", "a refused request starts no session";
    unknown_email_404: UnknownEmail404 =>
        "An unknown email is refused exactly like a wrong password", "answers HTTP 401";
    unknown_email_user_not_found_code: UnknownEmailUserNotFoundCode =>
        "An unknown email is refused exactly like a wrong password", "with code INVALID_EMAIL_OR_PASSWORD";
    duplicate_sign_up_accepted: DuplicateSignUpAccepted =>
        "A duplicate sign-up is refused with 422", "answers HTTP 422";
    duplicate_sign_up_sets_cookie: DuplicateSignUpSetsCookie =>
        "A duplicate sign-up is refused with 422", "a refused request starts no session";
    duplicate_sign_up_overwrites_password: DuplicateSignUpOverwritesPassword =>
        "A duplicate sign-up leaves the account as it was", "leaves the existing account as it was";
    duplicate_sign_up_adds_password: DuplicateSignUpAddsPassword =>
        "A duplicate sign-up leaves the account as it was", "does not set a new password";
    sign_out_empty_body: SignOutEmptyBody =>
        "Sign-out answers success", "{\"success\": true}";

    // features/session-cookie.feature
    cookie_renamed: CookieRenamed =>
        "The session cookie has the documented name", "named `better-auth.session_token`";
    not_http_only: NotHttpOnly =>
        "The session cookie is HttpOnly", "HttpOnly";
    same_site_strict: SameSiteStrict =>
        "The session cookie is SameSite=Lax", "SameSite=Lax";
    same_site_none: SameSiteNone =>
        "The session cookie is SameSite=Lax", "SameSite=Lax";
    path_api_auth: PathApiAuth =>
        "The session cookie has Path=/", "Path=/";
    secure_on_http: SecureOnHttp =>
        "The session cookie is Secure exactly when the base URL is https", "not Secure";
    max_age_one_day: MaxAgeOneDay =>
        "The session cookie's Max-Age is the session's lifetime", "Max-Age equals the session's lifetime";
    remember_me_keeps_max_age: RememberMeKeepsMaxAge =>
        "With rememberMe false the session cookie ends with the browser session", "no Max-Age, no Expires";
    remember_me_no_dont_remember_cookie: RememberMeNoDontRememberCookie =>
        "With rememberMe false the session cookie ends with the browser session", "signed `better-auth.dont_remember` cookie";
    remember_me_ignored: RememberMeIgnored =>
        "With rememberMe false the session cookie ends with the browser session", "no Max-Age, no Expires";
    cookie_unsigned: CookieUnsigned =>
        "The session cookie value is the session token, signed", "`<token>.<base64 HMAC-SHA256>`";
    cookie_token_not_body_token: CookieTokenNotBodyToken =>
        "The session cookie value is the session token, signed", "carries the session token the response body names";
    wrong_signing_secret: WrongSigningSecret =>
        "The session cookie's signature is an HMAC of the token under the server secret", "under the server secret";
    accepts_any_signature: AcceptsAnySignature =>
        "A session cookie with an altered signature gets no session", "answers JSON null";
    accepts_unsigned_token: AcceptsUnsignedToken =>
        "A session cookie without its signature gets no session", "answers JSON null";
    folded_set_cookie: FoldedSetCookie =>
        "Every cookie arrives in its own Set-Cookie header line", "its own Set-Cookie header line";

    // features/sign-out.feature
    sign_out_no_deletion_cookies: SignOutNoDeletionCookies =>
        "Sign-out clears the session cookie", "sign-out clears `better-auth.session_token`";
    sign_out_deletion_wrong_path: SignOutDeletionWrongPath =>
        "Sign-out clears the session cookie", "Path=/";
    sign_out_keeps_session_data: SignOutKeepsSessionData =>
        "Sign-out clears every cookie the sign-in set", "including `better-auth.session_data`";
    sign_out_folded_cookies: SignOutFoldedCookies =>
        "Sign-out clears every cookie the sign-in set", "its own Set-Cookie header line";
    sign_out_does_not_revoke: SignOutDoesNotRevoke =>
        "Sign-out revokes the session on the server", "answers JSON null";
}

/// Scenarios of the fake's features added later and broken through the real reference behind
/// the proxy instead (tests/session_rules.rs); tests/coverage.rs checks every scenario globally.
const COVERED_BY_THE_PROXY: &[&str] = &[
    "Emails are case-insensitive",
    "With rememberMe false the server keeps the session for one day",
    "Every cookie the session starts with is HttpOnly",
    "The session cookie is host-only",
];

/// Every scenario in features/ is made to fail by at least one flaw, and every flaw names a
/// scenario that exists.
#[test]
fn every_scenario_has_a_flaw_that_fails_it() {
    let scenarios = feature_scenarios();
    assert_eq!(
        scenarios.len(),
        scenarios.iter().collect::<BTreeSet<_>>().len(),
        "scenario names must be unique, the tests find outcomes by name"
    );
    let covered: BTreeSet<&str> = CASES.iter().map(|(_, s, _)| *s).collect();
    let uncovered: Vec<&String> = scenarios
        .iter()
        .filter(|s| !covered.contains(s.as_str()) && !COVERED_BY_THE_PROXY.contains(&s.as_str()))
        .collect();
    assert!(
        uncovered.is_empty(),
        "scenarios no flaw fails: {uncovered:#?}"
    );
    let unknown: Vec<&&str> = covered
        .iter()
        .filter(|s| !scenarios.iter().any(|n| n == **s))
        .collect();
    assert!(
        unknown.is_empty(),
        "flaws target scenarios that do not exist: {unknown:#?}"
    );
    let flaws: BTreeSet<String> = CASES.iter().map(|(f, _, _)| format!("{f:?}")).collect();
    assert_eq!(
        flaws.len(),
        CASES.len(),
        "each flaw appears once in the table"
    );
    assert!(
        !CASES.iter().any(|(f, _, _)| *f == Flaw::None),
        "Flaw::None is the compliant server"
    );
}
