//! Session rules against the real reference behind a proxy that breaks exactly one of them:
//! bearer tokens, the cookie cache, error answers, the origin check, rate limiting and session
//! management. Each test bends one rule and the harness must fail the scenario that checks it;
//! one test per feature shows that the unbent reference passes all of that feature.

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ba_harness::protocol::cookie::SetCookie;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mutating_proxy::{BrokenReference, ConformRun, Flaw, ProxyRequest, ProxyResponse, run_conform};
use serde_json::{Value, json};

const SESSION_TOKEN: &str = "better-auth.session_token";
const SESSION_DATA: &str = "better-auth.session_data";
/// The cookie cache lifetime the bundled run uses, short enough for the revocation-delay
/// scenario (@short-cookie-cache) to run.
const SHORT_CACHE: &[(&str, &str)] = &[("COOKIE_CACHE_MAX_AGE", "6")];

// ---------------------------------------------------------------------------------------------
// Helpers

/// Boots the reference behind the proxy, then installs the flaw `make` builds from the proxy's
/// URL (the reference's public origin), before any traffic.
async fn start(env: &[(&str, &str)], make: impl FnOnce(&str) -> Flaw) -> BrokenReference {
    let broken = BrokenReference::start(Flaw::none(), env).await;
    let flaw = make(&broken.proxy.url);
    broken.proxy.set_flaw(flaw);
    broken
}

/// Runs the scenarios tagged `tag` (strict, so SHOULD rules fail the run too).
async fn run_feature(broken: &BrokenReference, tag: &str) -> ConformRun {
    let mut args = broken.target_args();
    args.extend([
        "--tags".to_string(),
        tag.to_string(),
        "--strict".to_string(),
    ]);
    if let Some(max) = broken.server.ready.rate_limit_max {
        args.extend(["--rate-limit-max".to_string(), max.to_string()]);
    }
    run_conform(args).await
}

/// Boots the reference (with `env`) behind the flaw `make` builds, runs `tag`'s scenarios and
/// asserts that `scenario` failed on a rule naming `rule_fragment`; other scenarios the flaw
/// also broke are printed, not asserted.
async fn breaks(
    tag: &str,
    scenario: &str,
    rule_fragment: &str,
    env: &[(&str, &str)],
    make: impl FnOnce(&str) -> Flaw,
) {
    let broken = start(env, make).await;
    run_feature(&broken, tag)
        .await
        .assert_breaks(scenario, rule_fragment);
    broken.server.stop().await;
}

/// Runs `tag`'s scenarios against the unbent reference: all must pass.
async fn assert_all_pass(env: &[(&str, &str)], tag: &str) {
    let broken = BrokenReference::start(Flaw::none(), env).await;
    let run = run_feature(&broken, tag).await;
    let scenarios = run.report["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!scenarios.is_empty(), "no scenario ran:\n{}", run.output);
    // The reference's listed SHOULD warnings fail a --strict run (exit 1) and nothing else may.
    let warned = scenarios.iter().any(mutating_proxy::is_reference_warning);
    assert_eq!(run.code, Some(if warned { 1 } else { 0 }), "{}", run.output);
    let statuses: Vec<&str> = scenarios
        .iter()
        .filter(|s| !mutating_proxy::is_reference_warning(s))
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == "passed"),
        "every {tag} scenario passes (none skipped; the reference's listed SHOULD warnings \
         aside): {statuses:?}\n{}",
        run.output
    );
    broken.server.stop().await;
}

fn is(request: &ProxyRequest, method: &str, path_suffix: &str) -> bool {
    request.method == method && request.path_only().ends_with(path_suffix)
}

/// A cookie the request carries, by name (raw value, as sent).
fn request_cookie(request: &ProxyRequest, name: &str) -> Option<String> {
    request.header("cookie").and_then(|header| {
        header.split(';').find_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n == name).then(|| v.to_string())
        })
    })
}

/// The token part of a signed session cookie value (`<token>.<signature>`, percent-encoded).
fn token_part(value: &str) -> String {
    value.split('.').next().unwrap_or_default().to_string()
}

fn request_json(request: &ProxyRequest) -> Option<Value> {
    serde_json::from_slice(&request.body).ok()
}

fn set_request_json(request: &mut ProxyRequest, value: &Value) {
    request.body = serde_json::to_vec(value).unwrap();
}

fn json_answer(status: u16, body: &Value) -> ProxyResponse {
    ProxyResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(body).unwrap(),
    }
}

/// The JSON inside a compact cookie cache value (base64url JSON with a `signature` field),
/// read without checking the signature, as a careless server would.
fn decode_cache(value: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The get-session answer a cookie cache value describes, while its `expiresAt` (ms) lasts.
fn session_from_cache(value: &str) -> Option<Value> {
    let cache = decode_cache(value)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    if cache["expiresAt"].as_u64().is_none_or(|exp| exp <= now_ms) {
        return None;
    }
    let inner = &cache["session"];
    inner["session"]
        .is_object()
        .then(|| json!({"session": inner["session"].clone(), "user": inner["user"].clone()}))
}

fn flaw(
    on_request: impl Fn(&mut ProxyRequest) -> Option<ProxyResponse> + Send + Sync + 'static,
    on_response: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static,
) -> Flaw {
    Flaw {
        on_request: Some(Arc::new(on_request)),
        on_response: Some(Arc::new(on_response)),
    }
}

// ---------------------------------------------------------------------------------------------
// The unbent reference passes every feature of this file.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_bearer_scenario() {
    assert_all_pass(&[], "@bearer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_cookie_cache_scenario() {
    assert_all_pass(SHORT_CACHE, "@cookie-cache").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_errors_scenario() {
    assert_all_pass(&[], "@errors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_origin_scenario() {
    assert_all_pass(&[], "@origin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_the_rate_limit_scenario() {
    assert_all_pass(&[], "@rate-limit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_sessions_scenario() {
    assert_all_pass(&[], "@sessions").await;
}

// ---------------------------------------------------------------------------------------------
// @bearer

/// set-auth-token carries the bare token, without its signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_set_auth_token_fails() {
    breaks(
        "@bearer",
        "Sign-in returns the signed session token in set-auth-token",
        "sign-in returns the signed session token in the set-auth-token header",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/sign-in/email")
                    && let Some(token) = response.header("set-auth-token").map(token_part)
                {
                    response.set_header("set-auth-token", &token);
                }
            })
        },
    )
    .await;
}

/// CORS does not expose set-auth-token, so browser scripts cannot read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_auth_token_hidden_from_scripts_fails() {
    breaks(
        "@bearer",
        "set-auth-token is readable by browser scripts",
        "set-auth-token is listed in Access-Control-Expose-Headers",
        &[],
        |_| Flaw::response(|_, response| response.remove_header("access-control-expose-headers")),
    )
    .await;
}

/// get-session ignores the Authorization header (only cookies count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_session_ignoring_the_bearer_fails() {
    breaks(
        "@bearer",
        "A bearer token authenticates get-session",
        "get-session returns the session of the user",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "GET", "/get-session") {
                    request.remove_header("authorization");
                }
                None
            })
        },
    )
    .await;
}

/// The bearer's signature is never checked: only its token part counts. (The proxy, not
/// knowing the secret, restores the good signature it saw for that token at sign-in.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_with_an_unchecked_signature_fails() {
    breaks(
        "@bearer",
        "A bearer token with an altered signature gets no session",
        "answers JSON null when there is no valid session",
        &[],
        |_| {
            let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    let bearer = request
                        .header("authorization")
                        .and_then(|a| a.strip_prefix("Bearer "))
                        .map(str::to_string);
                    if is(request, "GET", "/get-session")
                        && let Some(bearer) = bearer
                        && let Some(good) = seen.lock().unwrap().get(&token_part(&bearer))
                    {
                        request.set_header("authorization", &format!("Bearer {good}"));
                    }
                    None
                },
                move |_, response| {
                    if let Some(token) = response.header("set-auth-token") {
                        learn
                            .lock()
                            .unwrap()
                            .insert(token_part(token), token.to_string());
                    }
                },
            )
        },
    )
    .await;
}

/// A sign-out with only a bearer token says it succeeded but ends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_sign_out_that_revokes_nothing_fails() {
    breaks(
        "@bearer",
        "A bearer-only sign-out needs no Origin and revokes the session",
        "answers JSON null when there is no valid session",
        &[],
        |_| {
            Flaw::request(|request| {
                (is(request, "POST", "/sign-out")
                    && request.header("authorization").is_some()
                    && request.header("cookie").is_none())
                .then(|| json_answer(200, &json!({"success": true})))
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @cookie-cache

/// Sign-in drops the session_data cookie (a multi-cookie answer that loses one line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_without_the_cache_cookie_fails() {
    breaks(
        "@cookie-cache",
        "Sign-in issues the cookie cache cookie",
        "with the cookie cache on, sign-in sets `better-auth.session_data`",
        SHORT_CACHE,
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/sign-in/email") {
                    let prefix = format!("{SESSION_DATA}=");
                    response.map_set_cookies(|line| {
                        (!line.starts_with(&prefix)).then(|| line.to_string())
                    });
                }
            })
        },
    )
    .await;
}

/// get-session trusts session_data alone, without a session token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_trusted_alone_fails() {
    breaks(
        "@cookie-cache",
        "The cookie cache alone is no session",
        "answers JSON null when there is no valid session",
        SHORT_CACHE,
        |_| {
            Flaw::request(|request| {
                if !is(request, "GET", "/get-session")
                    || request_cookie(request, SESSION_TOKEN).is_some()
                {
                    return None;
                }
                let cache = request_cookie(request, SESSION_DATA)?;
                session_from_cache(&cache).map(|session| json_answer(200, &session))
            })
        },
    )
    .await;
}

/// get-session believes the cache's content without checking its signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_whose_signature_is_not_checked_fails() {
    breaks(
        "@cookie-cache",
        "A cookie cache altered to name someone else is not believed",
        "a cookie cache whose content was altered is not trusted",
        SHORT_CACHE,
        |_| {
            Flaw::request(|request| {
                if !is(request, "GET", "/get-session")
                    || request_cookie(request, SESSION_TOKEN).is_none()
                {
                    return None;
                }
                let cache = request_cookie(request, SESSION_DATA)?;
                session_from_cache(&cache).map(|session| json_answer(200, &session))
            })
        },
    )
    .await;
}

/// A server-side copy of each session (taken when it starts, like a secondary store) that
/// sign-out forgets to delete: get-session with the session token alone falls back to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_server_side_copy_after_sign_out_fails() {
    breaks(
        "@cookie-cache",
        "After sign-out the session token alone gets no session, even with the cache on",
        "answers JSON null when there is no valid session",
        SHORT_CACHE,
        |_| {
            let store: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
            Flaw::response(move |request, response| {
                let starts_session =
                    is(request, "POST", "/sign-in/email") || is(request, "POST", "/sign-up/email");
                if starts_session && response.status == 200 {
                    let cookies: Vec<SetCookie> = response
                        .headers_named("set-cookie")
                        .iter()
                        .filter_map(|l| SetCookie::parse(l).ok())
                        .collect();
                    let token = cookies.iter().find(|c| c.name == SESSION_TOKEN);
                    let cache = cookies.iter().find(|c| c.name == SESSION_DATA);
                    if let (Some(token), Some(cache)) = (token, cache)
                        && let Some(session) = session_from_cache(&cache.value)
                    {
                        store
                            .lock()
                            .unwrap()
                            .insert(token_part(&token.value), session);
                    }
                }
                if is(request, "GET", "/get-session")
                    && request_cookie(request, SESSION_DATA).is_none()
                    && response.json() == Some(Value::Null)
                    && let Some(token) = request_cookie(request, SESSION_TOKEN)
                    && let Some(kept) = store.lock().unwrap().get(&token_part(&token))
                {
                    response.set_json(kept);
                }
            })
        },
    )
    .await;
}

/// get-session never uses the cookie cache (always asks the database), while still issuing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_that_is_never_used_fails() {
    breaks(
        "@cookie-cache",
        "The cookie cache is honoured until it expires, even after sign-out",
        "get-session returns the session of the user",
        SHORT_CACHE,
        |_| {
            Flaw::request(|request| {
                if is(request, "GET", "/get-session") {
                    let sep = if request.path.contains('?') { '&' } else { '?' };
                    request.path = format!("{}{sep}disableCookieCache=true", request.path);
                }
                None
            })
        },
    )
    .await;
}

/// The kept session token and cache keep working forever: the last session answer given for a
/// token with its cache is replayed once the server says null.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_delay_that_never_ends_fails() {
    breaks(
        "@cookie-cache",
        "The revocation delay of the cookie cache ends after its maxAge",
        "after sign-out the cookie cache keeps a session alive for at most its maxAge",
        SHORT_CACHE,
        |_| {
            let last: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
            Flaw::response(move |request, response| {
                if !is(request, "GET", "/get-session")
                    || request_cookie(request, SESSION_DATA).is_none()
                {
                    return;
                }
                let Some(token) = request_cookie(request, SESSION_TOKEN).map(|t| token_part(&t))
                else {
                    return;
                };
                match response.json() {
                    Some(Value::Null) => {
                        if let Some(kept) = last.lock().unwrap().get(&token) {
                            response.set_json(kept);
                        }
                    }
                    Some(answer) if answer["session"].is_object() => {
                        last.lock().unwrap().insert(token, answer);
                    }
                    _ => {}
                }
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @errors

/// The minimum password length is lower than documented (the proxy pads short passwords to 8
/// characters, so a 5-character one is accepted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_password_accepted_at_sign_up_fails() {
    breaks(
        "@errors",
        "A password shorter than the minimum is refused at sign-up",
        "answers HTTP 400",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/sign-up/email")
                    && let Some(mut body) = request_json(request)
                    && let Some(password) = body["password"].as_str().map(str::to_string)
                    && password.len() < 8
                {
                    body["password"] = json!(format!("{password:x<8}"));
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// The maximum password length is higher than documented (the proxy cuts long passwords to 128
/// characters, so a 129-character one is accepted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_password_accepted_at_sign_up_fails() {
    breaks(
        "@errors",
        "A password longer than the maximum is refused at sign-up",
        "answers HTTP 400",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/sign-up/email")
                    && let Some(mut body) = request_json(request)
                    && let Some(password) = body["password"].as_str().map(str::to_string)
                    && password.len() > 128
                {
                    body["password"] = json!(password[..128].to_string());
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// Sign-up does not validate the email's format (the proxy makes it valid before the server
/// sees it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_email_accepted_at_sign_up_fails() {
    breaks(
        "@errors",
        "A malformed email at sign-up is refused",
        "answers HTTP 400",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/sign-up/email")
                    && let Some(mut body) = request_json(request)
                    && body["email"] == "not-an-email"
                {
                    body["email"] = json!(format!(
                        "not-an-email-{}@ba-harness.test",
                        rand::random::<u32>()
                    ));
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// rememberMe false ignored on the server: the session lives the full 7 days (the proxy moves
/// session.expiresAt in get-session answers for sessions that carry dont_remember).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_remembered_session_kept_for_a_week_fails() {
    breaks(
        "@session-cookie",
        "With rememberMe false the server keeps the session for one day",
        "lasts one day",
        &[],
        |_| {
            flaw(
                |_| None,
                |request, response| {
                    if is(request, "GET", "/get-session")
                        && request_cookie(request, "better-auth.dont_remember").is_some()
                        && let Some(mut body) = response.json()
                        && body["session"]["expiresAt"].is_string()
                    {
                        let week = time::OffsetDateTime::now_utc() + time::Duration::days(7);
                        body["session"]["expiresAt"] = json!(
                            week.format(&time::format_description::well_known::Rfc3339)
                                .unwrap()
                        );
                        response.set_json(&body);
                    }
                },
            )
        },
    )
    .await;
}

/// Emails kept as typed: the sign-up answer carries the mixed-case address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_kept_in_mixed_case_fail() {
    breaks(
        "@email-password",
        "Emails are case-insensitive",
        "lower case",
        &[],
        |_| {
            flaw(
                |_| None,
                |request, response| {
                    if is(request, "POST", "/sign-up/email")
                        && let (Some(sent), Some(mut body)) =
                            (request_json(request), response.json())
                        && body["user"]["email"].is_string()
                    {
                        body["user"]["email"] = sent["email"].clone();
                        response.set_json(&body);
                    }
                },
            )
        },
    )
    .await;
}

/// A sign-in without a password is treated as wrong credentials (401), not invalid input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_password_answered_as_wrong_credentials_fails() {
    breaks(
        "@errors",
        "A sign-in without a password is refused as invalid input",
        "answers HTTP 400",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/sign-in/email")
                    && let Some(mut body) = request_json(request)
                    && body.get("password").is_none()
                {
                    body["password"] = json!("not-the-password-of-anyone");
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// The INVALID_EMAIL error is sent as text/plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_sent_as_text_plain_fails() {
    breaks(
        "@errors",
        "A malformed email at sign-in is refused",
        "errors are JSON {code, message} with code INVALID_EMAIL",
        &[],
        |_| {
            Flaw::response(|_, response| {
                if response
                    .json()
                    .is_some_and(|b| b["code"] == "INVALID_EMAIL")
                {
                    response.set_header("content-type", "text/plain;charset=UTF-8");
                }
            })
        },
    )
    .await;
}

/// list-sessions without a session answers an empty list instead of 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_route_open_to_anonymous_clients_fails() {
    breaks(
        "@errors",
        "A session-only route refuses a request without a session",
        "answers HTTP 401",
        &[],
        |_| {
            Flaw::request(|request| {
                (is(request, "GET", "/list-sessions")
                    && request.header("cookie").is_none()
                    && request.header("authorization").is_none())
                .then(|| json_answer(200, &json!([])))
            })
        },
    )
    .await;
}

/// get-session answers without Cache-Control: no-store (a shared cache could keep them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cacheable_session_answer_fails() {
    breaks(
        "@errors",
        "Session answers are not cacheable",
        "session answers carry Cache-Control: no-store",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "GET", "/get-session") {
                    response.remove_header("cache-control");
                }
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @origin

/// The Origin is only checked when the request carries cookies (a cookie-less sign-in from any
/// Origin passes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_origin_let_through_at_sign_in_fails() {
    breaks(
        "@origin",
        "Sign-in from an untrusted Origin is refused",
        "answers HTTP 403",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if request.method == "POST"
                    && request.header("cookie").is_none()
                    && request.header("origin").is_some_and(|o| o != own)
                {
                    request.remove_header("origin");
                }
                None
            })
        },
    )
    .await;
}

/// The Referer is ignored when there is no Origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_referer_ignored_fails() {
    breaks(
        "@origin",
        "Sign-in with an untrusted Referer and no Origin is refused",
        "answers HTTP 403",
        &[],
        |_| {
            Flaw::request(|request| {
                if request.method == "POST" && request.header("origin").is_none() {
                    request.remove_header("referer");
                }
                None
            })
        },
    )
    .await;
}

/// Fetch Metadata (Sec-Fetch-*) is not looked at: a cross-site form navigation signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_metadata_ignored_fails() {
    breaks(
        "@origin",
        "A cross-site form navigation cannot sign in",
        "answers HTTP 403",
        &[],
        |_| {
            Flaw::request(|request| {
                for name in ["sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest"] {
                    request.remove_header(name);
                }
                None
            })
        },
    )
    .await;
}

/// callbackURL is not validated (the proxy drops it before Better Auth can check it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_callback_url_accepted_fails() {
    breaks(
        "@origin",
        "A callbackURL on another site is refused",
        "answers HTTP 403",
        &[],
        |_| {
            Flaw::request(|request| {
                if request.method == "POST"
                    && let Some(mut body) = request_json(request)
                    && let Some(map) = body.as_object_mut()
                    && map.remove("callbackURL").is_some()
                {
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// A cookie-carrying POST from an untrusted Origin is let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_origin_with_the_cookie_let_through_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from an untrusted Origin is refused",
        "answers HTTP 403",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if request.method == "POST"
                    && request.header("cookie").is_some()
                    && request
                        .header("origin")
                        .is_some_and(|o| o != own && o != "null")
                {
                    request.set_header("origin", &own);
                }
                None
            })
        },
    )
    .await;
}

/// A cookie-carrying POST without an Origin is let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_origin_with_the_cookie_let_through_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie and no Origin is refused",
        "answers HTTP 403",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if request.method == "POST"
                    && request.header("cookie").is_some()
                    && request.header("origin").is_none()
                {
                    request.set_header("origin", &own);
                }
                None
            })
        },
    )
    .await;
}

/// A cookie-carrying POST with Origin "null" (sandboxed frame, file://) is let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_origin_with_the_cookie_let_through_fails() {
    breaks(
        "@origin",
        r#"A POST with the session cookie and Origin "null" is refused"#,
        "answers HTTP 403",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if request.method == "POST"
                    && request.header("cookie").is_some()
                    && request.header("origin") == Some("null")
                {
                    request.set_header("origin", &own);
                }
                None
            })
        },
    )
    .await;
}

/// The server does not trust its own public origin for sign-out (its trusted origins name an
/// internal address; the proxy rewrites the Origin to one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_own_origin_refused_at_sign_out_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from the target's own origin passes",
        "answers HTTP 200",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if is(request, "POST", "/sign-out")
                    && request.header("origin") == Some(own.as_str())
                {
                    request.set_header("origin", "http://localhost:3000");
                }
                None
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @rate-limit

/// 429 answers lose their retry header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_a_retry_header_fails() {
    breaks(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "says when to retry",
        &[],
        |_| {
            Flaw::response(|_, response| {
                if response.status == 429 {
                    response.remove_header("x-retry-after");
                    response.remove_header("retry-after");
                }
            })
        },
    )
    .await;
}

/// The limiter is off by one: the last request within the limit already gets 429.
/// (The same scenario as above, its first rule.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limiter_that_refuses_within_the_limit_fails() {
    breaks(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "requests within the rate limit are not refused with 429",
        &[],
        |_| {
            let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
            Flaw::request(move |request| {
                if !is(request, "POST", "/sign-in/email") {
                    return None;
                }
                let ip = request
                    .header("x-forwarded-for")
                    .unwrap_or_default()
                    .to_string();
                let mut counts = counts.lock().unwrap();
                let n = counts.entry(ip).or_default();
                *n += 1;
                // Better Auth's default is 3 per 10 s: this limiter allows only 2.
                (*n == 3).then(|| {
                    let mut answer = json_answer(
                        429,
                        &json!({"message": "Too many requests. Please try again later."}),
                    );
                    answer.set_header("x-retry-after", "10");
                    answer
                })
            })
        },
    )
    .await;
}

/// One bucket per client for every path: a client limited at sign-in is limited at
/// get-session too. (The same scenario, its last rule.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_limit_that_limits_get_session_fails() {
    breaks(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "the sign-in rate limit does not limit other paths",
        &[],
        |_| {
            let limited: Arc<Mutex<Vec<String>>> = Arc::default();
            let record = Arc::clone(&limited);
            flaw(
                move |request| {
                    let ip = request.header("x-forwarded-for").unwrap_or_default();
                    (is(request, "GET", "/get-session")
                        && limited.lock().unwrap().iter().any(|l| l == ip))
                    .then(|| {
                        let mut answer = json_answer(
                            429,
                            &json!({"message": "Too many requests. Please try again later."}),
                        );
                        answer.set_header("x-retry-after", "10");
                        answer
                    })
                },
                move |request, response| {
                    if is(request, "POST", "/sign-in/email")
                        && response.status == 429
                        && let Some(ip) = request.header("x-forwarded-for")
                    {
                        record.lock().unwrap().push(ip.to_string());
                    }
                },
            )
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @sessions

/// list-sessions lists only one session of the user's two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_list_missing_a_session_fails() {
    breaks(
        "@sessions",
        "list-sessions shows every session of the user and no one else's",
        "list-sessions returns every active session of the user",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "GET", "/list-sessions")
                    && let Some(Value::Array(mut sessions)) = response.json()
                {
                    sessions.truncate(1);
                    response.set_json(&Value::Array(sessions));
                }
            })
        },
    )
    .await;
}

/// revoke-session says it worked and revokes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_session_that_revokes_nothing_fails() {
    breaks(
        "@sessions",
        "revoke-session ends that session and leaves the others",
        "revoke-session ends the revoked session on the server",
        &[],
        |_| {
            Flaw::request(|request| {
                is(request, "POST", "/revoke-session")
                    .then(|| json_answer(200, &json!({"status": true})))
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Sessions ended behind the client's back. "the user's session is still valid" must ask the
// server with the session cookie alone: the cookie cache would vouch for a deleted session.

/// The Origin check answers 403 INVALID_ORIGIN, but only after the sign-out already ran: the
/// session is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_refusal_that_signs_out_anyway_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from an untrusted Origin is refused",
        "the user's session stays valid on the server",
        &[],
        |proxy| {
            let own = proxy.to_string();
            flaw(
                move |request| {
                    if is(request, "POST", "/sign-out")
                        && request.header("cookie").is_some()
                        && request
                            .header("origin")
                            .is_some_and(|o| o != own && o != "null")
                    {
                        request.set_header("origin", &own);
                        request.set_header("x-ba-harness-refuse-after", "1");
                    }
                    None
                },
                |request, response| {
                    if request.header("x-ba-harness-refuse-after").is_some() {
                        response.status = 403;
                        response.remove_header("set-cookie");
                        response.set_json(
                            &json!({"code": "INVALID_ORIGIN", "message": "Invalid origin"}),
                        );
                    }
                },
            )
        },
    )
    .await;
}

/// revoke-session deletes every session of the user (as revoke-sessions does) but leaves the
/// caller's cookies alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_session_that_revokes_every_session_fails() {
    breaks(
        "@sessions",
        "revoke-session ends that session and leaves the others",
        "the user's session stays valid on the server",
        &[],
        |_| {
            flaw(
                |request| {
                    if is(request, "POST", "/revoke-session") {
                        request.path = request.path.replace("/revoke-session", "/revoke-sessions");
                        request.body = b"{}".to_vec();
                    }
                    None
                },
                |request, response| {
                    if is(request, "POST", "/revoke-sessions") {
                        response.remove_header("set-cookie");
                    }
                },
            )
        },
    )
    .await;
}

/// revoke-other-sessions says it worked and revokes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_other_sessions_that_revokes_nothing_fails() {
    breaks(
        "@sessions",
        "revoke-other-sessions ends every other session and keeps the current one",
        "revoke-session ends the revoked session on the server",
        &[],
        |_| {
            Flaw::request(|request| {
                is(request, "POST", "/revoke-other-sessions")
                    .then(|| json_answer(200, &json!({"status": true})))
            })
        },
    )
    .await;
}

/// revoke-other-sessions ends the caller's session too (it runs revoke-sessions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_other_sessions_that_ends_the_current_one_fails() {
    breaks(
        "@sessions",
        "revoke-other-sessions ends every other session and keeps the current one",
        "the user's session stays valid on the server",
        &[],
        |_| {
            flaw(
                |request| {
                    if is(request, "POST", "/revoke-other-sessions") {
                        request.path = request
                            .path
                            .replace("/revoke-other-sessions", "/revoke-sessions");
                    }
                    None
                },
                |request, response| {
                    if is(request, "POST", "/revoke-sessions") {
                        response.remove_header("set-cookie");
                    }
                },
            )
        },
    )
    .await;
}

/// revoke-sessions spares the caller's session (it runs revoke-other-sessions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_sessions_that_spares_the_current_one_fails() {
    breaks(
        "@sessions",
        "revoke-sessions ends every session of the user, the current one too",
        "revoke-sessions ends every session of the user on the server, the caller's too",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/revoke-sessions") {
                    request.path = request
                        .path
                        .replace("/revoke-sessions", "/revoke-other-sessions");
                }
                None
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Shared state for the flaws below: what the proxy learnt from sign-ups and sign-ins.

/// One session the proxy saw start: its token, its signed cookie value and the user's id.
#[derive(Clone, Debug)]
struct SeenSession {
    token: String,
    cookie: String,
    user_id: String,
}

type Seen = Arc<Mutex<Vec<SeenSession>>>;

/// Records every session a sign-up or sign-in answer starts.
fn learn_session(seen: &Seen, request: &ProxyRequest, response: &ProxyResponse) {
    let starts = is(request, "POST", "/sign-up/email") || is(request, "POST", "/sign-in/email");
    if !starts || response.status != 200 {
        return;
    }
    let Some(body) = response.json() else { return };
    let cookie = response
        .headers_named("set-cookie")
        .iter()
        .filter_map(|l| SetCookie::parse(l).ok())
        .find(|c| c.name == SESSION_TOKEN && !c.value.is_empty())
        .map(|c| c.value);
    if let (Some(token), Some(cookie), Some(user_id)) =
        (body["token"].as_str(), cookie, body["user"]["id"].as_str())
    {
        seen.lock().unwrap().push(SeenSession {
            token: token.to_string(),
            cookie,
            user_id: user_id.to_string(),
        });
    }
}

/// The session the request's cookie belongs to, if the proxy saw it start.
fn caller(seen: &Seen, request: &ProxyRequest) -> Option<SeenSession> {
    let token = token_part(&request_cookie(request, SESSION_TOKEN)?);
    seen.lock()
        .unwrap()
        .iter()
        .find(|s| token_part(&s.cookie) == token)
        .cloned()
}

/// The most recent session of a user other than the caller's.
fn someone_else(seen: &Seen, caller: &SeenSession) -> Option<SeenSession> {
    seen.lock()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s.user_id != caller.user_id)
        .cloned()
}

fn act_as(request: &mut ProxyRequest, session: &SeenSession) {
    request.set_header("cookie", &format!("{SESSION_TOKEN}={}", session.cookie));
}

// ---------------------------------------------------------------------------------------------
// @isolation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_isolation_scenario() {
    assert_all_pass(&[], "@isolation").await;
}

/// revoke-session revokes whatever token it is given, without checking its owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_session_that_ignores_the_owner_fails() {
    breaks(
        "@isolation",
        "A user cannot revoke another user's session by its token",
        "a user cannot end another user's session",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    if is(request, "POST", "/revoke-session")
                        && let Some(token) = request_json(request)
                            .and_then(|b| b["token"].as_str().map(str::to_string))
                        && let Some(owner) = seen
                            .lock()
                            .unwrap()
                            .iter()
                            .find(|s| s.token == token)
                            .cloned()
                    {
                        act_as(request, &owner);
                    }
                    None
                },
                move |request, response| learn_session(&learn, request, response),
            )
        },
    )
    .await;
}

/// list-sessions also lists the sessions of other users (without their tokens).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_list_with_other_users_sessions_fails() {
    breaks(
        "@isolation",
        "list-sessions never shows another user's session",
        "list-sessions shows only the caller's sessions",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            flaw(
                |_| None,
                move |request, response| {
                    learn_session(&seen, request, response);
                    if is(request, "GET", "/list-sessions")
                        && let Some(Value::Array(mut list)) = response.json()
                    {
                        for s in seen.lock().unwrap().iter() {
                            list.push(
                                json!({"id": format!("s-{}", s.user_id), "userId": s.user_id}),
                            );
                        }
                        response.set_json(&Value::Array(list));
                    }
                },
            )
        },
    )
    .await;
}

/// get-session answers with the most recently started session of another user (token hidden).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_session_that_answers_another_user_fails() {
    breaks(
        "@isolation",
        "get-session answers the caller while another user is signed in",
        "get-session returns the session of the user the cookie was issued to",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    if is(request, "GET", "/get-session")
                        && request_cookie(request, SESSION_DATA).is_none()
                        && let Some(me) = caller(&seen, request)
                        && let Some(other) = someone_else(&seen, &me)
                    {
                        act_as(request, &other);
                    }
                    None
                },
                move |request, response| {
                    learn_session(&learn, request, response);
                    if is(request, "GET", "/get-session")
                        && let Some(mut body) = response.json()
                        && body["session"].is_object()
                    {
                        body["session"]["token"] = json!("hidden");
                        response.set_json(&body);
                    }
                },
            )
        },
    )
    .await;
}

/// update-user applies the change to the most recently signed-up other user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_user_that_changes_another_account_fails() {
    // This scenario alone: the flaw acts for the latest other session the proxy saw, which must
    // be the scenario's second user, not a user of a scenario running alongside.
    breaks(
        "@isolation and @better-auth-user-c and not @better-auth-session-f",
        "update-user changes only the caller's account",
        "update-user changes only the caller's own account",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    if is(request, "POST", "/update-user")
                        && let Some(me) = caller(&seen, request)
                        && let Some(other) = someone_else(&seen, &me)
                    {
                        act_as(request, &other);
                    }
                    None
                },
                move |request, response| learn_session(&learn, request, response),
            )
        },
    )
    .await;
}

/// update-user acts for the session a `token` in its body names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_user_that_obeys_a_token_in_the_body_fails() {
    breaks(
        "@isolation",
        "Another user's session token in a request body does not act for that user",
        "update-user changes only the caller's own account",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    if is(request, "POST", "/update-user")
                        && let Some(mut body) = request_json(request)
                        && let Some(token) = body["token"].as_str().map(str::to_string)
                        && let Some(named) = seen
                            .lock()
                            .unwrap()
                            .iter()
                            .find(|s| s.token == token)
                            .cloned()
                    {
                        act_as(request, &named);
                        if let Some(map) = body.as_object_mut() {
                            map.remove("token");
                            map.remove("sessionToken");
                        }
                        set_request_json(request, &body);
                    }
                    None
                },
                move |request, response| learn_session(&learn, request, response),
            )
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @account-lifetimes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_account_lifetimes_scenario() {
    assert_all_pass(&[], "@account-lifetimes").await;
}

/// change-password ignores revokeOtherSessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_that_keeps_other_sessions_fails() {
    breaks(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "change-password with revokeOtherSessions ends every other session",
        &[],
        |_| {
            Flaw::request(|request| {
                if is(request, "POST", "/change-password")
                    && let Some(mut body) = request_json(request)
                {
                    body["revokeOtherSessions"] = json!(false);
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// change-password revokes every session, the caller's too, and sets no new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_that_signs_the_caller_out_fails() {
    breaks(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "keeps the caller signed in",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/change-password") {
                    response.remove_header("set-cookie");
                }
            })
        },
    )
    .await;
}

/// delete-user says it deleted the user, clears the cookies, and ends nothing on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_user_that_leaves_the_sessions_fails() {
    breaks(
        "@account-lifetimes",
        "delete-user ends every session of the user and clears its cookies",
        "delete-user ends every session of the user",
        &[],
        |_| {
            Flaw::request(|request| {
                if !is(request, "POST", "/delete-user") {
                    return None;
                }
                let mut answer =
                    json_answer(200, &json!({"success": true, "message": "User deleted"}));
                for name in [SESSION_TOKEN, SESSION_DATA] {
                    answer.headers.push((
                        "set-cookie".into(),
                        format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"),
                    ));
                }
                Some(answer)
            })
        },
    )
    .await;
}

/// delete-user deletes but leaves the browser's cookies in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_user_that_keeps_the_cookies_fails() {
    breaks(
        "@account-lifetimes",
        "delete-user ends every session of the user and clears its cookies",
        "delete-user clears the session's cookies",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/delete-user") {
                    response.remove_header("set-cookie");
                }
            })
        },
    )
    .await;
}

/// A separate bearer-token session store that sign-out and revocation forget: get-session with a
/// bearer token the server no longer knows answers the session as it was when it started.
fn stale_bearer_store() -> Flaw {
    let store: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    Flaw::response(move |request, response| {
        let starts = is(request, "POST", "/sign-up/email") || is(request, "POST", "/sign-in/email");
        if starts && response.status == 200 {
            let cookies: Vec<SetCookie> = response
                .headers_named("set-cookie")
                .iter()
                .filter_map(|l| SetCookie::parse(l).ok())
                .collect();
            let cache = cookies.iter().find(|c| c.name == SESSION_DATA);
            if let (Some(token), Some(cache)) = (response.header("set-auth-token"), cache)
                && let Some(session) = session_from_cache(&cache.value)
            {
                store.lock().unwrap().insert(token_part(token), session);
            }
        }
        let bearer = request
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(token_part);
        if is(request, "GET", "/get-session")
            && response.json() == Some(Value::Null)
            && let Some(bearer) = bearer
            && let Some(kept) = store.lock().unwrap().get(&bearer)
        {
            response.set_json(kept);
        }
    })
}

/// A bearer token keeps working after its session signed out with the cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_that_outlives_sign_out_fails() {
    breaks(
        "@account-lifetimes",
        "Sign-out with the cookie also ends the session for its bearer token",
        "answers JSON null when there is no valid session",
        &[],
        |_| stale_bearer_store(),
    )
    .await;
}

/// A bearer token keeps working after revoke-session ended its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_that_outlives_revocation_fails() {
    breaks(
        "@account-lifetimes",
        "A revoked session's bearer token is no session",
        "a revoked session is no session through the bearer plugin",
        &[],
        |_| stale_bearer_store(),
    )
    .await;
}

/// request-password-reset tells an unknown email apart (404 USER_NOT_FOUND).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_that_reveals_unknown_emails_fails() {
    breaks(
        "@account-lifetimes",
        "request-password-reset answers a registered and an unknown email alike",
        "no account enumeration",
        &[],
        |_| {
            let emails: Arc<Mutex<Vec<String>>> = Arc::default();
            let learn = Arc::clone(&emails);
            flaw(
                move |request| {
                    let email = request_json(request)
                        .and_then(|b| b["email"].as_str().map(str::to_lowercase))?;
                    (is(request, "POST", "/request-password-reset")
                        && !emails.lock().unwrap().contains(&email))
                    .then(|| {
                        json_answer(
                            404,
                            &json!({"code": "USER_NOT_FOUND", "message": "User not found"}),
                        )
                    })
                },
                move |request, response| {
                    if is(request, "POST", "/sign-up/email")
                        && let Some(email) = response
                            .json()
                            .and_then(|b| b["user"]["email"].as_str().map(str::to_lowercase))
                    {
                        learn.lock().unwrap().push(email);
                    }
                },
            )
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @origin: origins and redirect targets that only look like the target's

/// An origin check that compares loosely: `accepts(origin, own)` says whether this flawed check
/// takes `origin` for the server's own `own`. The proxy then sends the true own origin upstream.
fn loose_origin_check(own: &str, accepts: fn(&str, &str) -> bool) -> Flaw {
    let own = own.to_string();
    Flaw::request(move |request| {
        if let Some(origin) = request.header("origin").map(str::to_string)
            && origin != own
            && accepts(&origin, &own)
        {
            request.set_header("origin", &own);
        }
        None
    })
}

fn host_port(origin: &str) -> (String, String) {
    let rest = origin.split_once("://").map(|(_, r)| r).unwrap_or(origin);
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
    (host.to_string(), port.to_string())
}

/// `origin.startsWith(trusted)`.
fn prefix_match(origin: &str, own: &str) -> bool {
    origin.starts_with(own)
}

/// The host and port are compared, the scheme is not.
fn scheme_blind(origin: &str, own: &str) -> bool {
    host_port(origin) == host_port(own)
}

/// The scheme and host are compared, the port is not.
fn port_blind(origin: &str, own: &str) -> bool {
    let scheme = |o: &str| o.split("://").next().unwrap_or_default().to_string();
    scheme(origin) == scheme(own) && host_port(origin).0 == host_port(own).0
}

/// `host.endsWith(trustedHost)` and the same port.
fn suffix_match(origin: &str, own: &str) -> bool {
    let (host, port) = host_port(origin);
    let (own_host, own_port) = host_port(own);
    port == own_port && host.ends_with(&own_host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_prefix_check_at_sign_out_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |proxy| loose_origin_check(proxy, prefix_match),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_check_blind_to_the_scheme_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |proxy| loose_origin_check(proxy, scheme_blind),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_check_blind_to_the_port_fails() {
    breaks(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |proxy| loose_origin_check(proxy, port_blind),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_suffix_check_at_sign_in_fails() {
    breaks(
        "@origin",
        "Sign-in from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |proxy| loose_origin_check(proxy, suffix_match),
    )
    .await;
}

/// The Referer (when there is no Origin) is checked with `startsWith(trusted)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referer_prefix_check_fails() {
    breaks(
        "@origin",
        "Sign-in with a Referer that only looks like the target's and no Origin is refused",
        "that only looks like the target's",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if request.header("origin").is_none()
                    && request
                        .header("referer")
                        .is_some_and(|r| r.starts_with(&own))
                {
                    request.set_header("referer", &format!("{own}/login"));
                }
                None
            })
        },
    )
    .await;
}

/// callbackURL is checked with `startsWith(trusted)` and relative-looking values pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_url_prefix_check_fails() {
    breaks(
        "@origin",
        "A callbackURL that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |proxy| {
            let own = proxy.to_string();
            Flaw::request(move |request| {
                if is(request, "POST", "/sign-in/email")
                    && let Some(mut body) = request_json(request)
                    && let Some(callback) = body["callbackURL"].as_str().map(str::to_string)
                    && (callback.starts_with(&own) || callback.starts_with('/'))
                {
                    body["callbackURL"] = json!("/after");
                    set_request_json(request, &body);
                }
                None
            })
        },
    )
    .await;
}

/// CORS that reflects any Origin with credentials allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_reflecting_any_origin_with_credentials_fails() {
    breaks(
        "@origin",
        "No untrusted origin is granted credentialed CORS access",
        "an untrusted origin is never granted credentialed access",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if let Some(origin) = request.header("origin") {
                    response.set_header("access-control-allow-origin", origin);
                    response.set_header("access-control-allow-credentials", "true");
                }
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// @session-cookie additions

/// The cookie cache cookie is readable by page scripts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_cookie_without_http_only_fails() {
    breaks(
        "@session-cookie",
        "Every cookie the session starts with is HttpOnly",
        "every cookie the auth server sets is HttpOnly",
        &[],
        |_| {
            Flaw::response(|_, response| {
                let prefix = format!("{SESSION_DATA}=");
                response.map_set_cookies(|line| {
                    Some(if line.starts_with(&prefix) {
                        line.replace("; HttpOnly", "")
                    } else {
                        line.to_string()
                    })
                });
            })
        },
    )
    .await;
}

/// The session cookie carries a Domain attribute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_with_a_domain_fails() {
    breaks(
        "@session-cookie",
        "The session cookie is host-only",
        "the session cookie is host-only",
        &[],
        |_| {
            Flaw::response(|_, response| {
                let prefix = format!("{SESSION_TOKEN}=");
                response.map_set_cookies(|line| {
                    Some(
                        if line.starts_with(&prefix) && !line.starts_with(&format!("{prefix};")) {
                            format!("{line}; Domain=127.0.0.1")
                        } else {
                            line.to_string()
                        },
                    )
                });
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Passive checks (protocol::passive): each flaw breaks one rule on some exchange; the scenario
// that made the exchange fails on the passive rule's id.

/// Sign-in echoes the password it was sent in the user object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_echoed_in_a_response_fails() {
    breaks(
        "@email-password",
        "Sign-in with the right password starts a session for that user",
        "[better-auth-passive-a]",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/sign-in/email")
                    && let Some(password) = request_json(request)
                        .and_then(|b| b["password"].as_str().map(str::to_string))
                    && let Some(mut body) = response.json()
                    && body["user"].is_object()
                {
                    body["user"]["password"] = json!(password);
                    response.set_json(&body);
                }
            })
        },
    )
    .await;
}

/// get-session hands out the account's password hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_hash_in_a_response_fails() {
    breaks(
        "@email-password",
        "Sign-up creates the user and starts a session",
        "[better-auth-passive-b]",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "GET", "/get-session")
                    && let Some(mut body) = response.json()
                    && body["user"].is_object()
                {
                    body["user"]["password"] =
                        json!(format!("{}:{}", "3f".repeat(16), "a7".repeat(64)));
                    response.set_json(&body);
                }
            })
        },
    )
    .await;
}

/// get-session also names the most recent other user's session token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_token_in_a_response_fails() {
    // This scenario alone: the token named must be the scenario's own second user's.
    breaks(
        "@isolation and @better-auth-session-a",
        "get-session answers the caller while another user is signed in",
        "[better-auth-passive-c]",
        &[],
        |_| {
            let seen: Seen = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    // Remember who asks, so the answer can name someone else.
                    if is(request, "GET", "/get-session")
                        && let Some(me) = caller(&seen, request)
                        && let Some(other) = someone_else(&seen, &me)
                    {
                        request.set_header("x-other-token", &other.token);
                    }
                    None
                },
                move |request, response| {
                    learn_session(&learn, request, response);
                    if let Some(other) = request.header("x-other-token")
                        && let Some(mut body) = response.json()
                        && body.is_object()
                    {
                        body["recentSession"] = json!(other);
                        response.set_json(&body);
                    }
                },
            )
        },
    )
    .await;
}

/// Sign-out sends the browser on to a URL carrying an access token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_a_redirect_url_fails() {
    breaks(
        "@email-password",
        "Sign-out answers success",
        "[rfc6750-5.3-a]",
        &[],
        |_| {
            Flaw::response(|request, response| {
                if is(request, "POST", "/sign-out") {
                    response.set_header(
                        "location",
                        "http://127.0.0.1:4000/signed-out?access_token=at-ba-harness-test-1234",
                    );
                }
            })
        },
    )
    .await;
}

/// 403 answers come back as text/plain. (The lookalike-origin scenario only checks the status
/// of its refusals, so the passive rule is what fails it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_answer_that_is_not_json_fails() {
    breaks(
        "@origin",
        "Sign-in from an origin that only looks like the target's is refused",
        "[better-auth-passive-d]",
        &[],
        |_| {
            Flaw::response(|_, response| {
                if response.status == 403 {
                    response.set_header("content-type", "text/plain");
                    response.body = b"Forbidden".to_vec();
                }
            })
        },
    )
    .await;
}
