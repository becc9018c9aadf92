//! Every token-endpoint scenario of features/oauth-token-endpoint*.feature can fail: the real
//! reference behind a proxy that breaks exactly that scenario's rule, and the harness must
//! report the scenario failed on that rule. Where the pinned reference itself breaks the rule
//! (a known deviation), the plain proxy must fail the scenario with the deviation's answer and
//! a proxy that repairs exactly that rule must make it pass, so the check is neither blind nor
//! a false alarm.
//!
//! Each table below boots one reference and runs each case's one scenario against it with the
//! case's flaw, so the file stays near a minute on two cores.

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mutating_proxy::{BrokenReference, Flaw, ProxyRequest, ProxyResponse};
use serde_json::{Value, json};

use mutating_proxy::oauth::*;

/// What a case expects of its scenario.
enum Verdict {
    /// Failed, on a rule naming this fragment.
    FailsOn(&'static str),
    /// Failed on a rule naming the fragment, with an `actual` containing the second string.
    FailsWith(&'static str, &'static str),
    /// Failed (shown as the listed known deviation) on a rule naming the fragment, with an
    /// `actual` containing the second string: the pinned reference's own break.
    Deviates(&'static str, &'static str),
    /// Passed.
    Passes,
}

struct Case {
    scenario: &'static str,
    flaw: Flaw,
    verdict: Verdict,
}

fn case(scenario: &'static str, flaw: Flaw, verdict: Verdict) -> Case {
    Case {
        scenario,
        flaw,
        verdict,
    }
}

/// Boots one reference and runs every case's scenario alone with the case's flaw.
async fn run_cases(cases: Vec<Case>) {
    let broken = BrokenReference::start(Flaw::none(), &[]).await;
    for Case {
        scenario,
        flaw,
        verdict,
    } in cases
    {
        broken.proxy.set_flaw(flaw);
        let one = OneScenario::new(scenario);
        let run = run_oauth(&broken, Some(&one.dir), "@oauth-provider").await;
        match verdict {
            Verdict::FailsOn(fragment) => run.assert_failed(scenario, fragment),
            Verdict::FailsWith(fragment, actual) => {
                run.assert_failed(scenario, fragment);
                let seen = run.scenario(scenario).unwrap()["actual"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                assert!(seen.contains(actual), "`{scenario}`: actual {seen:?}");
            }
            Verdict::Deviates(fragment, actual) => {
                let s = run.scenario(scenario).unwrap();
                let status = s["status"].as_str().unwrap_or_default();
                let rule = s["rule"].as_str().unwrap_or_default();
                let seen = s["actual"].as_str().unwrap_or_default();
                assert!(
                    matches!(status, "deviation" | "failed")
                        && rule.contains(fragment)
                        && seen.contains(actual),
                    "`{scenario}` is {status} on {rule:?} with {seen:?}:\n{}",
                    run.output
                );
            }
            Verdict::Passes => {
                let status = &run.scenario(scenario).unwrap()["status"];
                assert_eq!(status, "passed", "`{scenario}`:\n{}", run.output);
            }
        }
    }
    broken.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Flaw helpers

fn token_error(status: u16, error: &str) -> ProxyResponse {
    json_response(
        status,
        json!({"error": error, "error_description": "answered by the proxy"}),
    )
}

/// Token answers the proxy makes up (a server that should have refused).
fn fake_tokens() -> ProxyResponse {
    json_response(
        200,
        json!({
            "access_token": "proxy-access-token-0123456789",
            "refresh_token": "proxy-refresh-token-0123456789",
            "token_type": "Bearer",
            "expires_in": 3600,
        }),
    )
}

/// Rewrites the `error` of 4xx answers on `path` from `from` to `to` (same status).
fn rename_error(path: &'static str, from: &'static str, to: &'static str) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, path) && resp.json().is_some_and(|b| b["error"] == from) {
            edit_json(resp, |b| b["error"] = Value::String(to.into()));
        }
    })
}

/// Answers requests to `path` whose form satisfies `when` with `answer()` instead of the server.
fn answer_form(
    path: &'static str,
    when: impl Fn(&[(String, String)]) -> bool + Send + Sync + 'static,
    answer: fn() -> ProxyResponse,
) -> Flaw {
    Flaw::request(move |req| (is(req, path) && when(&form(req))).then(answer))
}

/// Token requests that repeat refresh_token are answered by the proxy with `answer()`.
fn repeated_refresh_tokens_answered(answer: fn() -> ProxyResponse) -> Flaw {
    answer_form(
        "/oauth2/token",
        |p| p.iter().filter(|(n, _)| n == "refresh_token").count() > 1,
        answer,
    )
}

/// Rewrites the form of requests to `path` before they go upstream.
fn edit_form(
    path: &'static str,
    f: impl Fn(&mut Vec<(String, String)>) + Send + Sync + 'static,
) -> Flaw {
    Flaw::request(move |req| {
        if is(req, path) {
            let mut pairs = form(req);
            f(&mut pairs);
            set_form(req, &pairs);
        }
        None
    })
}

fn has(pairs: &[(String, String)], name: &str, value: &str) -> bool {
    pairs.iter().any(|(n, v)| n == name && v == value)
}

/// A server that does not check client secrets: the proxy learns every secret it sees issued
/// at registration and puts the right one into token and revocation requests that lack it or
/// carry a wrong one, so the server accepts them.
fn ignores_client_secrets() -> Flaw {
    let secrets: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let learned = Arc::clone(&secrets);
    Flaw {
        on_request: Some(Arc::new(move |req: &mut ProxyRequest| {
            if !(is(req, "/oauth2/token") || is(req, "/oauth2/revoke")) {
                return None;
            }
            let mut pairs = form(req);
            let id = pairs
                .iter()
                .find(|(n, _)| n == "client_id")
                .map(|(_, v)| v.clone())?;
            let secret = secrets.lock().unwrap().get(&id).cloned()?;
            pairs.retain(|(n, _)| n != "client_secret");
            pairs.push(("client_secret".into(), secret));
            set_form(req, &pairs);
            None
        })),
        on_response: Some(Arc::new(
            move |req: &ProxyRequest, resp: &mut ProxyResponse| {
                if is(req, "/oauth2/register")
                    && let Some(body) = resp.json()
                    && let (Some(id), Some(secret)) =
                        (body["client_id"].as_str(), body["client_secret"].as_str())
                {
                    learned
                        .lock()
                        .unwrap()
                        .insert(id.to_string(), secret.to_string());
                }
            },
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// features/oauth-token-endpoint.feature

const UNSUPPORTED_GRANT: &str =
    "The token endpoint refuses an unsupported grant_type with unsupported_grant_type";
const NEVER_ISSUED: &str = "The token endpoint refuses a code it never issued with invalid_grant";
const WITHOUT_CODE: &str =
    "The token endpoint refuses a code exchange without the code with invalid_request";
const PUBLIC_CLIENT_CREDENTIALS: &str =
    "The token endpoint refuses the client_credentials grant to a public client";
const SUCCESS_JSON: &str = "A successful token response is JSON";
const UNKNOWN_PARAMETER: &str = "The token endpoint ignores a parameter it does not know";
const EMPTY_PARAMETER: &str = "The token endpoint treats a parameter with an empty value as absent";
const REPEATED_PARAMETER: &str =
    "The token endpoint refuses a repeated parameter with invalid_request";
const SCOPE_NEVER_WIDENED: &str = "A refresh never widens the grant and keeps its scope";
const REVOKE_WRONG_HINT: &str = "A wrong token_type_hint does not stop a revocation";
const CHALLENGE_ONCE: &str = "A Bearer challenge names each error attribute at most once";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_request_and_error_flaws() {
    use Verdict::*;
    let refresh_with_scope = |pairs: &[(String, String)], wanted: fn(&str) -> bool| {
        has(pairs, "grant_type", "refresh_token")
            && pairs.iter().any(|(n, v)| n == "scope" && wanted(v))
    };
    run_cases(vec![
        // RFC 6749 §5.2: the cause misnamed, the status wrong, the body not JSON.
        case(
            UNSUPPORTED_GRANT,
            rename_error("/oauth2/token", "unsupported_grant_type", "invalid_request"),
            FailsOn("grant_type the server does not support"),
        ),
        case(
            UNSUPPORTED_GRANT,
            status_swapped("/oauth2/token", 400, 500),
            FailsWith("grant_type the server does not support", "HTTP 500"),
        ),
        case(
            UNSUPPORTED_GRANT,
            Flaw::response(|req, resp| {
                if is(req, "/oauth2/token") && resp.status == 400 {
                    resp.set_header("content-type", "text/plain");
                }
            }),
            FailsOn("token error answers are sent as application/json"),
        ),
        case(
            NEVER_ISSUED,
            rename_error("/oauth2/token", "invalid_grant", "invalid_request"),
            FailsOn("a code the server never issued"),
        ),
        case(
            WITHOUT_CODE,
            rename_error("/oauth2/token", "invalid_request", "invalid_grant"),
            FailsOn("missing a required parameter"),
        ),
        case(
            PUBLIC_CLIENT_CREDENTIALS,
            answer_form(
                "/oauth2/token",
                |p| has(p, "grant_type", "client_credentials"),
                fake_tokens,
            ),
            FailsOn("for confidential clients only"),
        ),
        case(
            SUCCESS_JSON,
            on_tokens(|_, resp| resp.set_header("content-type", "text/plain")),
            FailsOn("successful token response is sent as application/json"),
        ),
        case(
            UNKNOWN_PARAMETER,
            answer_form(
                "/oauth2/token",
                |p| p.iter().any(|(n, _)| n.starts_with("ba_harness_")),
                || token_error(400, "invalid_request"),
            ),
            FailsOn("ignores a request parameter it does not know"),
        ),
        // RFC 6749 §6: the grant widened; the cause misnamed; the rotated token narrowed.
        case(
            SCOPE_NEVER_WIDENED,
            answer_form(
                "/oauth2/token",
                move |p| refresh_with_scope(p, |s| s.contains("profile")),
                fake_tokens,
            ),
            FailsWith("never grants a scope", "without a scope member"),
        ),
        case(
            SCOPE_NEVER_WIDENED,
            rename_error("/oauth2/token", "invalid_scope", "invalid_request"),
            FailsOn("beyond the grant is refused with HTTP 400 invalid_scope"),
        ),
        case(
            SCOPE_NEVER_WIDENED,
            answer_form(
                "/oauth2/token",
                move |p| refresh_with_scope(p, |s| s == "openid offline_access"),
                || token_error(400, "invalid_scope"),
            ),
            FailsOn("carries the scope of the one it replaced"),
        ),
        case(
            CHALLENGE_ONCE,
            Flaw::response(|req, resp| {
                if is(req, "/oauth2/userinfo")
                    && let Some(value) = resp.header("www-authenticate").map(str::to_string)
                {
                    resp.set_header(
                        "www-authenticate",
                        &format!("{value}, error=\"invalid_request\""),
                    );
                }
            }),
            FailsOn("at most once each"),
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_deviations_fail_plainly_and_pass_when_repaired() {
    use Verdict::*;
    run_cases(vec![
        // RFC 6749 §3.2: `scope=` must read as no scope.
        case(
            EMPTY_PARAMETER,
            Flaw::none(),
            Deviates("empty value as absent", "invalid_scope"),
        ),
        case(
            EMPTY_PARAMETER,
            edit_form("/oauth2/token", |p| p.retain(|(_, v)| !v.is_empty())),
            Passes,
        ),
        // RFC 6749 §3.2, §5.2: a repeated parameter is refused, with invalid_request.
        case(
            REPEATED_PARAMETER,
            Flaw::none(),
            Deviates(
                "repeats a parameter is not accepted",
                "HTTP 200 with tokens",
            ),
        ),
        case(
            REPEATED_PARAMETER,
            repeated_refresh_tokens_answered(|| token_error(400, "invalid_grant")),
            FailsOn("or repeating one, is refused with HTTP 400 invalid_request"),
        ),
        case(
            REPEATED_PARAMETER,
            repeated_refresh_tokens_answered(|| token_error(400, "invalid_request")),
            Passes,
        ),
        // RFC 7009 §2.1: the hint must not stop the search.
        case(
            REVOKE_WRONG_HINT,
            Flaw::none(),
            Deviates(
                "wrong token_type_hint does not stop a revocation",
                "HTTP 400",
            ),
        ),
        case(
            REVOKE_WRONG_HINT,
            edit_form("/oauth2/revoke", |p| {
                p.retain(|(n, _)| n != "token_type_hint")
            }),
            Passes,
        ),
        // RFC 7662 §2.1: likewise at introspection.
        case(
            INTROSPECTION_HINTS,
            Flaw::none(),
            Deviates("does not hide a token from introspection", "active: false"),
        ),
        case(
            INTROSPECTION_HINTS,
            edit_form("/oauth2/introspect", |p| {
                p.retain(|(n, _)| n != "token_type_hint")
            }),
            Passes,
        ),
    ])
    .await;
}

// ---------------------------------------------------------------------------------------------
// features/oauth-token-endpoint-clients.feature

const CODE_WITHOUT_SECRET: &str =
    "A confidential client's code exchange without its client_secret is refused";
const REFRESH_WITHOUT_SECRET: &str =
    "A confidential client's refresh without its client_secret is refused";
const BASIC: &str =
    "The token endpoint accepts HTTP Basic and challenges a failed Basic authentication";
const UNAUTHORIZED_CLIENT: &str =
    "A grant type the client is not registered for is refused with unauthorized_client";
const REVOCATION_WRONG_SECRET: &str =
    "Revocation refuses a confidential client with a wrong client_secret";
const INTROSPECTION_HINTS: &str =
    "Introspection takes a form POST and looks past a wrong token_type_hint";
const NO_PKCE_DOWNGRADE: &str =
    "A code issued without a code_challenge cannot be exchanged with a code_verifier";

/// The verifier of the challenge the proxy adds to authorization requests without one.
const PROXY_VERIFIER: &str = "ba-harness-proxy-verifier-0123456789-abcdefghijklmnopqrstuv";

/// A server that issues codes without a code_challenge (the reference requires one of every
/// client): the proxy adds its own challenge to an authorization request that has none, so
/// the code comes back to a client that sent no challenge. With `accept_any_verifier`, the
/// server also takes any code_verifier for such a code (the proxy puts its own in), which is
/// the downgrade the rule forbids.
fn issues_codes_without_challenge(accept_any_verifier: bool) -> Flaw {
    Flaw::request(move |req| {
        if is(req, "/oauth2/authorize") && query_value(req, "code_challenge").is_none() {
            let challenge = ba_harness::protocol::pkce::s256_challenge(PROXY_VERIFIER);
            req.path = edit_query(&req.path, |q| {
                q.push(("code_challenge".into(), challenge));
                q.push(("code_challenge_method".into(), "S256".into()));
            });
        }
        let downgrade = form_value(req, "client_secret").is_some()
            && form_value(req, "code_verifier").is_some();
        if accept_any_verifier && is(req, "/oauth2/token") && downgrade {
            let mut pairs = form(req);
            pairs.retain(|(n, _)| n != "code_verifier");
            pairs.push(("code_verifier".into(), PROXY_VERIFIER.into()));
            set_form(req, &pairs);
        }
        None
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_authentication_flaws() {
    use Verdict::*;
    let must_authenticate = "was issued credentials must authenticate at the token endpoint";
    run_cases(vec![
        case(
            CODE_WITHOUT_SECRET,
            ignores_client_secrets(),
            FailsWith(must_authenticate, "HTTP 200 with tokens"),
        ),
        case(
            REFRESH_WITHOUT_SECRET,
            ignores_client_secrets(),
            FailsWith(must_authenticate, "HTTP 200 with tokens"),
        ),
        case(
            BASIC,
            Flaw::request(|req| {
                let basic = req
                    .header("authorization")
                    .is_some_and(|v| v.starts_with("Basic "));
                (is(req, "/oauth2/token") && basic).then(|| {
                    let mut refused = token_error(401, "invalid_client");
                    refused.set_header("www-authenticate", "Basic");
                    refused
                })
            }),
            FailsOn("accepts HTTP Basic authentication"),
        ),
        case(
            BASIC,
            Flaw::response(|req, resp| {
                if is(req, "/oauth2/token") {
                    resp.remove_header("www-authenticate");
                }
            }),
            FailsWith("challenge for Basic", "without WWW-Authenticate"),
        ),
        case(
            BASIC,
            status_swapped("/oauth2/token", 401, 400),
            FailsWith("challenge for Basic", "HTTP 400"),
        ),
        case(
            UNAUTHORIZED_CLIENT,
            rename_error("/oauth2/token", "unauthorized_client", "invalid_grant"),
            FailsOn("is refused with HTTP 400 unauthorized_client"),
        ),
        case(
            UNAUTHORIZED_CLIENT,
            answer_form(
                "/oauth2/token",
                |p| has(p, "grant_type", "client_credentials"),
                fake_tokens,
            ),
            FailsWith("unauthorized_client", "HTTP 200 with tokens"),
        ),
        case(
            REVOCATION_WRONG_SECRET,
            ignores_client_secrets(),
            FailsWith("a wrong client_secret is refused", "HTTP 200"),
        ),
        case(
            REVOCATION_WRONG_SECRET,
            Flaw::response(|req, resp| {
                if is(req, "/oauth2/revoke") && resp.status >= 400 {
                    resp.set_header("content-type", "text/html");
                    resp.body = b"<h1>Unauthorized</h1>".to_vec();
                }
            }),
            FailsOn("uses the RFC 6749 §5.2 format"),
        ),
        case(
            INTROSPECTION_HINTS,
            Flaw::request(|req| {
                let form_post = req
                    .header("content-type")
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                (is(req, "/oauth2/introspect") && form_post)
                    .then(|| token_error(415, "invalid_request"))
            }),
            FailsOn("introspection takes an HTTP POST with a form-encoded token"),
        ),
        // OAuth 2.1 §4.1.3: the reference never issues a code without a challenge (nothing to
        // downgrade: the scenario passes); one that does must refuse a verifier for it.
        case(NO_PKCE_DOWNGRADE, Flaw::none(), Passes),
        case(
            NO_PKCE_DOWNGRADE,
            issues_codes_without_challenge(true),
            FailsWith("PKCE cannot be downgraded", "HTTP 200 with tokens"),
        ),
        case(
            NO_PKCE_DOWNGRADE,
            issues_codes_without_challenge(false),
            Passes,
        ),
    ])
    .await;
}
