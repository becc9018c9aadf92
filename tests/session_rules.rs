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
async fn start(env: &[(&str, &str)], make: impl FnOnce(String) -> Flaw) -> BrokenReference {
    let broken = BrokenReference::start(Flaw::none(), env).await;
    let flaw = make(broken.proxy.url.clone());
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
    // The reference leaves emailAndPassword's password limits at Better Auth's defaults.
    args.extend(["--min-password-length", "8", "--max-password-length", "128"].map(String::from));
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
    make: impl FnOnce(String) -> Flaw,
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

/// The token of a request's `Authorization: Bearer` header.
fn bearer(request: &ProxyRequest) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
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

/// Picks the `method` requests to a path ending in `path`.
fn to(method: &'static str, path: &'static str) -> impl Fn(&ProxyRequest) -> bool + Send + Sync {
    move |request| is(request, method, path)
}

/// The server is not asked: `method path` is answered 200 with `body` by the proxy.
fn answers_itself(method: &'static str, path: &'static str, body: Value) -> Flaw {
    answers_itself_if(method, path, |_| true, body)
}

/// Like [`answers_itself`], for the requests `picks`.
fn answers_itself_if(
    method: &'static str,
    path: &'static str,
    picks: fn(&ProxyRequest) -> bool,
    body: Value,
) -> Flaw {
    Flaw::on_requests(to(method, path), move |request| {
        picks(request).then(|| json_answer(200, &body))
    })
}

/// A flaw on the answers with HTTP `status`, whatever the request.
fn on_status(status: u16, f: fn(&mut ProxyResponse)) -> Flaw {
    Flaw::response(move |_, response| {
        if response.status == status {
            f(response);
        }
    })
}

/// A flaw that remembers what `learn` picks out of answers and lets `answer` (given all it
/// remembered) answer requests itself.
fn remembering(
    learn: fn(&ProxyRequest, &ProxyResponse) -> Option<String>,
    answer: fn(&[String], &ProxyRequest) -> Option<ProxyResponse>,
) -> Flaw {
    let learnt: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&learnt);
    flaw(
        move |request| answer(&learnt.lock().unwrap(), request),
        move |request, response| {
            if let Some(item) = learn(request, response) {
                record.lock().unwrap().push(item);
            }
        },
    )
}

/// The answers to `method path` lose their `header`.
fn drops_answer_header(method: &'static str, path: &'static str, header: &'static str) -> Flaw {
    Flaw::on_answers(to(method, path), move |_, response| {
        response.remove_header(header)
    })
}

/// The JSON bodies of requests to `method path` are rewritten by `edit`, which says whether it
/// changed the body.
fn edit_request_json(
    method: &'static str,
    path: &'static str,
    edit: impl Fn(&mut Value) -> bool + Send + Sync + 'static,
) -> Flaw {
    Flaw::on_requests(to(method, path), move |request| {
        if let Some(mut body) = request_json(request)
            && edit(&mut body)
        {
            set_request_json(request, &body);
        }
        None
    })
}

/// Rewrites a JSON answer with `edit`, which says whether it changed the body.
fn edit_answer(response: &mut ProxyResponse, edit: impl FnOnce(&mut Value) -> bool) {
    if let Some(mut body) = response.json()
        && edit(&mut body)
    {
        response.set_json(&body);
    }
}

/// The JSON answers to `method path` are rewritten by `edit(request, body)`, which says whether
/// it changed the body.
fn edit_answer_json(
    method: &'static str,
    path: &'static str,
    edit: impl Fn(&ProxyRequest, &mut Value) -> bool + Send + Sync + 'static,
) -> Flaw {
    Flaw::on_answers(to(method, path), move |request, response| {
        edit_answer(response, |body| edit(request, body))
    })
}

/// Sign-up sees the password `fit` makes of the one sent (when it returns one).
fn sign_up_password(fit: fn(&str) -> Option<String>) -> Flaw {
    edit_request_json("POST", "/sign-up/email", move |body| {
        let Some(fitted) = body["password"].as_str().and_then(fit) else {
            return false;
        };
        body["password"] = json!(fitted);
        true
    })
}

/// Rewrites the Set-Cookie lines of the cookie `name` with `f` (None drops the line).
fn edit_set_cookies(response: &mut ProxyResponse, name: &str, f: impl Fn(&str) -> Option<String>) {
    let prefix = format!("{name}=");
    response.map_set_cookies(|line| {
        if line.starts_with(&prefix) {
            f(line)
        } else {
            Some(line.to_string())
        }
    });
}

/// Every answer's Set-Cookie lines of the cookie `name` are rewritten with `f`.
fn on_set_cookies(name: &'static str, f: fn(&str) -> Option<String>) -> Flaw {
    Flaw::response(move |_, response| edit_set_cookies(response, name, f))
}

/// The cookies an answer sets.
fn set_cookies(response: &ProxyResponse) -> Vec<SetCookie> {
    response
        .headers_named("set-cookie")
        .iter()
        .filter_map(|l| SetCookie::parse(l).ok())
        .collect()
}

/// Whether the request is a sign-up or sign-in (each starts a session).
fn starts_session(request: &ProxyRequest) -> bool {
    is(request, "POST", "/sign-up/email") || is(request, "POST", "/sign-in/email")
}

/// get-session answered from the cookie cache alone (its signature unchecked), for requests
/// that do (`with_token`) or do not carry the session token.
fn get_session_from_the_cache(with_token: bool) -> Flaw {
    Flaw::on_requests(to("GET", "/get-session"), move |request| {
        if request_cookie(request, SESSION_TOKEN).is_some() != with_token {
            return None;
        }
        let cache = request_cookie(request, SESSION_DATA)?;
        session_from_cache(&cache).map(|session| json_answer(200, &session))
    })
}

/// A server-side copy of each session as it started (read from its cookie cache), like a
/// secondary store that sign-out and revocation forget: kept under the key `key_at_start` reads
/// from the answer that started it (and its cookies); get-session answered null for a request
/// whose `key_in_request` names a kept copy answers that copy.
fn stale_session_store(
    key_at_start: fn(&ProxyResponse, &[SetCookie]) -> Option<String>,
    key_in_request: fn(&ProxyRequest) -> Option<String>,
) -> Flaw {
    let store: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    Flaw::response(move |request, response| {
        if starts_session(request) && response.status == 200 {
            let cookies = set_cookies(response);
            let cache = cookies.iter().find(|c| c.name == SESSION_DATA);
            if let (Some(key), Some(cache)) = (key_at_start(response, &cookies), cache)
                && let Some(session) = session_from_cache(&cache.value)
            {
                store.lock().unwrap().insert(key, session);
            }
        }
        if is(request, "GET", "/get-session")
            && response.json() == Some(Value::Null)
            && let Some(key) = key_in_request(request)
            && let Some(kept) = store.lock().unwrap().get(&key)
        {
            response.set_json(kept);
        }
    })
}

/// Whether an Origin is neither the server's own nor "null".
fn foreign(origin: Option<&str>, own: &str) -> bool {
    origin.is_some_and(|o| o != own && o != "null")
}

/// Cookie-carrying POSTs whose Origin `picks(origin, own)` are let through: the proxy sends the
/// server's own origin `own` instead.
fn cookie_posts_pass_from(own: String, picks: fn(Option<&str>, &str) -> bool) -> Flaw {
    Flaw::on_requests(to("POST", ""), move |request| {
        if request.header("cookie").is_some() && picks(request.header("origin"), &own) {
            request.set_header("origin", &own);
        }
        None
    })
}

/// A 429 answer that says when to retry.
fn too_many_requests() -> ProxyResponse {
    let mut answer = json_answer(
        429,
        &json!({"message": "Too many requests. Please try again later."}),
    );
    answer.set_header("x-retry-after", "10");
    answer
}

/// `POST path` runs revoke-sessions instead (every session of the user ends, the caller's too),
/// and its answer leaves the caller's cookies alone.
fn revokes_every_session_instead_of(path: &'static str) -> Flaw {
    flaw(
        move |request| {
            if is(request, "POST", path) {
                request.path = request.path.replace(path, "/revoke-sessions");
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
}

// ---------------------------------------------------------------------------------------------
// The unbent reference passes every feature of this file.

mutating_proxy::proxy_tests! {
    assert_all_pass:
    the_reference_passes_every_bearer_scenario(&[], "@bearer");
    the_reference_passes_every_cookie_cache_scenario(SHORT_CACHE, "@cookie-cache");
    the_reference_passes_every_errors_scenario(&[], "@errors");
    the_reference_passes_every_origin_scenario(&[], "@origin");
    the_reference_passes_the_rate_limit_scenario(&[], "@rate-limit");
    the_reference_passes_every_sessions_scenario(&[], "@sessions");
}

// ---------------------------------------------------------------------------------------------
// @bearer

mutating_proxy::proxy_tests! {
    breaks:
    /// set-auth-token carries the bare token, without its signature.
    an_unsigned_set_auth_token_fails(
        "@bearer",
        "Sign-in returns the signed session token in set-auth-token",
        "sign-in returns the signed session token in the set-auth-token header",
        &[],
        |_| {
            Flaw::on_answers(to("POST", "/sign-in/email"), |_, response| {
                if let Some(token) = response.header("set-auth-token").map(token_part) {
                    response.set_header("set-auth-token", &token);
                }
            })
        },
    );
    /// CORS does not expose set-auth-token, so browser scripts cannot read it.
    a_set_auth_token_hidden_from_scripts_fails(
        "@bearer",
        "set-auth-token is readable by browser scripts",
        "set-auth-token is listed in Access-Control-Expose-Headers",
        &[],
        |_| Flaw::response(|_, response| response.remove_header("access-control-expose-headers")),
    );
    /// get-session ignores the Authorization header (only cookies count).
    a_get_session_ignoring_the_bearer_fails(
        "@bearer",
        "A bearer token authenticates get-session",
        "get-session returns the session of the user",
        &[],
        |_| {
            Flaw::on_requests(to("GET", "/get-session"), |request| {
                request.remove_header("authorization");
                None
            })
        },
    );
    /// The bearer's signature is never checked: only its token part counts. (The proxy, not
    /// knowing the secret, restores the good signature it saw for that token at sign-in.)
    a_bearer_with_an_unchecked_signature_fails(
        "@bearer",
        "A bearer token with an altered signature gets no session",
        "answers JSON null when there is no valid session",
        &[],
        |_| {
            let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
            let learn = Arc::clone(&seen);
            flaw(
                move |request| {
                    let bearer = bearer(request).map(str::to_string);
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
    );
    /// A sign-out with only a bearer token says it succeeded but ends nothing.
    a_bearer_sign_out_that_revokes_nothing_fails(
        "@bearer",
        "A bearer-only sign-out needs no Origin and revokes the session",
        "answers JSON null when there is no valid session",
        &[],
        |_| {
            answers_itself_if(
                "POST",
                "/sign-out",
                |request| {
                    request.header("authorization").is_some() && request.header("cookie").is_none()
                },
                json!({"success": true}),
            )
        },
    );
}

// ---------------------------------------------------------------------------------------------
// @cookie-cache

mutating_proxy::proxy_tests! {
    breaks:
    /// Sign-in drops the session_data cookie (a multi-cookie answer that loses one line).
    a_sign_in_without_the_cache_cookie_fails(
        "@cookie-cache",
        "Sign-in issues the cookie cache cookie",
        "with the cookie cache on, sign-in sets `better-auth.session_data`",
        SHORT_CACHE,
        |_| {
            Flaw::on_answers(to("POST", "/sign-in/email"), |_, response| {
                edit_set_cookies(response, SESSION_DATA, |_| None)
            })
        },
    );
    /// get-session trusts session_data alone, without a session token.
    a_cache_trusted_alone_fails(
        "@cookie-cache",
        "The cookie cache alone is no session",
        "answers JSON null when there is no valid session",
        SHORT_CACHE,
        |_| get_session_from_the_cache(false),
    );
    /// get-session believes the cache's content without checking its signature.
    a_cache_whose_signature_is_not_checked_fails(
        "@cookie-cache",
        "A cookie cache altered to name someone else is not believed",
        "a cookie cache whose content was altered is not trusted",
        SHORT_CACHE,
        |_| get_session_from_the_cache(true),
    );
    /// A server-side copy of each session (taken when it starts, like a secondary store) that
    /// sign-out forgets to delete: get-session with the session token alone falls back to it.
    a_stale_server_side_copy_after_sign_out_fails(
        "@cookie-cache",
        "After sign-out the session token alone gets no session, even with the cache on",
        "answers JSON null when there is no valid session",
        SHORT_CACHE,
        |_| {
            stale_session_store(
                |_, cookies| {
                    let token = cookies.iter().find(|c| c.name == SESSION_TOKEN)?;
                    Some(token_part(&token.value))
                },
                |request| {
                    if request_cookie(request, SESSION_DATA).is_some() {
                        return None;
                    }
                    request_cookie(request, SESSION_TOKEN).map(|t| token_part(&t))
                },
            )
        },
    );
    /// get-session never uses the cookie cache (always asks the database), while still issuing it.
    a_cache_that_is_never_used_fails(
        "@cookie-cache",
        "The cookie cache is honoured until it expires, even after sign-out",
        "get-session returns the session of the user",
        SHORT_CACHE,
        |_| {
            Flaw::on_requests(to("GET", "/get-session"), |request| {
                let sep = if request.path.contains('?') { '&' } else { '?' };
                request.path = format!("{}{sep}disableCookieCache=true", request.path);
                None
            })
        },
    );
    /// The kept session token and cache keep working forever: the last session answer given for a
    /// token with its cache is replayed once the server says null.
    a_revocation_delay_that_never_ends_fails(
        "@cookie-cache",
        "The revocation delay of the cookie cache ends after its maxAge",
        "after sign-out the cookie cache keeps a session alive for at most its maxAge",
        SHORT_CACHE,
        |_| {
            let last: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
            Flaw::on_answers(to("GET", "/get-session"), move |request, response| {
                if request_cookie(request, SESSION_DATA).is_none() {
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
    );
}

// ---------------------------------------------------------------------------------------------
// @errors

/// A deployment with its own maxPasswordLength (here: a proxy that cuts long passwords to 128
/// characters, so the server accepts a 129-character one), run without --max-password-length:
/// the harness cannot tell that from a missing limit, so the scenario is skipped naming the flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_long_password_without_a_declared_limit_is_skipped_naming_the_flag() {
    let broken = start(&[], |_| {
        sign_up_password(|password| (password.len() > 128).then(|| password[..128].to_string()))
    })
    .await;
    let mut args = broken.target_args();
    args.extend(["--tags", "@errors"].map(String::from));
    let run = run_conform(args).await;
    broken.server.stop().await;
    let scenario = "A password longer than the maximum is refused at sign-up";
    let seen = run.scenario(scenario).unwrap();
    assert_eq!(seen["status"], "skipped", "{seen}\n{}", run.output);
    assert!(seen.to_string().contains("--max-password-length"), "{seen}");
    assert_eq!(run.code, Some(0), "{}", run.output);
}

mutating_proxy::proxy_tests! {
    breaks:
    /// The minimum password length is lower than documented (the proxy pads short passwords to 8
    /// characters, so a 5-character one is accepted).
    a_short_password_accepted_at_sign_up_fails(
        "@errors",
        "A password shorter than the minimum is refused at sign-up",
        "answers HTTP 400",
        &[],
        |_| sign_up_password(|password| (password.len() < 8).then(|| format!("{password:x<8}"))),
    );
    /// The maximum password length is higher than documented (the proxy cuts long passwords to 128
    /// characters, so a 129-character one is accepted).
    a_long_password_accepted_at_sign_up_fails(
        "@errors",
        "A password longer than the maximum is refused at sign-up",
        "answers HTTP 400",
        &[],
        |_| {
            sign_up_password(|password| (password.len() > 128).then(|| password[..128].to_string()))
        },
    );
    /// Sign-up does not validate the email's format (the proxy makes it valid before the server
    /// sees it).
    a_malformed_email_accepted_at_sign_up_fails(
        "@errors",
        "A malformed email at sign-up is refused",
        "answers HTTP 400",
        &[],
        |_| {
            edit_request_json("POST", "/sign-up/email", |body| {
                let malformed = body["email"] == "not-an-email";
                if malformed {
                    body["email"] = json!(format!(
                        "not-an-email-{}@ba-harness.test",
                        rand::random::<u32>()
                    ));
                }
                malformed
            })
        },
    );
    /// rememberMe false ignored on the server: the session lives the full 7 days (the proxy moves
    /// session.expiresAt in get-session answers for sessions that carry dont_remember).
    a_not_remembered_session_kept_for_a_week_fails(
        "@session-cookie",
        "With rememberMe false the server keeps the session for one day",
        "lasts one day",
        &[],
        |_| {
            edit_answer_json("GET", "/get-session", |request, body| {
                let remembered = request_cookie(request, "better-auth.dont_remember").is_none();
                if remembered || !body["session"]["expiresAt"].is_string() {
                    return false;
                }
                let week = time::OffsetDateTime::now_utc() + time::Duration::days(7);
                body["session"]["expiresAt"] =
                    json!(week.format(&time::format_description::well_known::Rfc3339).unwrap());
                true
            })
        },
    );
    /// Emails kept as typed: the sign-up answer carries the mixed-case address.
    emails_kept_in_mixed_case_fail(
        "@email-password",
        "Emails are case-insensitive",
        "lower case",
        &[],
        |_| {
            edit_answer_json("POST", "/sign-up/email", |request, body| {
                let Some(sent) = request_json(request) else {
                    return false;
                };
                let answered = body["user"]["email"].is_string();
                if answered {
                    body["user"]["email"] = sent["email"].clone();
                }
                answered
            })
        },
    );
    /// A sign-in without a password is treated as wrong credentials (401), not invalid input.
    a_missing_password_answered_as_wrong_credentials_fails(
        "@errors",
        "A sign-in without a password is refused as invalid input",
        "answers HTTP 400",
        &[],
        |_| {
            edit_request_json("POST", "/sign-in/email", |body| {
                let missing = body.get("password").is_none();
                if missing {
                    body["password"] = json!("not-the-password-of-anyone");
                }
                missing
            })
        },
    );
    /// The INVALID_EMAIL error is sent as text/plain.
    an_error_sent_as_text_plain_fails(
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
    );
    /// list-sessions without a session answers an empty list instead of 401.
    a_session_route_open_to_anonymous_clients_fails(
        "@errors",
        "A session-only route refuses a request without a session",
        "answers HTTP 401",
        &[],
        |_| {
            answers_itself_if(
                "GET",
                "/list-sessions",
                |request| {
                    request.header("cookie").is_none() && request.header("authorization").is_none()
                },
                json!([]),
            )
        },
    );
    /// get-session answers without Cache-Control: no-store (a shared cache could keep them).
    a_cacheable_session_answer_fails(
        "@errors",
        "Session answers are not cacheable",
        "session answers carry Cache-Control: no-store",
        &[],
        |_| drops_answer_header("GET", "/get-session", "cache-control"),
    );
}

// ---------------------------------------------------------------------------------------------
// @origin

mutating_proxy::proxy_tests! {
    breaks:
    /// The Origin is only checked when the request carries cookies (a cookie-less sign-in from any
    /// Origin passes).
    an_untrusted_origin_let_through_at_sign_in_fails(
        "@origin",
        "Sign-in from an untrusted Origin is refused",
        "answers HTTP 403",
        &[],
        |own| {
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
    );
    /// The Referer is ignored when there is no Origin.
    an_untrusted_referer_ignored_fails(
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
    );
    /// Fetch Metadata (Sec-Fetch-*) is not looked at: a cross-site form navigation signs in.
    fetch_metadata_ignored_fails(
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
    );
    /// callbackURL is not validated (the proxy drops it before Better Auth can check it).
    a_foreign_callback_url_accepted_fails(
        "@origin",
        "A callbackURL on another site is refused",
        "answers HTTP 403",
        &[],
        |_| {
            edit_request_json("POST", "", |body| {
                body.as_object_mut()
                    .is_some_and(|map| map.remove("callbackURL").is_some())
            })
        },
    );
    /// A cookie-carrying POST from an untrusted Origin is let through.
    an_untrusted_origin_with_the_cookie_let_through_fails(
        "@origin",
        "A POST with the session cookie from an untrusted Origin is refused",
        "answers HTTP 403",
        &[],
        |own| cookie_posts_pass_from(own, foreign),
    );
    /// A cookie-carrying POST without an Origin is let through.
    a_missing_origin_with_the_cookie_let_through_fails(
        "@origin",
        "A POST with the session cookie and no Origin is refused",
        "answers HTTP 403",
        &[],
        |own| cookie_posts_pass_from(own, |origin, _| origin.is_none()),
    );
    /// A cookie-carrying POST with Origin "null" (sandboxed frame, file://) is let through.
    a_null_origin_with_the_cookie_let_through_fails(
        "@origin",
        r#"A POST with the session cookie and Origin "null" is refused"#,
        "answers HTTP 403",
        &[],
        |own| cookie_posts_pass_from(own, |origin, _| origin == Some("null")),
    );
    /// The server does not trust its own public origin for sign-out (its trusted origins name an
    /// internal address; the proxy rewrites the Origin to one).
    the_own_origin_refused_at_sign_out_fails(
        "@origin",
        "A POST with the session cookie from the target's own origin passes",
        "answers HTTP 200",
        &[],
        |own| {
            Flaw::on_requests(to("POST", "/sign-out"), move |request| {
                if request.header("origin") == Some(own.as_str()) {
                    request.set_header("origin", "http://localhost:3000");
                }
                None
            })
        },
    );
}

// ---------------------------------------------------------------------------------------------
// @rate-limit

mutating_proxy::proxy_tests! {
    breaks:
    /// 429 answers lose their retry header.
    a_429_without_a_retry_header_fails(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "says when to retry",
        &[],
        |_| {
            on_status(429, |response| {
                response.remove_header("x-retry-after");
                response.remove_header("retry-after");
            })
        },
    );
    /// The limiter is off by one: the last request within the limit already gets 429.
    /// (The same scenario as above, its first rule.)
    a_limiter_that_refuses_within_the_limit_fails(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "requests within the rate limit are not refused with 429",
        &[],
        |_| {
            let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
            Flaw::on_requests(to("POST", "/sign-in/email"), move |request| {
                let ip = request
                    .header("x-forwarded-for")
                    .unwrap_or_default()
                    .to_string();
                let mut counts = counts.lock().unwrap();
                let n = counts.entry(ip).or_default();
                *n += 1;
                // Better Auth's default is 3 per 10 s: this limiter allows only 2.
                (*n == 3).then(too_many_requests)
            })
        },
    );
    /// One bucket per client for every path: a client limited at sign-in is limited at
    /// get-session too. (The same scenario, its last rule.)
    a_sign_in_limit_that_limits_get_session_fails(
        "@rate-limit",
        "A burst of sign-ins beyond the limit gets 429 with a retry header",
        "the sign-in rate limit does not limit other paths",
        &[],
        |_| {
            remembering(
                |request, response| {
                    let limited = is(request, "POST", "/sign-in/email") && response.status == 429;
                    let ip = request.header("x-forwarded-for").filter(|_| limited)?;
                    Some(ip.to_string())
                },
                |limited, request| {
                    let ip = request.header("x-forwarded-for").unwrap_or_default();
                    (is(request, "GET", "/get-session") && limited.iter().any(|l| l == ip))
                        .then(too_many_requests)
                },
            )
        },
    );
}

// ---------------------------------------------------------------------------------------------
// @sessions

mutating_proxy::proxy_tests! {
    breaks:
    /// list-sessions lists only one session of the user's two.
    a_session_list_missing_a_session_fails(
        "@sessions",
        "list-sessions shows every session of the user and no one else's",
        "list-sessions returns every active session of the user",
        &[],
        |_| {
            edit_answer_json("GET", "/list-sessions", |_, body| {
                let Value::Array(sessions) = body else {
                    return false;
                };
                sessions.truncate(1);
                true
            })
        },
    );
    /// revoke-session says it worked and revokes nothing.
    a_revoke_session_that_revokes_nothing_fails(
        "@sessions",
        "revoke-session ends that session and leaves the others",
        "revoke-session ends the revoked session on the server",
        &[],
        |_| answers_itself("POST", "/revoke-session", json!({"status": true})),
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions ended behind the client's back. "the user's session is still valid" must ask the
// server with the session cookie alone: the cookie cache would vouch for a deleted session.

mutating_proxy::proxy_tests! {
    breaks:
    /// The Origin check answers 403 INVALID_ORIGIN, but only after the sign-out already ran: the
    /// session is gone.
    an_origin_refusal_that_signs_out_anyway_fails(
        "@origin",
        "A POST with the session cookie from an untrusted Origin is refused",
        "the user's session stays valid on the server",
        &[],
        |own| {
            flaw(
                move |request| {
                    if is(request, "POST", "/sign-out")
                        && request.header("cookie").is_some()
                        && foreign(request.header("origin"), &own)
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
    );
    /// revoke-session deletes every session of the user (as revoke-sessions does) but leaves the
    /// caller's cookies alone.
    a_revoke_session_that_revokes_every_session_fails(
        "@sessions",
        "revoke-session ends that session and leaves the others",
        "the user's session stays valid on the server",
        &[],
        |_| revokes_every_session_instead_of("/revoke-session"),
    );
    /// revoke-other-sessions says it worked and revokes nothing.
    a_revoke_other_sessions_that_revokes_nothing_fails(
        "@sessions",
        "revoke-other-sessions ends every other session and keeps the current one",
        "revoke-session ends the revoked session on the server",
        &[],
        |_| answers_itself("POST", "/revoke-other-sessions", json!({"status": true})),
    );
    /// revoke-other-sessions ends the caller's session too (it runs revoke-sessions).
    a_revoke_other_sessions_that_ends_the_current_one_fails(
        "@sessions",
        "revoke-other-sessions ends every other session and keeps the current one",
        "the user's session stays valid on the server",
        &[],
        |_| revokes_every_session_instead_of("/revoke-other-sessions"),
    );
    /// revoke-sessions spares the caller's session (it runs revoke-other-sessions).
    a_revoke_sessions_that_spares_the_current_one_fails(
        "@sessions",
        "revoke-sessions ends every session of the user, the current one too",
        "revoke-sessions ends every session of the user on the server, the caller's too",
        &[],
        |_| {
            Flaw::on_requests(to("POST", "/revoke-sessions"), |request| {
                request.path = request
                    .path
                    .replace("/revoke-sessions", "/revoke-other-sessions");
                None
            })
        },
    );
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
    if !starts_session(request) || response.status != 200 {
        return;
    }
    let Some(body) = response.json() else { return };
    let cookie = set_cookies(response)
        .into_iter()
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

/// The session the proxy saw start with `token`.
fn with_token(seen: &Seen, token: &str) -> Option<SeenSession> {
    seen.lock()
        .unwrap()
        .iter()
        .find(|s| s.token == token)
        .cloned()
}

/// The most recent session of a user other than the one the request's cookie belongs to.
fn someone_else_than_the_caller(seen: &Seen, request: &ProxyRequest) -> Option<SeenSession> {
    someone_else(seen, &caller(seen, request)?)
}

/// For a request to `method path`: the session the `token` in its JSON body names.
fn named_by_body_token(
    seen: &Seen,
    request: &ProxyRequest,
    method: &str,
    path: &str,
) -> Option<SeenSession> {
    let body = request_json(request).filter(|_| is(request, method, path))?;
    with_token(seen, body["token"].as_str()?)
}

/// For a request to `method path`: the most recent session of someone other than the caller.
fn someone_else_at(
    seen: &Seen,
    request: &ProxyRequest,
    method: &str,
    path: &str,
) -> Option<SeenSession> {
    someone_else_than_the_caller(seen, request).filter(|_| is(request, method, path))
}

/// A flaw that learns every session a sign-up or sign-in starts and lets `on_request` act on
/// requests with what it learnt.
fn acting_with(on_request: impl Fn(&Seen, &mut ProxyRequest) + Send + Sync + 'static) -> Flaw {
    learning(on_request, |_, _, _| {})
}

/// Requests are sent as the session `pick` names (learnt from sign-ups and sign-ins).
fn acts_as(pick: fn(&Seen, &ProxyRequest) -> Option<SeenSession>) -> Flaw {
    acting_with(move |seen, request| {
        if let Some(session) = pick(seen, request) {
            act_as(request, &session);
        }
    })
}

/// A flaw that learns every session a sign-up or sign-in starts and gives what it learnt to
/// `on_request` (which lets every request go upstream) and `on_response`.
fn learning(
    on_request: impl Fn(&Seen, &mut ProxyRequest) + Send + Sync + 'static,
    on_response: impl Fn(&Seen, &ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static,
) -> Flaw {
    let seen: Seen = Arc::default();
    let learnt = Arc::clone(&seen);
    flaw(
        move |request| {
            on_request(&seen, request);
            None
        },
        move |request, response| {
            learn_session(&learnt, request, response);
            on_response(&learnt, request, response);
        },
    )
}

// ---------------------------------------------------------------------------------------------
// @isolation

mutating_proxy::proxy_tests! {
    assert_all_pass:
    the_reference_passes_every_isolation_scenario(&[], "@isolation");
}

mutating_proxy::proxy_tests! {
    breaks:
    /// revoke-session revokes whatever token it is given, without checking its owner.
    a_revoke_session_that_ignores_the_owner_fails(
        "@isolation",
        "A user cannot revoke another user's session by its token",
        "a user cannot end another user's session",
        &[],
        |_| acts_as(|seen, request| named_by_body_token(seen, request, "POST", "/revoke-session")),
    );
    /// list-sessions also lists the sessions of other users (without their tokens).
    a_session_list_with_other_users_sessions_fails(
        "@isolation",
        "list-sessions never shows another user's session",
        "list-sessions shows only the caller's sessions",
        &[],
        |_| {
            learning(
                |_, _| {},
                |seen, request, response| {
                    if is(request, "GET", "/list-sessions") {
                        edit_answer(response, |body| {
                            let Value::Array(list) = body else {
                                return false;
                            };
                            for s in seen.lock().unwrap().iter() {
                                list.push(
                                    json!({"id": format!("s-{}", s.user_id), "userId": s.user_id}),
                                );
                            }
                            true
                        });
                    }
                },
            )
        },
    );
    /// get-session answers with the most recently started session of another user (token hidden).
    a_get_session_that_answers_another_user_fails(
        "@isolation",
        "get-session answers the caller while another user is signed in",
        "get-session returns the session of the user the cookie was issued to",
        &[],
        |_| {
            learning(
                |seen, request| {
                    if is(request, "GET", "/get-session")
                        && request_cookie(request, SESSION_DATA).is_none()
                        && let Some(other) = someone_else_than_the_caller(seen, request)
                    {
                        act_as(request, &other);
                    }
                },
                |_, request, response| {
                    if is(request, "GET", "/get-session") {
                        edit_answer(response, |body| {
                            let session = body["session"].is_object();
                            if session {
                                body["session"]["token"] = json!("hidden");
                            }
                            session
                        });
                    }
                },
            )
        },
    );
    /// update-user applies the change to the most recently signed-up other user.
    an_update_user_that_changes_another_account_fails(
        // This scenario alone: the flaw acts for the latest other session the proxy saw, which must
        // be the scenario's second user, not a user of a scenario running alongside.
        "@isolation and @better-auth-user-c and not @better-auth-session-f",
        "update-user changes only the caller's account",
        "update-user changes only the caller's own account",
        &[],
        |_| acts_as(|seen, request| someone_else_at(seen, request, "POST", "/update-user")),
    );
    /// update-user acts for the session a `token` in its body names.
    an_update_user_that_obeys_a_token_in_the_body_fails(
        "@isolation",
        "Another user's session token in a request body does not act for that user",
        "update-user changes only the caller's own account",
        &[],
        |_| {
            acting_with(|seen, request| {
                if let Some(named) = named_by_body_token(seen, request, "POST", "/update-user")
                    && let Some(mut body) = request_json(request)
                {
                    act_as(request, &named);
                    if let Some(map) = body.as_object_mut() {
                        map.remove("token");
                        map.remove("sessionToken");
                    }
                    set_request_json(request, &body);
                }
            })
        },
    );
}

// ---------------------------------------------------------------------------------------------
// @account-lifetimes

mutating_proxy::proxy_tests! {
    assert_all_pass:
    the_reference_passes_every_account_lifetimes_scenario(&[], "@account-lifetimes");
}

mutating_proxy::proxy_tests! {
    breaks:
    /// change-password ignores revokeOtherSessions.
    a_password_change_that_keeps_other_sessions_fails(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "change-password with revokeOtherSessions ends every other session",
        &[],
        |_| {
            edit_request_json("POST", "/change-password", |body| {
                body["revokeOtherSessions"] = json!(false);
                true
            })
        },
    );
    /// change-password revokes every session, the caller's too, and sets no new one.
    a_password_change_that_signs_the_caller_out_fails(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "keeps the caller signed in",
        &[],
        |_| drops_answer_header("POST", "/change-password", "set-cookie"),
    );
    /// delete-user says it deleted the user, clears the cookies, and ends nothing on the server.
    a_delete_user_that_leaves_the_sessions_fails(
        "@account-lifetimes",
        "delete-user ends every session of the user and clears its cookies",
        "delete-user ends every session of the user",
        &[],
        |_| {
            Flaw::on_requests(to("POST", "/delete-user"), |_| {
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
    );
    /// change-password changes it, and sign-in still takes the old password.
    a_password_change_that_keeps_the_old_password_working_fails(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "after change-password the old password no longer signs in",
        &[],
        |_| old_password_still_works(),
    );
    /// change-password answers success, and the new password does not sign in afterwards.
    a_password_change_whose_new_password_does_not_work_fails(
        "@account-lifetimes",
        "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
        "after change-password the new password signs in",
        &[],
        |_| new_password_refused(),
    );
    /// delete-user deletes, and a sign-in with the deleted account's credentials still succeeds.
    a_deleted_account_that_still_signs_in_fails(
        "@account-lifetimes",
        "delete-user ends every session of the user and clears its cookies",
        "after delete-user the account's credentials sign no one in",
        &[],
        |_| deleted_accounts_still_sign_in(),
    );
    /// delete-user deletes but leaves the browser's cookies in place.
    a_delete_user_that_keeps_the_cookies_fails(
        "@account-lifetimes",
        "delete-user ends every session of the user and clears its cookies",
        "delete-user clears the session's cookies",
        &[],
        |_| drops_answer_header("POST", "/delete-user", "set-cookie"),
    );
}

/// A server that keeps a changed password valid: each change-password's current → new pair is
/// remembered, and a later sign-in with the old one is passed on with the new one.
fn old_password_still_works() -> Flaw {
    let changed: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let remember = Arc::clone(&changed);
    Flaw::on_requests(
        |request| is(request, "POST", "/change-password") || is(request, "POST", "/sign-in/email"),
        move |request| {
            let mut body = request_json(request)?;
            if is(request, "POST", "/change-password") {
                let old = body["currentPassword"].as_str()?.to_string();
                let new = body["newPassword"].as_str()?.to_string();
                remember.lock().unwrap().insert(old, new);
                return None;
            }
            let old = body["password"].as_str()?.to_string();
            let new = changed.lock().unwrap().get(&old).cloned()?;
            body["password"] = json!(new);
            set_request_json(request, &body);
            None
        },
    )
}

/// A server whose change-password answers success but keeps the old password: a sign-in with
/// the new one is refused.
fn new_password_refused() -> Flaw {
    let new_passwords: Arc<Mutex<Vec<String>>> = Arc::default();
    let remember = Arc::clone(&new_passwords);
    Flaw::on_requests(
        |request| is(request, "POST", "/change-password") || is(request, "POST", "/sign-in/email"),
        move |request| {
            let body = request_json(request)?;
            if is(request, "POST", "/change-password") {
                let new = body["newPassword"].as_str()?.to_string();
                remember.lock().unwrap().push(new);
                return None;
            }
            let password = body["password"].as_str()?;
            new_passwords
                .lock()
                .unwrap()
                .iter()
                .any(|p| p == password)
                .then(|| json_answer(401, &json!({"code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password"})))
        },
    )
}

/// A server that still signs in a deleted account: once a delete-user succeeded, a refused
/// sign-in is answered 200 as if the account were there.
fn deleted_accounts_still_sign_in() -> Flaw {
    let deleted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    Flaw::on_answers(
        |request| is(request, "POST", "/delete-user") || is(request, "POST", "/sign-in/email"),
        move |request, response| {
            use std::sync::atomic::Ordering;
            if is(request, "POST", "/delete-user") {
                if response.status == 200 {
                    deleted.store(true, Ordering::SeqCst);
                }
            } else if deleted.load(Ordering::SeqCst) && response.status != 200 {
                *response = json_answer(
                    200,
                    &json!({"redirect": false, "token": "deleted-but-signed-in", "user": {"id": "gone"}}),
                );
            }
        },
    )
}

/// A separate bearer-token session store that sign-out and revocation forget: get-session with a
/// bearer token the server no longer knows answers the session as it was when it started.
fn stale_bearer_store() -> Flaw {
    stale_session_store(
        |response, _| response.header("set-auth-token").map(token_part),
        |request| bearer(request).map(token_part),
    )
}

mutating_proxy::proxy_tests! {
    breaks:
    /// A bearer token keeps working after its session signed out with the cookie.
    a_bearer_token_that_outlives_sign_out_fails(
        "@account-lifetimes",
        "Sign-out with the cookie also ends the session for its bearer token",
        "answers JSON null when there is no valid session",
        &[],
        |_| stale_bearer_store(),
    );
    /// A bearer token keeps working after revoke-session ended its session.
    a_bearer_token_that_outlives_revocation_fails(
        "@account-lifetimes",
        "A revoked session's bearer token is no session",
        "a revoked session is no session through the bearer plugin",
        &[],
        |_| stale_bearer_store(),
    );
    /// request-password-reset tells an unknown email apart (404 USER_NOT_FOUND).
    a_password_reset_that_reveals_unknown_emails_fails(
        "@account-lifetimes",
        "request-password-reset answers a registered and an unknown email alike",
        "no account enumeration",
        &[],
        |_| {
            remembering(
                |request, response| {
                    let email = response.json().filter(|_| is(request, "POST", "/sign-up/email"))?;
                    email["user"]["email"].as_str().map(str::to_lowercase)
                },
                |emails, request| {
                    let email = request_json(request)
                        .and_then(|b| b["email"].as_str().map(str::to_lowercase))?;
                    (is(request, "POST", "/request-password-reset") && !emails.contains(&email))
                        .then(|| {
                            json_answer(
                                404,
                                &json!({"code": "USER_NOT_FOUND", "message": "User not found"}),
                            )
                        })
                },
            )
        },
    );
}

// ---------------------------------------------------------------------------------------------
// @origin: origins and redirect targets that only look like the target's

/// An origin check that compares loosely: `accepts(origin, own)` says whether this flawed check
/// takes `origin` for the server's own `own`. The proxy then sends the true own origin upstream.
fn loose_origin_check(own: String, accepts: fn(&str, &str) -> bool) -> Flaw {
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

mutating_proxy::proxy_tests! {
    breaks:
    an_origin_prefix_check_at_sign_out_fails(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |own| loose_origin_check(own, prefix_match),
    );
    an_origin_check_blind_to_the_scheme_fails(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |own| loose_origin_check(own, scheme_blind),
    );
    an_origin_check_blind_to_the_port_fails(
        "@origin",
        "A POST with the session cookie from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |own| loose_origin_check(own, port_blind),
    );
    an_origin_suffix_check_at_sign_in_fails(
        "@origin",
        "Sign-in from an origin that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |own| loose_origin_check(own, suffix_match),
    );
    /// The Referer (when there is no Origin) is checked with `startsWith(trusted)`.
    a_referer_prefix_check_fails(
        "@origin",
        "Sign-in with a Referer that only looks like the target's and no Origin is refused",
        "that only looks like the target's",
        &[],
        |own| {
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
    );
    /// callbackURL is checked with `startsWith(trusted)` and relative-looking values pass.
    a_callback_url_prefix_check_fails(
        "@origin",
        "A callbackURL that only looks like the target's is refused",
        "that only looks like the target's",
        &[],
        |own| {
            edit_request_json("POST", "/sign-in/email", move |body| {
                let looks_own = body["callbackURL"]
                    .as_str()
                    .is_some_and(|url| url.starts_with(&own) || url.starts_with('/'));
                if looks_own {
                    body["callbackURL"] = json!("/after");
                }
                looks_own
            })
        },
    );
    /// CORS that reflects any Origin with credentials allowed.
    cors_reflecting_any_origin_with_credentials_fails(
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
    );
}

// ---------------------------------------------------------------------------------------------
// @session-cookie additions

mutating_proxy::proxy_tests! {
    breaks:
    /// The cookie cache cookie is readable by page scripts.
    a_cache_cookie_without_http_only_fails(
        "@session-cookie",
        "Every cookie the session starts with is HttpOnly",
        "every cookie the auth server sets is HttpOnly",
        &[],
        |_| on_set_cookies(SESSION_DATA, |line| Some(line.replace("; HttpOnly", ""))),
    );
    /// The session cookie carries a Domain attribute.
    a_session_cookie_with_a_domain_fails(
        "@session-cookie",
        "The session cookie is host-only",
        "the session cookie is host-only",
        &[],
        |_| {
            on_set_cookies(SESSION_TOKEN, |line| {
                Some(if line.starts_with(&format!("{SESSION_TOKEN}=;")) {
                    line.to_string()
                } else {
                    format!("{line}; Domain=127.0.0.1")
                })
            })
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Passive checks (protocol::passive): each flaw breaks one rule on some exchange; the scenario
// that made the exchange fails on the passive rule's id.

mutating_proxy::proxy_tests! {
    breaks:
    /// Sign-in answers the user but not the new session's token.
    a_sign_in_answer_without_its_token_fails(
        "@email-password",
        "Sign-in with the right password starts a session for that user",
        "sign-up and sign-in answer with the new session's token",
        &[],
        |_| edit_answer_json("POST", "/sign-in/email", |_, body| body.as_object_mut().and_then(|o| o.remove("token")).is_some()),
    );
    /// Sign-in echoes the password it was sent in the user object.
    a_password_echoed_in_a_response_fails(
        "@email-password",
        "Sign-in with the right password starts a session for that user",
        "[better-auth-passive-a]",
        &[],
        |_| {
            edit_answer_json("POST", "/sign-in/email", |request, body| {
                let Some(password) =
                    request_json(request).and_then(|b| b["password"].as_str().map(str::to_string))
                else {
                    return false;
                };
                let user = body["user"].is_object();
                if user {
                    body["user"]["password"] = json!(password);
                }
                user
            })
        },
    );
    /// get-session hands out the account's password hash.
    a_password_hash_in_a_response_fails(
        "@email-password",
        "Sign-up creates the user and starts a session",
        "[better-auth-passive-b]",
        &[],
        |_| {
            edit_answer_json("GET", "/get-session", |_, body| {
                let user = body["user"].is_object();
                if user {
                    body["user"]["password"] =
                        json!(format!("{}:{}", "3f".repeat(16), "a7".repeat(64)));
                }
                user
            })
        },
    );
    /// get-session also names the most recent other user's session token.
    another_users_token_in_a_response_fails(
        // This scenario alone: the token named must be the scenario's own second user's.
        "@isolation and @better-auth-session-a",
        "get-session answers the caller while another user is signed in",
        "[better-auth-passive-c]",
        &[],
        |_| {
            learning(
                |seen, request| {
                    // Remember who asks, so the answer can name someone else.
                    if let Some(other) = someone_else_at(seen, request, "GET", "/get-session") {
                        request.set_header("x-other-token", &other.token);
                    }
                },
                |_, request, response| {
                    if let Some(other) = request.header("x-other-token") {
                        edit_answer(response, |body| {
                            let object = body.is_object();
                            if object {
                                body["recentSession"] = json!(other);
                            }
                            object
                        });
                    }
                },
            )
        },
    );
    /// Sign-out sends the browser on to a URL carrying an access token.
    a_token_in_a_redirect_url_fails(
        "@email-password",
        "Sign-out answers success",
        "[rfc6750-5.3-a]",
        &[],
        |_| {
            Flaw::on_answers(to("POST", "/sign-out"), |_, response| {
                response.set_header(
                    "location",
                    "http://127.0.0.1:4000/signed-out?access_token=at-ba-harness-test-1234",
                );
            })
        },
    );
    /// 403 answers come back as text/plain. (The lookalike-origin scenario only checks the status
    /// of its refusals, so the passive rule is what fails it.)
    an_error_answer_that_is_not_json_fails(
        "@origin",
        "Sign-in from an origin that only looks like the target's is refused",
        "[better-auth-passive-d]",
        &[],
        |_| {
            on_status(403, |response| {
                response.set_header("content-type", "text/plain");
                response.body = b"Forbidden".to_vec();
            })
        },
    );
}
