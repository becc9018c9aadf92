//! No secret the harness handles reaches anything it prints or writes.
//!
//! The bundled reference runs behind the recording proxy (tests/mutating_proxy), which writes
//! down every secret that actually passes through it: each Set-Cookie value (raw, decoded, and
//! the token and signature of a signed one), the set-auth-token and set-auth-jwt headers, every
//! token, JWT and refresh token in a response body, every authorization code in a redirect, the
//! passwords and PKCE verifiers in request bodies, bearer credentials, and the server's signing
//! secret. A full `conform` run writes a JSON and a JUnit report and prints to stdout and stderr;
//! none of those may contain any recorded secret of 8 characters or more. A second run has the
//! proxy break rules on the answers that carry most secrets, so failure excerpts (request and
//! response, headers and bodies) are printed and written: that is where leaks happen.
//!
//! A `load` smoke (jwt-verification, which handles session cookies and JWTs) through the same
//! recording proxy writes JSON, Markdown and HTML reports; none of them, nor its stdout and
//! stderr, may contain a recorded secret either.
//!
//! The full run also checks the run's hygiene (issue 7): every account it signed up is deleted
//! at its end (the proxy counts the 200 answers to sign-up and to delete-user).

mod mutating_proxy;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use mutating_proxy::{BrokenReference, Flaw, ProxyRequest, ProxyResponse, harness};

/// Shortest value checked (shorter ones would match ordinary text; no real secret is that short).
const MIN_SECRET_LEN: usize = 8;
/// Hang guard on one harness run (the harness's own --run-timeout is 300).
const RUN_BOUND: Duration = Duration::from_secs(420);

/// Secrets seen by the proxy, with what each one is (for the failure message).
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<BTreeSet<(String, &'static str)>>>);

impl Recorded {
    fn add(&self, kind: &'static str, value: &str) {
        let value = value.trim();
        if value.len() >= MIN_SECRET_LEN {
            self.0.lock().unwrap().insert((value.to_string(), kind));
        }
    }

    fn all(&self) -> Vec<(String, &'static str)> {
        self.0.lock().unwrap().iter().cloned().collect()
    }

    fn kinds(&self) -> BTreeSet<&'static str> {
        self.0.lock().unwrap().iter().map(|(_, k)| *k).collect()
    }

    /// A cookie value: as sent, percent-decoded, and the parts of a signed `token.signature`.
    fn add_cookie_value(&self, value: &str) {
        self.add("cookie value", value);
        let decoded = percent_decode_str(value).decode_utf8_lossy().into_owned();
        self.add("cookie value (decoded)", &decoded);
        if let Some((token, signature)) = decoded.rsplit_once('.') {
            self.add("signed cookie token", token);
            self.add("cookie signature", signature);
        }
    }

    /// Authorization codes in the query of any URL in `text`.
    fn add_codes_in(&self, text: &str) {
        for (at, _) in text.match_indices("code=") {
            let preceded_ok = at == 0 || matches!(text.as_bytes()[at - 1], b'?' | b'&');
            if !preceded_ok {
                continue;
            }
            let value: String = text[at + 5..]
                .chars()
                .take_while(|c| !matches!(c, '&' | '#' | '"' | ' ' | '\'' | '>'))
                .collect();
            self.add("authorization code", &value);
            self.add(
                "authorization code",
                &percent_decode_str(&value).decode_utf8_lossy(),
            );
        }
    }

    /// JWT-shaped strings (three base64url segments, the first `eyJ`) anywhere in `text`.
    fn add_jwts_in(&self, text: &str) {
        static JWT_LIKE: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(r"eyJ[A-Za-z0-9_.-]*").unwrap());
        for token in JWT_LIKE.find_iter(text).map(|m| m.as_str()) {
            if token.matches('.').count() >= 2 {
                self.add("JWT", token);
            }
        }
    }

    /// Credential fields of a JSON document, at any depth.
    fn add_json(&self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if let Value::String(s) = v {
                        let kind = match key.as_str() {
                            "password" | "newPassword" | "currentPassword" => Some("password"),
                            "token" | "session_token" => Some("session or JWT token"),
                            "access_token" | "accessToken" => Some("access token"),
                            "refresh_token" | "refreshToken" => Some("refresh token"),
                            "id_token" | "idToken" => Some("ID token"),
                            "code_verifier" => Some("PKCE verifier"),
                            "client_secret" => Some("client secret"),
                            // `code` is also Better Auth's error code (INVALID_EMAIL_OR_PASSWORD):
                            // authorization codes are taken from redirect URLs instead.
                            _ => None,
                        };
                        if let Some(kind) = kind {
                            self.add(kind, s);
                        }
                        self.add_codes_in(s);
                        self.add_jwts_in(s);
                    } else {
                        self.add_json(v);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            _ => {}
        }
    }

    /// A request or response body: JSON, or a form (the OAuth token endpoint).
    fn add_body(&self, body: &[u8], content_type: Option<&str>) {
        let text = String::from_utf8_lossy(body);
        if let Ok(json) = serde_json::from_str::<Value>(&text) {
            self.add_json(&json);
        } else if content_type.is_some_and(|c| c.contains("x-www-form-urlencoded")) {
            let pairs: serde_json::Map<String, Value> =
                url::form_urlencoded::parse(text.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect();
            self.add_json(&Value::Object(pairs));
        }
        self.add_codes_in(&text);
        self.add_jwts_in(&text);
    }

    fn request(&self, request: &ProxyRequest) {
        self.add_body(&request.body, request.header("content-type"));
        self.add_codes_in(&request.path);
        if let Some(auth) = request.header("authorization") {
            let credential = auth.split_once(' ').map(|(_, c)| c).unwrap_or(auth);
            self.add("authorization credential", credential);
        }
    }

    fn response(&self, response: &ProxyResponse) {
        for line in response.headers_named("set-cookie") {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((_, value)) = pair.split_once('=') {
                self.add_cookie_value(value.trim());
            }
        }
        for name in ["set-auth-token", "set-auth-jwt"] {
            if let Some(value) = response.header(name) {
                self.add(
                    if name == "set-auth-jwt" {
                        "JWT"
                    } else {
                        "bearer token"
                    },
                    value,
                );
            }
        }
        if let Some(location) = response.header("location") {
            self.add_codes_in(location);
        }
        self.add_body(&response.body, response.header("content-type"));
    }
}

/// A flaw that only records, or that first applies `mutate` and then records what the harness
/// actually gets.
fn recording(
    recorded: &Recorded,
    mutate: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static,
) -> Flaw {
    let on_request = recorded.clone();
    let on_response = recorded.clone();
    Flaw {
        on_request: Some(Arc::new(move |request: &mut ProxyRequest| {
            on_request.request(request);
            None
        })),
        on_response: Some(Arc::new(move |request, response| {
            on_response.response(response);
            mutate(request, response);
            on_response.response(response);
        })),
    }
}

/// Everything one run printed and wrote.
struct Outputs {
    code: Option<i32>,
    files: Vec<(&'static str, String)>,
}

impl Outputs {
    fn text(&self, name: &str) -> &str {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_default()
    }

    fn context(&self) -> String {
        let failures: Vec<String> = serde_json::from_str::<Value>(self.text("the JSON report"))
            .ok()
            .and_then(|r| r["scenarios"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|s| s["status"] == "failed")
            .map(|s| format!("  {} | {} | {}", s["scenario"], s["rule"], s["actual"]))
            .collect();
        format!(
            "exit {:?}\n--- failed scenarios\n{}\n--- stdout (last 3000 chars)\n{}\n--- stderr\n{}",
            self.code,
            failures.join("\n"),
            tail(self.text("stdout"), 3000),
            tail(self.text("stderr"), 3000)
        )
    }

    /// Every recorded secret that shows up anywhere, with where and a little context.
    fn leaks(&self, recorded: &Recorded) -> Vec<String> {
        let mut found = Vec::new();
        for (secret, kind) in recorded.all() {
            for (name, text) in &self.files {
                if let Some(at) = text.find(&secret) {
                    let around: String = text[..at]
                        .chars()
                        .rev()
                        .take(120)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .chain(text[at..].chars().take(secret.chars().count() + 40))
                        .collect();
                    found.push(format!(
                        "{kind} ({} chars) in {name}: …{around}…",
                        secret.len()
                    ));
                }
            }
        }
        found
    }
}

fn tail(text: &str, chars: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(chars)).collect()
}

fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "ba-harness-secrets-{}-{:08x}-{tag}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// One conform run (every feature, default concurrency, unless `extra` says otherwise) with JSON
/// and JUnit reports.
async fn run_conform(broken: &BrokenReference, extra: &[&str]) -> Outputs {
    let json = temp_path("report.json");
    let junit = temp_path("report.xml");
    let output = harness::output_within(
        harness::command()
            .arg("conform")
            .args(broken.target_args())
            .args(["--run-timeout", "300", "--json"])
            .arg(&json)
            .arg("--junit")
            .arg(&junit)
            .args(extra),
        RUN_BOUND,
    )
    .await;
    let read = |path: &PathBuf| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        text
    };
    Outputs {
        code: output.status.code(),
        files: vec![
            ("stdout", harness::lossy(&output.stdout)),
            ("stderr", harness::lossy(&output.stderr)),
            ("the JSON report", read(&json)),
            ("the JUnit report", read(&junit)),
        ],
    }
}

fn assert_no_leaks(outputs: &Outputs, recorded: &Recorded) {
    // stderr may well be empty (nothing went wrong with the run itself); the rest may not.
    for (name, text) in outputs.files.iter().filter(|(n, _)| *n != "stderr") {
        assert!(
            !text.is_empty(),
            "{name} is empty: nothing to check\n{}",
            outputs.context()
        );
    }
    let leaks = outputs.leaks(recorded);
    eprintln!(
        "checked {} recorded secrets ({} kinds) against {} bytes of output",
        recorded.all().len(),
        recorded.kinds().len(),
        outputs.files.iter().map(|(_, t)| t.len()).sum::<usize>()
    );
    assert!(
        leaks.is_empty(),
        "{} secret(s) leaked:\n{}\n\n{}",
        leaks.len(),
        leaks.join("\n"),
        outputs.context()
    );
}

/// The proxy saw every kind of secret the run handles, so the check above is not vacuous.
fn assert_recorded_every_kind(recorded: &Recorded) {
    let kinds = recorded.kinds();
    for kind in [
        "password",
        "cookie value",
        "signed cookie token",
        "session or JWT token",
        "bearer token",
        "JWT",
        "authorization code",
        "PKCE verifier",
        "access token",
        "refresh token",
        "ID token",
    ] {
        assert!(
            kinds.contains(kind),
            "the proxy recorded no {kind}: {kinds:?}"
        );
    }
}

/// Counts of accounts created and deleted through the proxy.
#[derive(Clone, Default)]
struct AccountCounts {
    signed_up: Arc<AtomicUsize>,
    deleted: Arc<AtomicUsize>,
}

impl AccountCounts {
    fn count(&self, request: &ProxyRequest, response: &ProxyResponse) {
        if request.method != "POST" || response.status != 200 {
            return;
        }
        let path = request.path_only();
        if path.ends_with("/sign-up/email") {
            self.signed_up.fetch_add(1, Ordering::SeqCst);
        } else if path.ends_with("/delete-user")
            && response
                .json()
                .is_some_and(|b| b["message"] == "User deleted")
        {
            self.deleted.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn get(&self) -> (usize, usize) {
        (
            self.signed_up.load(Ordering::SeqCst),
            self.deleted.load(Ordering::SeqCst),
        )
    }
}

/// The reference (with `env`) behind a proxy that records every secret it sees, the server's
/// own included, and counts the accounts signed up and deleted.
async fn recorded_reference(env: &[(&str, &str)]) -> (Recorded, AccountCounts, BrokenReference) {
    let recorded = Recorded::default();
    let accounts = AccountCounts::default();
    let counter = accounts.clone();
    let broken = BrokenReference::start(
        recording(&recorded, move |request, response| {
            counter.count(request, response)
        }),
        env,
    )
    .await;
    recorded.add("server secret", &broken.server.secret);
    (recorded, accounts, broken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_issued_during_a_full_run_is_printed_or_written() {
    let (recorded, accounts, broken) = recorded_reference(&[]).await;
    let outputs = run_conform(&broken, &[]).await;
    broken.server.stop().await;
    // Hygiene: every account the run signed up was deleted at its end, and the run says so.
    let (signed_up, deleted) = accounts.get();
    assert!(signed_up >= 50, "only {signed_up} sign-ups: not a full run");
    assert_eq!(
        deleted,
        signed_up,
        "the run deleted {deleted} of the {signed_up} accounts it created\n{}",
        outputs.context()
    );
    // The cleanup line counts what was left for it: the accounts a scenario deleted itself
    // (the delete-user scenario) are not in it, but every one it was left is deleted.
    let stdout = outputs.text("stdout");
    let cleanup = regex::Regex::new(r"cleanup: deleted (\d+) of (\d+) accounts")
        .unwrap()
        .captures(stdout)
        .map(|c| {
            (
                c[1].parse::<usize>().unwrap(),
                c[2].parse::<usize>().unwrap(),
            )
        });
    assert!(
        matches!(cleanup, Some((d, of)) if d == of && of <= signed_up && of + 5 >= signed_up),
        "stdout lacks `cleanup: deleted N of N accounts` with N the sign-ups less the few a \
         scenario deleted itself ({signed_up} sign-ups): {cleanup:?}\n{}",
        outputs.context()
    );
    // The run went through the whole suite. (Its verdict is the business of tests/cli.rs: a
    // scenario being written elsewhere may fail here without making this test meaningless.)
    assert!(matches!(outputs.code, Some(0 | 1)), "{}", outputs.context());
    let report: Value = serde_json::from_str(outputs.text("the JSON report")).unwrap_or_default();
    let scenarios = report["scenarios"].as_array().cloned().unwrap_or_default();
    let count = |status: &str| scenarios.iter().filter(|s| s["status"] == status).count();
    let (passed, failed) = (count("passed"), count("failed"));
    assert!(
        scenarios.len() >= 100 && passed >= 80 && failed * 10 <= passed,
        "{passed} passed and {failed} failed of {} scenarios: not a full run\n{}",
        scenarios.len(),
        outputs.context()
    );
    assert_recorded_every_kind(&recorded);
    assert_no_leaks(&outputs, &recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_from_a_load_smoke_is_printed_or_written() {
    // Rate limits off, as the load profiles of the bundled reference have them.
    let (recorded, accounts, broken) = recorded_reference(&[("RATE_LIMIT", "off")]).await;
    let reports: Vec<(&'static str, PathBuf)> = vec![
        ("the load JSON report", temp_path("load.json")),
        ("the load Markdown report", temp_path("load.md")),
        ("the load HTML report", temp_path("load.html")),
    ];
    let mut command = harness::command();
    command
        .args(["load", "--scenario", "jwt-verification", "--target"])
        .arg(&broken.proxy.url)
        .args(["--users", "3", "--run-time", "3s"]);
    for (_, path) in &reports {
        command.arg("--report").arg(path);
    }
    let output = harness::output_within(&mut command, RUN_BOUND).await;
    broken.server.stop().await;
    let mut files = vec![
        ("stdout", harness::lossy(&output.stdout)),
        ("stderr", harness::lossy(&output.stderr)),
    ];
    for (name, path) in &reports {
        files.push((*name, std::fs::read_to_string(path).unwrap_or_default()));
        let _ = std::fs::remove_file(path);
    }
    let outputs = Outputs {
        code: output.status.code(),
        files,
    };
    assert_eq!(outputs.code, Some(0), "{}", outputs.context());
    let kinds = recorded.kinds();
    for kind in ["password", "cookie value", "JWT"] {
        assert!(
            kinds.contains(kind),
            "the proxy recorded no {kind} during the load smoke: {kinds:?}"
        );
    }
    assert_no_leaks(&outputs, &recorded);
    // A load run against a --target deletes the accounts it signed up, too.
    let (signed_up, deleted) = accounts.get();
    assert!(
        signed_up >= 3,
        "only {signed_up} sign-ups in the load smoke"
    );
    assert_eq!(deleted, signed_up, "{}", outputs.context());
}

/// Answers that carry secrets come back 203 instead of 200.
fn status_203_on_secret_answers(request: &ProxyRequest, response: &mut ProxyResponse) {
    let path = request.path_only();
    let carries_secrets = [
        "/sign-in/email",
        "/get-session",
        "/token",
        "/oauth2/token",
        "/oauth2/userinfo",
        "/list-sessions",
    ]
    .iter()
    .any(|p| path.ends_with(p));
    if carries_secrets && response.status == 200 {
        response.status = 203;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_secrets_turns_redaction_off_and_the_check_sees_it() {
    // The same check must find secrets when the harness is told to print them: proof that the
    // two tests above would catch a leak.
    let recorded = Recorded::default();
    let broken =
        BrokenReference::start(recording(&recorded, status_203_on_secret_answers), &[]).await;
    let outputs = run_conform(&broken, &["--tags", "@email-password", "--show-secrets"]).await;
    broken.server.stop().await;
    assert_eq!(outputs.code, Some(1), "{}", outputs.context());
    assert!(
        outputs.text("stderr").contains("--show-secrets"),
        "{}",
        outputs.context()
    );
    let leaks = outputs.leaks(&recorded);
    for kind in ["password", "cookie value", "session or JWT token"] {
        assert!(
            leaks.iter().any(|l| l.starts_with(kind)),
            "--show-secrets printed no {kind}: {leaks:#?}\n{}",
            outputs.context()
        );
    }
    for file in ["stdout", "the JSON report", "the JUnit report"] {
        assert!(
            leaks.iter().any(|l| l.contains(&format!(" in {file}: "))),
            "--show-secrets left {file} redacted: {leaks:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_shows_in_failure_excerpts() {
    // Answers that carry secrets come back 203 instead of 200: every rule that checks their
    // status fails and quotes the exchange (request with password or verifier, response with
    // cookies, tokens and JWTs), and the flows after them fail on what follows.
    let recorded = Recorded::default();
    let flaw = recording(&recorded, status_203_on_secret_answers);
    let broken = BrokenReference::start(flaw, &[]).await;
    recorded.add("server secret", &broken.server.secret);
    let outputs = run_conform(&broken, &[]).await;
    broken.server.stop().await;
    assert_eq!(outputs.code, Some(1), "{}", outputs.context());
    let stdout = outputs.text("stdout");
    let excerpts = stdout.matches("\n    exchange:").count();
    assert!(
        excerpts >= 10,
        "only {excerpts} failure excerpts printed: the check would prove little\n{}",
        outputs.context()
    );
    assert!(
        outputs.text("the JUnit report").contains("&lt; HTTP 203"),
        "the JUnit failures carry no exchange excerpt"
    );
    assert_recorded_every_kind(&recorded);
    assert_no_leaks(&outputs, &recorded);
}
