//! The authorization-code lifetime scenario (features/oauth-code-lifetime.feature) can fail, and
//! only where it should: against the reference booted with a short codeExpiresIn and that
//! lifetime declared (`--code-lifetime`), it passes as is, and fails on its rule behind a proxy
//! that makes the server look as if it accepted expired codes (it remembers when each code was
//! issued and answers the exchange of an older one with tokens of its own). Without the
//! declaration it is skipped, naming the flag; a lifetime over ten minutes, or one the run
//! timeout cannot hold, is a usage error.
//!
//! One reference serves every run; each run waits the short lifetime out once.

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mutating_proxy::{BrokenReference, ConformRun, Flaw, ProxyResponse, run_conform};
use serde_json::{Value, json};

use mutating_proxy::oauth::*;

const SCENARIO: &str = "An authorization code is refused once its lifetime has passed";

/// The reference's codeExpiresIn in these tests, in seconds.
const LIFETIME: &str = "3";

/// Runs the scenario alone against `broken`, with `extra` flags.
async fn run_scenario(broken: &BrokenReference, extra: &[&str]) -> ConformRun {
    let one = OneScenario::new(SCENARIO);
    let mut args = broken.target_args();
    args.extend(["--features".into(), one.dir.display().to_string()]);
    args.extend(["--tags".into(), "@oauth-provider".into()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    run_conform(args).await
}

/// The code of a redirect to the client (a Location header, or the `url` of Better Auth's JSON
/// consent answer), if the answer carries one.
fn issued_code(resp: &ProxyResponse) -> Option<String> {
    let target = resp.header("location").map(str::to_string).or_else(|| {
        resp.json()
            .and_then(|b| b.get("url").and_then(Value::as_str).map(str::to_string))
    })?;
    let query = target.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
}

/// A server that accepts expired codes: the proxy notes when each code was issued and answers
/// the exchange of one older than `lifetime` with tokens of its own (a fresh code's exchange
/// still reaches the server).
fn accepts_expired_codes(lifetime: Duration) -> Flaw {
    let issued: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let noted = Arc::clone(&issued);
    Flaw {
        on_request: Some(Arc::new(move |req| {
            if !is(req, "/oauth2/token")
                || form_value(req, "grant_type").as_deref() != Some("authorization_code")
            {
                return None;
            }
            let code = form_value(req, "code")?;
            let at = *issued.lock().unwrap().get(&code)?;
            (at.elapsed() > lifetime).then(|| {
                json_response(
                    200,
                    json!({
                        "access_token": "proxy-access-token-for-an-expired-code",
                        "token_type": "Bearer",
                        "expires_in": 3600,
                    }),
                )
            })
        })),
        on_response: Some(Arc::new(move |_, resp| {
            if let Some(code) = issued_code(resp) {
                noted.lock().unwrap().insert(code, Instant::now());
            }
        })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_must_be_refused_and_is_skipped_without_a_declared_lifetime() {
    let broken = BrokenReference::start(Flaw::none(), &[("CODE_EXPIRES_IN", LIFETIME)]).await;
    assert_eq!(
        broken.server.ready.code_expires_in,
        Some(3),
        "the reference reports its codeExpiresIn"
    );
    let declared = ["--code-lifetime", LIFETIME];

    // The real server refuses the expired code.
    let run = run_scenario(&broken, &declared).await;
    let status = &run.scenario(SCENARIO).expect("the scenario ran")["status"];
    assert_eq!(status, "passed", "{}", run.output);

    // A server that accepts it fails the scenario on its rule.
    let lifetime = Duration::from_secs(LIFETIME.parse().unwrap());
    broken.proxy.set_flaw(accepts_expired_codes(lifetime));
    let run = run_scenario(&broken, &declared).await;
    run.assert_failed(SCENARIO, "an authorization code expires");
    let actual = run.scenario(SCENARIO).unwrap()["actual"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(actual.starts_with("HTTP 200 with tokens"), "{actual}");

    // Without the declaration there is nothing to wait for: skipped, naming the flag.
    broken.proxy.set_flaw(Flaw::none());
    let run = run_scenario(&broken, &[]).await;
    let scenario = run.scenario(SCENARIO).expect("the scenario is reported");
    assert_eq!(scenario["status"], "skipped", "{}", run.output);
    let reason = scenario["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("--code-lifetime"), "{reason}");
    broken.server.stop().await;
}

/// Exit code and stderr of `conform` against a closed port with `extra` flags.
fn usage(extra: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"))
        .args(["conform", "--target", "http://127.0.0.1:9"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_code_lifetime_over_ten_minutes_or_beyond_the_run_is_a_usage_error() {
    let (code, stderr) = usage(&["--code-lifetime", "601"]);
    assert_eq!(code, Some(2), "{stderr}");
    // 600 s is allowed, but not within the default 600-s run.
    let (code, stderr) = usage(&["--code-lifetime", "600"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--run-timeout"), "{stderr}");
}
