//! Password reset through a mailbox and sessions past their lifetimes, against the real
//! reference: the short-sessions profile passes every such scenario through the bundled run
//! (its ready line declares the mailbox and the lifetimes), and behind a proxy that breaks one
//! rule each scenario fails on exactly that rule. A lifetime the harness would not wait out is
//! a usage error.

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mutating_proxy::oauth::{OneScenario, is, json_response};
use mutating_proxy::{BrokenReference, Flaw, run_conform};
use serde_json::{Value, json};

const SESSION_TOKEN: &str = "better-auth.session_token";
const SHORT_SESSIONS: &[(&str, &str)] = &[("BA_PROFILE", "short-sessions")];
/// Every scenario of the two features.
const TAGS: &str = "@account-reset or @session-lifetime";

/// The flags that declare what the reference's ready line reports: the mailbox, whether a
/// reset revokes sessions, and each lifetime short enough to wait out.
fn declared_settings(broken: &BrokenReference) -> Vec<String> {
    let ready = &broken.server.ready;
    let mut args = Vec::new();
    if let Some(mailbox) = &ready.mailbox {
        args.extend(["--mailbox".to_string(), mailbox.clone()]);
    }
    if ready.revoke_sessions_on_password_reset {
        args.push("--revoke-sessions-on-password-reset".to_string());
    }
    for (flag, secs) in [
        (
            "--reset-token-expires-in",
            ready.reset_password_token_expires_in,
        ),
        ("--session-expires-in", ready.session_expires_in),
        ("--fresh-age", ready.fresh_age),
    ] {
        if let Some(secs) = secs.filter(|s| *s <= 120) {
            args.extend([flag.to_string(), secs.to_string()]);
        }
    }
    args
}

/// Boots the reference (`env`) behind a proxy with `flaw`, runs `scenario` alone with the
/// declared settings, and requires it to fail on a rule naming `rule_fragment`.
async fn breaks(env: &[(&str, &str)], flaw: Flaw, scenario: &str, rule_fragment: &str) {
    let broken = BrokenReference::start(flaw, env).await;
    let one = OneScenario::new(scenario);
    let mut args = broken.target_args();
    args.extend(declared_settings(&broken));
    args.extend(["--features".to_string(), one.dir.display().to_string()]);
    let run = run_conform(args).await;
    run.assert_failed(scenario, rule_fragment);
    broken.server.stop().await;
}

/// A session store that never ends a session: get-session answers, for any session token it
/// saw start (sign-up, sign-in), the session it started, whatever the server says now.
fn undying_sessions() -> Flaw {
    let started: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    Flaw::response(move |request, response| {
        let starts = is(request, "/sign-up/email") || is(request, "/sign-in/email");
        if starts
            && response.status == 200
            && let Some(body) = response.json()
            && let Some(token) = body["token"].as_str()
        {
            started
                .lock()
                .unwrap()
                .insert(token.to_string(), body["user"].clone());
        }
        let cookie_token = request.header("cookie").and_then(|header| {
            header.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == SESSION_TOKEN)
                    .then(|| value.split('.').next().unwrap_or_default().to_string())
            })
        });
        if is(request, "/get-session")
            && response.json() == Some(Value::Null)
            && let Some(token) = cookie_token
            && let Some(user) = started.lock().unwrap().get(&token)
        {
            response.set_json(&json!({
                "session": {
                    "id": "kept-by-the-flaw",
                    "token": token,
                    "userId": user["id"],
                    "expiresAt": "2099-01-01T00:00:00.000Z",
                    "createdAt": "2026-01-01T00:00:00.000Z",
                    "updatedAt": "2026-01-01T00:00:00.000Z",
                },
                "user": user,
            }));
        }
    })
}

/// An answer the reference refuses with `code` (on a path ending in `path`) becomes 200 `body`.
fn accepts_what_it_refused(path: &'static str, code: &'static str, body: Value) -> Flaw {
    Flaw::response(move |request, response| {
        if is(request, path) && response.json().is_some_and(|b| b["code"] == code) {
            *response = json_response(200, body.clone());
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_short_sessions_profile_passes_every_lifetime_scenario() {
    // The bundled run: the ready line's mailbox and lifetimes reach the target by themselves.
    let run = run_conform(
        [
            "--reference-profile",
            "short-sessions",
            "--tags",
            TAGS,
            "--strict",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    let scenarios = run.report["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(scenarios.len(), 5, "{}", run.output);
    assert!(
        scenarios.iter().all(|s| s["status"] == "passed"),
        "every lifetime scenario passes, none skipped:\n{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_that_leaves_the_sessions_alive_fails() {
    breaks(
        &[],
        undying_sessions(),
        "reset-password ends every earlier session of the user",
        "reset-password with revokeSessionsOnPasswordReset ends every earlier session",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_token_that_works_twice_or_after_expiry_fails() {
    // reset-password accepts a token it would refuse (used, or expired).
    let flaw =
        || accepts_what_it_refused("/reset-password", "INVALID_TOKEN", json!({"status": true}));
    for (env, scenario) in [
        (&[][..], "A password reset token works only once"),
        (SHORT_SESSIONS, "An expired password reset token is refused"),
    ] {
        breaks(
            env,
            flaw(),
            scenario,
            "a password reset token works once and only until it expires",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_outlives_expires_in_fails() {
    breaks(
        SHORT_SESSIONS,
        undying_sessions(),
        "A session past expiresIn is no session",
        "a session past session.expiresIn is no session",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_session_that_deletes_its_user_fails() {
    breaks(
        SHORT_SESSIONS,
        accepts_what_it_refused(
            "/delete-user",
            "SESSION_EXPIRED",
            json!({"success": true, "message": "User deleted"}),
        ),
        "A session older than freshAge cannot delete its user",
        "a session older than session.freshAge cannot delete its user",
    )
    .await;
}

#[tokio::test]
async fn a_lifetime_the_harness_would_not_wait_out_is_a_usage_error() {
    for flag in [
        "--session-expires-in",
        "--fresh-age",
        "--reset-token-expires-in",
    ] {
        let run = run_conform(
            ["--target", "http://127.0.0.1:9", flag, "86400"]
                .map(String::from)
                .to_vec(),
        )
        .await;
        assert_eq!(run.code, Some(2), "{flag}: {}", run.output);
        assert!(
            run.output.contains("at most 120 s"),
            "{flag}: {}",
            run.output
        );
    }
}
