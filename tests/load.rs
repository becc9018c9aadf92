//! `ba-harness load` end to end, running the real binary: against wiremock fakes that answer
//! wrongly (another user's session, a JWT that does not verify), whose requests must be
//! reported as failed with exit 1, and a short smoke run against the bundled reference that
//! must pass and write its reports. Every run here is bounded to a few seconds.

mod mutating_proxy;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use mutating_proxy::harness::{self, run, text};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ba-harness-load-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How the fake answers the measured requests.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// As Better Auth does: the caller's own session, JWTs that verify.
    Correct,
    /// get-session answers 200 with another user's session.
    OtherUsersSession,
    /// /token answers 200 with a JWT signed by a key the JWKS does not hold (same kid).
    ForeignSignature,
    /// /token answers a JWT for another user (sub), correctly signed.
    OtherUsersJwt,
    /// Correct, but every third get-session is refused with 429 (a rate limiter).
    RateLimited,
    /// Correct, but the first two sign-ins are refused with 429 and X-Retry-After: 1.
    SignInRateLimited,
    /// Sign-up is closed (400); only the seeded accounts sign in, with their own password.
    ClosedSignUp,
    /// Correct, with the jwt plugin's jwt.issuer and jwt.audience set to [`CUSTOM_ISSUER`].
    CustomIssuer,
}

/// The iss and aud of a [`Mode::CustomIssuer`] fake's JWTs.
const CUSTOM_ISSUER: &str = "https://auth.example.com";

/// A minimal fake of Better Auth's email/password sign-up and sign-in, get-session, /token and
/// /jwks: users live in memory, the session cookie names the user.
struct Fake {
    mode: Mode,
    origin: String,
    users: Mutex<HashMap<String, String>>,
    key: Ed25519KeyPair,
    foreign: Ed25519KeyPair,
    /// Requests seen on the measured path and on sign-in, for the rate-limited modes.
    get_sessions: AtomicUsize,
    sign_ins: AtomicUsize,
}

/// The accounts a ClosedSignUp fake knows: (email, password).
const SEEDED: &[(&str, &str)] = &[
    ("seed-a@fake.test", "Seeded-Password-A-1"),
    ("seed-b@fake.test", "Seeded-Password-B-2"),
];

impl Fake {
    fn user_json(id: &str) -> Value {
        json!({"id": id, "email": format!("{id}@fake.test"), "name": "Fake", "emailVerified": false})
    }

    fn session_of(request: &Request) -> Option<String> {
        let cookie = request.headers.get("cookie")?.to_str().ok()?;
        cookie.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == "better-auth.session_token")
                .then(|| value.trim_start_matches("sess-").to_string())
        })
    }

    fn auth_answer(id: &str) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .append_header(
                "set-cookie",
                format!("better-auth.session_token=sess-{id}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"),
            )
            .set_body_json(json!({"redirect": false, "token": format!("tok-{id}-0123456789"), "user": Fake::user_json(id)}))
    }

    fn jwt(&self, key: &Ed25519KeyPair, sub: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"alg": "EdDSA", "kid": "k1"});
        let issuer = if self.mode == Mode::CustomIssuer {
            CUSTOM_ISSUER
        } else {
            self.origin.as_str()
        };
        let claims =
            json!({"sub": sub, "iss": issuer, "aud": issuer, "iat": now, "exp": now + 900});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64(key.sign(input.as_bytes()).as_ref()))
    }
}

impl Respond for Fake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match request.url.path() {
            "/api/auth/sign-up/email" if self.mode == Mode::ClosedSignUp => {
                ResponseTemplate::new(400).set_body_json(
                    json!({"code": "EMAIL_PASSWORD_SIGN_UP_DISABLED", "message": "Email and password sign up is not enabled"}),
                )
            }
            "/api/auth/sign-up/email" => {
                let email = body["email"].as_str().unwrap_or_default().to_string();
                let id = format!("user{}", rand::random::<u32>());
                self.users.lock().unwrap().insert(email, id.clone());
                Fake::auth_answer(&id)
            }
            "/api/auth/sign-in/email"
                if self.mode == Mode::SignInRateLimited
                    && self.sign_ins.fetch_add(1, Ordering::SeqCst) < 2 =>
            {
                ResponseTemplate::new(429)
                    .insert_header("x-retry-after", "1")
                    .set_body_json(json!({"message": "Too many requests. Please try again later."}))
            }
            "/api/auth/sign-in/email" if self.mode == Mode::ClosedSignUp => {
                let email = body["email"].as_str().unwrap_or_default();
                let password = body["password"].as_str().unwrap_or_default();
                if SEEDED.contains(&(email, password)) {
                    Fake::auth_answer(&format!("seeded-{}", &email[5..6]))
                } else {
                    ResponseTemplate::new(401)
                        .set_body_json(json!({"code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password"}))
                }
            }
            "/api/auth/sign-in/email" => {
                let email = body["email"].as_str().unwrap_or_default();
                match self.users.lock().unwrap().get(email) {
                    Some(id) => Fake::auth_answer(id),
                    None => ResponseTemplate::new(401)
                        .set_body_json(json!({"code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password"})),
                }
            }
            "/api/auth/get-session"
                if self.mode == Mode::RateLimited
                    && self.get_sessions.fetch_add(1, Ordering::SeqCst) % 3 == 2 =>
            {
                ResponseTemplate::new(429)
                    .insert_header("x-retry-after", "1")
                    .set_body_json(json!({"message": "Too many requests. Please try again later."}))
            }
            "/api/auth/get-session" => match Fake::session_of(request) {
                None => ResponseTemplate::new(200).set_body_string("null"),
                Some(id) => {
                    let shown = if self.mode == Mode::OtherUsersSession {
                        "someone-else".to_string()
                    } else {
                        id
                    };
                    ResponseTemplate::new(200).set_body_json(json!({
                        "session": {"id": "s1", "userId": shown, "token": "opaque-session-token-1", "expiresAt": "2099-01-01T00:00:00.000Z"},
                        "user": Fake::user_json(&shown),
                    }))
                }
            },
            "/api/auth/jwks" => ResponseTemplate::new(200).set_body_json(json!({"keys": [{
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1",
                "x": b64(self.key.public_key().as_ref()),
            }]})),
            "/api/auth/token" => match Fake::session_of(request) {
                None => ResponseTemplate::new(401),
                Some(id) => {
                    let token = match self.mode {
                        Mode::ForeignSignature => self.jwt(&self.foreign, &id),
                        Mode::OtherUsersJwt => self.jwt(&self.key, "someone-else"),
                        _ => self.jwt(&self.key, &id),
                    };
                    ResponseTemplate::new(200).set_body_json(json!({"token": token}))
                }
            },
            _ => ResponseTemplate::new(404),
        }
    }
}

/// Starts a fake in `mode` (request recording off: a load run would keep every request).
async fn fake(mode: Mode) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let fake = Fake {
        mode,
        origin: server.uri(),
        users: Mutex::new(HashMap::new()),
        key: Ed25519KeyPair::generate().unwrap(),
        foreign: Ed25519KeyPair::generate().unwrap(),
        get_sessions: AtomicUsize::new(0),
        sign_ins: AtomicUsize::new(0),
    };
    let fake = Arc::new(fake);
    for p in [
        "/api/auth/sign-up/email",
        "/api/auth/sign-in/email",
        "/api/auth/get-session",
        "/api/auth/jwks",
        "/api/auth/token",
    ] {
        let m = if p.contains("sign-") { "POST" } else { "GET" };
        Mock::given(method(m))
            .and(path(p))
            .respond_with(SharedFake(fake.clone()))
            .mount(&server)
            .await;
    }
    server
}

struct SharedFake(Arc<Fake>);

impl Respond for SharedFake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// Runs `load` against `target` for a couple of seconds with JSON and Markdown reports.
async fn load_against(target: &str, scenario: &str, name: &str) -> (Output, Value, String) {
    load_with(target, scenario, name, &[]).await
}

/// Like [`load_against`], with `extra` arguments.
async fn load_with(
    target: &str,
    scenario: &str,
    name: &str,
    extra: &[&str],
) -> (Output, Value, String) {
    let json = temp_path(&format!("{name}.json"));
    let md = temp_path(&format!("{name}.md"));
    let mut command = harness::blocking_command();
    command
        .args(["load", "--scenario", scenario, "--target", target])
        .args(["--users", "2", "--run-time", "2s", "--max-error-rate", "0"])
        .arg("--report")
        .arg(&json)
        .arg("--report")
        .arg(&md)
        .args(extra);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let markdown = std::fs::read_to_string(&md).unwrap_or_default();
    (output, harness::take_json(&json), markdown)
}

/// Runs `scenario` against a fake answering in `mode`; every measured request must fail with
/// `reason`. Returns the run for further checks.
async fn fails_every_request(
    mode: Mode,
    scenario: &str,
    name: &str,
    reason: &str,
) -> (Output, Value, String) {
    let server = fake(mode).await;
    let (output, report, markdown) = load_against(&server.uri(), scenario, name).await;
    assert_every_request_failed(&output, &report, &markdown, reason);
    (output, report, markdown)
}

/// The run's exit code is `code`; returns what it printed.
fn assert_exit(output: &Output, code: i32) -> String {
    let all = text(output);
    assert_eq!(output.status.code(), Some(code), "{all}");
    all
}

/// Asserts the run failed every measured request with `reason`, in the console, the JSON
/// (goose's error table and the harness's verdict) and the Markdown report.
fn assert_every_request_failed(output: &Output, report: &Value, markdown: &str, reason: &str) {
    let all = text(output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let verdict = &report["ba_harness"];
    let requests = verdict["observed"]["requests"].as_u64().unwrap();
    assert!(requests > 0, "{all}");
    assert_eq!(
        verdict["observed"]["failures"].as_u64(),
        Some(requests),
        "every request must fail: {all}"
    );
    assert_eq!(verdict["passed"], false);
    let errors = verdict["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["error"].as_str().unwrap().contains(reason)),
        "{errors:?}"
    );
    // goose's own error table carries the reason too.
    assert!(
        report["errors"].to_string().contains(reason),
        "{}",
        report["errors"]
    );
    assert!(markdown.contains(reason), "{markdown}");
    assert!(markdown.contains("FAILED"), "{markdown}");
    assert!(all.contains("MISSED"), "{all}");
    assert!(all.contains(reason), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_fake_passes() {
    // The control: without it, the failures below could be the fake's own defects.
    let server = fake(Mode::Correct).await;
    for scenario in ["get-session", "jwt-verification"] {
        let (output, report, _) =
            load_against(&server.uri(), scenario, &format!("ok-{scenario}")).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{scenario}: {}",
            text(&output)
        );
        assert_eq!(report["ba_harness"]["observed"]["failures"], 0);
    }
}

/// A deployment that sets jwt.issuer and jwt.audience: undeclared, the run cannot judge them, so
/// it passes and says so; declared, they are judged, and another declared value fails every JWT.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_issuer_is_judged_only_when_declared() {
    let server = fake(Mode::CustomIssuer).await;
    let (output, _, _) = load_against(&server.uri(), "jwt-verification", "custom-iss").await;
    let all = assert_exit(&output, 0);
    assert!(
        all.contains("load: note: the JWTs' iss is not the target's origin"),
        "{all}"
    );
    assert!(all.contains("give --jwt-audience"), "{all}");
    let declared = [
        "--jwt-issuer",
        CUSTOM_ISSUER,
        "--jwt-audience",
        CUSTOM_ISSUER,
    ];
    let (output, _, _) = load_with(
        &server.uri(),
        "jwt-verification",
        "custom-iss-declared",
        &declared,
    )
    .await;
    let all = assert_exit(&output, 0);
    assert!(!all.contains("load: note:"), "{all}");
    let elsewhere = ["--jwt-issuer", "https://elsewhere.example"];
    let (output, report, markdown) = load_with(
        &server.uri(),
        "jwt-verification",
        "custom-iss-wrong",
        &elsewhere,
    )
    .await;
    assert_every_request_failed(
        &output,
        &report,
        &markdown,
        "the JWT's iss is not the declared https://elsewhere.example (--jwt-issuer)",
    );
}

/// Fakes that answer wrongly: (their mode, the load scenario, the report name, the reason every
/// measured request must fail with).
const WRONG_ANSWERS: &[(Mode, &str, &str, &str)] = &[
    (
        Mode::OtherUsersSession,
        "get-session",
        "other-session",
        "another user's session",
    ),
    (
        Mode::OtherUsersJwt,
        "jwt-verification",
        "other-jwt",
        "sub is not this virtual user",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn another_users_session_or_jwt_fails_every_request() {
    for (mode, scenario, name, reason) in WRONG_ANSWERS {
        fails_every_request(*mode, scenario, name, reason).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwt_that_does_not_verify_fails_every_request() {
    let (output, report, markdown) = fails_every_request(
        Mode::ForeignSignature,
        "jwt-verification",
        "foreign-jwt",
        "signature does not verify",
    )
    .await;
    // The harness's own verification row is there, failed too.
    let rows = report["ba_harness"]["rows"].as_array().unwrap();
    let verify = rows.iter().find(|r| r["request"] == "JWT verify").unwrap();
    assert_eq!(verify["failures"], verify["requests"]);
    // No JWT or session cookie leaks into the reports.
    let all = format!("{report}{markdown}{}", text(&output));
    assert!(!all.contains("eyJ"), "a JWT leaked");
    assert!(!all.contains("sess-user"), "a session cookie leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_that_refuses_the_jwt_fails_every_request() {
    let server = fake(Mode::Correct).await;
    Mock::given(method("GET"))
        .and(path("/resource"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let resource = format!("{}/resource", server.uri());
    let (output, report, markdown) = load_with(
        &server.uri(),
        "jwt-verification",
        "resource-401",
        &["--resource", &resource],
    )
    .await;
    assert_exit(&output, 1);
    // A non-2xx status is failed by goose itself, with the status as its reason.
    assert!(
        markdown.contains("| GET resource (Bearer JWT) | 401 Unauthorized"),
        "{markdown}"
    );
    let rows = report["ba_harness"]["rows"].as_array().unwrap();
    let resource_row = rows
        .iter()
        .find(|r| r["request"] == "GET resource (Bearer JWT)")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(resource_row["failures"], resource_row["requests"]);
    // The /token requests themselves were fine.
    let token = rows
        .iter()
        .find(|r| r["request"] == "GET /api/auth/token")
        .unwrap();
    assert_eq!(token["failures"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_whose_sign_up_fails_exits_1_naming_it() {
    // Nothing mounted: every request gets 404, sign-up included (reachable, but no Better Auth).
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let (output, _, _) = load_against(&server.uri(), "get-session", "no-sign-up").await;
    let all = assert_exit(&output, 1);
    for said in [
        "could not sign up and sign in",
        "POST /sign-up/email answered HTTP 404",
        "fix: if the target closes sign-up or refuses a fresh account's sign-in (emailAndPassword.disableSignUp, requireEmailVerification), give existing accounts with --users-file",
    ] {
        assert!(all.contains(said), "{all}");
    }
}

/// The consent gate, through the binary: refused before anything is sent (these names are never
/// contacted: the refusal comes first, and no test passes the gate with a remote host).
#[test]
fn non_loopback_targets_without_consent_are_refused_with_exit_2() {
    for (target, host) in [
        ("http://10.0.0.1:3000", "10.0.0.1"),
        ("https://auth.example.com", "auth.example.com"),
    ] {
        for consent in [None, Some("staging.example.com")] {
            let mut args = vec![
                "load",
                "--scenario",
                "get-session",
                "--target",
                target,
                "--run-time",
                "1s",
            ];
            if let Some(other) = consent {
                args.extend(["--allow-remote", other]);
            }
            let output = run(&args);
            let all = text(&output);
            assert_eq!(output.status.code(), Some(2), "{all}");
            assert!(all.contains("loopback"), "{all}");
            assert!(all.contains(&format!("--allow-remote {host}")), "{all}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_429_are_counted_apart_and_named() {
    let server = fake(Mode::RateLimited).await;
    let (output, report, markdown) =
        load_against(&server.uri(), "get-session", "rate-limited").await;
    let all = assert_exit(&output, 1);
    let observed = &report["ba_harness"]["observed"];
    let requests = observed["requests"].as_u64().unwrap();
    let limited = observed["rate_limited"].as_u64().unwrap();
    // Every third request: a third of them, give or take the last one.
    assert!(
        limited * 3 + 6 >= requests && limited * 3 <= requests + 6,
        "{observed}"
    );
    assert_eq!(observed["failures"], 0, "429s are not buried in failures");
    let line = format!("the target rate-limited the load: {limited} responses 429");
    assert!(all.contains(&line), "{all}");
    assert!(markdown.contains(&line), "{markdown}");
    assert!(all.contains("rate-limited (429)"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_phase_waits_out_429s_and_reports_itself() {
    let server = fake(Mode::SignInRateLimited).await;
    let (output, report, _) = load_against(&server.uri(), "get-session", "sign-in-429").await;
    let all = assert_exit(&output, 0);
    assert!(
        all.contains("sign-in phase: 2 users ready in"),
        "the phase is reported on its own: {all}"
    );
    assert!(all.contains("the target answered 429 2 times"), "{all}");
    let phase = &report["ba_harness"]["sign_in"];
    assert_eq!(phase["rate_limited_answers"], 2);
    assert!(
        phase["secs"].as_f64().unwrap() >= 1.0,
        "the Retry-After was waited out"
    );
    // The first sign-in after the 429s went at half the pace.
    assert_eq!(phase["rate"], 10.0);
    assert_eq!(phase["final_rate"], 2.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_file_signs_existing_accounts_in_when_sign_up_is_closed() {
    let server = fake(Mode::ClosedSignUp).await;
    let file = temp_path("users.csv");
    let (email, password) = SEEDED[0];
    std::fs::write(&file, format!("# accounts\n{email},{password}\n")).unwrap();
    // Without it: sign-up is refused, and the run says so.
    let (output, _, _) = load_against(&server.uri(), "get-session", "closed").await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("POST /sign-up/email answered HTTP 400"));
    // With it: 2 users over 1 account (each virtual user signs it in: a session of its own).
    let (output, report, markdown) = load_with(
        &server.uri(),
        "get-session",
        "users-file",
        &["--users-file", file.to_str().unwrap()],
    )
    .await;
    let all = assert_exit(&output, 0);
    assert!(all.contains("sign-in (--users-file)"), "{all}");
    assert_eq!(report["ba_harness"]["sign_in"]["users_ready"], 2);
    assert!(!all.contains(password) && !markdown.contains(password));
    assert!(!report.to_string().contains(password));
    // Nothing is deleted: the accounts were not the run's.
    assert!(!all.contains("cleanup:"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_line_is_printed_while_the_run_goes() {
    let server = fake(Mode::Correct).await;
    let (output, _, _) = load_with(
        &server.uri(),
        "get-session",
        "progress",
        &["--progress-every", "1"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // Off a terminal: plain lines, no carriage return.
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("req/s") && l.contains("p95"))
        .collect();
    assert!(lines.len() >= 2, "a status line a second: {stdout}");
    assert!(lines[0].contains("/3 s]"), "elapsed/total: {stdout}");
    assert!(!stdout.contains('\r'));
    // The verdict comes last.
    let verdict = stdout.find("load: passed").unwrap();
    assert!(stdout.rfind("req/s").unwrap() < verdict);
}

#[test]
fn nothing_listening_is_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = run(&[
        "load",
        "--scenario",
        "get-session",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--run-time",
        "1s",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
}

#[test]
fn smoke_against_the_bundled_reference_passes_and_writes_reports() {
    let html = temp_path("smoke.html");
    let json = temp_path("smoke.json");
    let md = temp_path("smoke.md");
    let output = run(&[
        "load",
        "--scenario",
        "get-session",
        "--profile",
        "smoke",
        "--run-time",
        "3s",
        "--max-p95-ms",
        "2000",
        "--report",
        html.to_str().unwrap(),
        "--report",
        json.to_str().unwrap(),
        "--report",
        md.to_str().unwrap(),
    ]);
    let all = assert_exit(&output, 0);
    assert!(all.contains("load: passed"), "{all}");

    let html = std::fs::read_to_string(&html).expect("HTML report written");
    // Self-contained: no script at all, nothing loaded from elsewhere; the charts are inline SVG.
    assert!(!html.contains("<script"), "no script in the HTML report");
    assert!(
        !html.contains("src=") && !html.contains("<link"),
        "nothing fetched"
    );
    assert!(!html.to_lowercase().contains("echarts"));
    assert!(html.matches("<svg").count() >= 5, "five charts");
    assert!(html.contains("<polyline"), "the time series are drawn");
    // The verdict and the thresholds come first, before any chart.
    let verdict = html
        .find("load: passed")
        .expect("the verdict is in the HTML");
    let thresholds = html.find("<h2>Thresholds</h2>").unwrap();
    let first_chart = html.find("<svg").unwrap();
    assert!(verdict < thresholds && thresholds < first_chart);
    assert!(html.contains("coordinated-omission mitigation</th><td>disabled"));
    assert!(
        html.contains("sign-in phase: 4 users ready"),
        "the sign-in phase is reported"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let verdict = &report["ba_harness"];
    assert_eq!(verdict["passed"], true);
    assert_eq!(verdict["profile"], "smoke");
    assert_eq!(verdict["co_mitigation"], "disabled");
    assert!(verdict["observed"]["requests"].as_u64().unwrap() > 0);
    assert!(
        verdict["timeline"].as_array().is_some_and(|t| t.len() >= 2),
        "one sample a second"
    );
    assert!(verdict["window_start_unix_ms"].as_i64().unwrap() > 0);
    assert_eq!(verdict["sign_in"]["users_ready"], 4);
    let histogram = &verdict["histograms"]["GET /api/auth/get-session"]["raw"];
    assert!(
        histogram["times_us"]
            .as_object()
            .is_some_and(|b| !b.is_empty())
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("PASSED") && md.contains("coordinated-omission mitigation"));
    assert!(
        md.contains("# Goose Attack Report"),
        "goose's Markdown follows"
    );
}

#[test]
fn jwt_smoke_against_the_bundled_reference_passes() {
    let md = temp_path("jwt-smoke.md");
    let output = run(&[
        "load",
        "--scenario",
        "jwt-verification",
        "--users",
        "2",
        "--iterations",
        "40",
        "--co-mitigation",
        "average",
        "--report",
        md.to_str().unwrap(),
    ]);
    let all = assert_exit(&output, 0);
    assert!(all.contains("JWT verify"), "{all}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("**average**"), "{md}");
}

/// goose installs a Ctrl-C handler of its own; the harness must keep Ctrl-C: the run stops,
/// its reports say so, the bundled server is stopped and the exit code is 130.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_the_bundled_server_with_exit_130() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let md = temp_path("interrupted.md");
    let mut child = harness::blocking_command()
        .args([
            "load",
            "--scenario",
            "get-session",
            "--users",
            "2",
            "--run-time",
            "60s",
            "--report",
            md.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("sign-up and sign-in of") {
            break;
        }
    }
    // The bundled server is a child of the harness.
    let server = Command::new("pgrep")
        .args(["-P", &pid])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(!server.is_empty(), "no bundled server child: {seen}");
    // Let the measured part start (setup of 2 users takes well under a second).
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap().code();
    let all = format!("{seen}{}", rest.join("\n"));
    assert!(started.elapsed() < Duration::from_secs(15), "{all}");
    assert_eq!(code, Some(130), "{all}");
    assert!(all.contains("load: interrupted"), "{all}");
    if all.contains("figures cover the part that ran") {
        let md = std::fs::read_to_string(&md).unwrap();
        assert!(md.contains("INTERRUPTED"), "{md}");
    }
    let alive = Command::new("ps")
        .args(["-p", &server])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!alive, "the bundled server {server} outlived the harness");
}

/// https with a private CA: the bundled reference served over TLS by a throwaway CA, loaded as a
/// --target. Without --ca-cert its certificate is not trusted (exit 3, naming the flag); with
/// the CA's PEM, the run passes.
#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_private_ca_needs_ca_cert() {
    let server = ba_harness::reference::ReferenceServer::boot_with(&[("RATE_LIMIT", "off")], true)
        .await
        .expect("the bundled reference boots over https");
    let target = server.ready.base_url.clone();
    assert!(target.starts_with("https://127.0.0.1:"), "{target}");
    let ca = temp_path("ca.pem");
    std::fs::write(&ca, server.ca_pem.clone().unwrap()).unwrap();
    let (output, _, _) = load_with(&target, "get-session", "https-untrusted", &[]).await;
    let all = assert_exit(&output, 3);
    assert!(all.contains("--ca-cert"), "{all}");
    let (output, report, _) = load_with(
        &target,
        "get-session",
        "https-ca",
        &["--ca-cert", ca.to_str().unwrap()],
    )
    .await;
    assert_exit(&output, 0);
    assert!(
        report["ba_harness"]["observed"]["requests"]
            .as_u64()
            .unwrap()
            > 0
    );
    server.stop().await;
}
