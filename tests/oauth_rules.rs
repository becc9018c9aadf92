//! Every OAuth scenario can fail: the real reference behind a proxy that breaks exactly that
//! scenario's rule, and the harness must report the scenario failed on that rule. Plus: the
//! proxy alone changes nothing (every OAuth scenario passes, or is a listed known deviation),
//! and re-signing ID tokens with the proxy's own key changes nothing either, which is what lets
//! the ID-token claim flaws alter one claim and keep a valid signature.
//!
//! Each flaw test boots its own reference and runs only its own scenario (cut from the shipped
//! feature file into a temporary features folder), so the file stays near a minute on two cores.

mod mutating_proxy;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mutating_proxy::{BrokenReference, Flaw, ProxyRequest, ProxyResponse};
use serde_json::{Value, json};

use mutating_proxy::oauth::*;

// ---------------------------------------------------------------------------------------------
// The proxy alone, and the neutral re-signing

mutating_proxy::proxy_tests! {
    passes_or_known:
    without_a_flaw_every_oauth_scenario_passes_or_is_a_known_deviation(Flaw::none());
    re_signing_id_tokens_with_a_published_key_changes_nothing(resign_id_tokens(|_| {}));
}

// ---------------------------------------------------------------------------------------------
// Discovery

mutating_proxy::proxy_tests! {
    breaks:
    discovery_issuer_without_the_base_path(
        // Known regression #21 (#5496): iss = baseURL root while mounted at /api/auth.
        on_discovery(|doc| {
            let issuer = doc["issuer"]
                .as_str()
                .unwrap()
                .trim_end_matches("/api/auth")
                .to_string();
            doc["issuer"] = Value::String(issuer);
        }),
        "The discovery document names the auth base URL as its issuer",
        "names the auth base URL as its issuer",
    );
    discovery_without_userinfo_endpoint(
        discovery_without("userinfo_endpoint"),
        "The discovery document lists the authorization, token, userinfo and JWKS endpoints",
        "userinfo_endpoint and jwks_uri",
    );
    discovery_offering_plain_pkce(
        on_discovery(|doc| doc["code_challenge_methods_supported"] = json!(["S256", "plain"])),
        "The discovery document offers PKCE S256 and not plain",
        "never plain",
    );
    discovery_without_the_code_response_type(
        on_discovery(|doc| doc["response_types_supported"] = json!(["code id_token", "token"])),
        "The discovery document offers the authorization code response type",
        "response_types_supported",
    );
    discovery_without_the_iss_parameter_flag(
        discovery_without("authorization_response_iss_parameter_supported"),
        "The discovery document advertises the iss authorization response parameter",
        "authorization_response_iss_parameter_supported",
    );
}

mutating_proxy::proxy_tests! {
    skips:
    a_server_without_rfc8414_metadata_skips_the_issuer_rule(
        // RFC 8414 metadata is optional and Better Auth leaves mounting it to the app.
        Flaw::request(|req| {
            req.path_only()
                .contains("/.well-known/oauth-authorization-server")
                .then(|| json_response(404, json!({"message": "Not Found"})))
        }),
        "The RFC 8414 metadata names the same issuer as the OpenID discovery document",
        "publishes no RFC 8414 metadata",
    );
}

// ---------------------------------------------------------------------------------------------
// Authorization

mutating_proxy::proxy_tests! {
    breaks:
    consent_redirect_without_its_signature(
        drop_from_redirects("/oauth2/authorize", "sig"),
        "Authorize with a session asks for consent with a signed query",
        "redirects to the consent page with a signed copy",
    );
    consent_answer_without_the_code(
        on_consent_url(drop_param("code")),
        "Consent returns the user to the redirect URI with a code",
        "redirected to the registered redirect_uri with an authorization code",
    );
    consent_answer_without_the_state(
        on_consent_url(drop_param("state")),
        "The authorization response returns the state exactly as sent",
        "returns the client's state exactly as sent",
    );
    consent_answer_with_another_issuer(
        on_consent_url(|url| {
            edit_query(url, |q| {
                rewrite_param(q, "iss", |_| Some("http://evil.example/api/auth".into()))
            })
        }),
        "The authorization response names the issuer",
        "carries iss equal to the discovery issuer",
    );
    sign_in_that_drops_the_oauth_query(
        Flaw::request(|req| {
            if is(req, "/sign-in/email")
                && let Ok(mut body) = serde_json::from_slice::<Value>(&req.body)
                && body.get("oauth_query").is_some()
            {
                body.as_object_mut().unwrap().remove("oauth_query");
                req.body = serde_json::to_vec(&body).unwrap();
            }
            None
        }),
        "Authorize without a session goes through the login page and on to a code",
        "continues the authorization",
    );
}

/// A valid S256 challenge (RFC 7636 appendix B).
const SOME_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn set_query(req: &mut ProxyRequest, pairs: &[(String, String)]) {
    let path = req.path_only().to_string();
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    req.path = format!("{path}?{q}");
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_lets_a_public_client_skip_pkce(
        // Known regression #18 (#10637): PKCE not enforced for public clients.
        on_authorize_query_if(
            |req| query_value(req, "code_challenge").is_none(),
            |q| {
                q.push(("code_challenge".into(), SOME_CHALLENGE.into()));
                q.push(("code_challenge_method".into(), "S256".into()));
            },
        ),
        "Authorize without a code_challenge is refused for a public client",
        "without code_challenge is refused",
    );
    authorize_that_accepts_plain_pkce(
        on_authorize_query_if(
            |req| query_value(req, "code_challenge_method").as_deref() == Some("plain"),
            |q| {
                rewrite_param(q, "code_challenge", |_| Some(SOME_CHALLENGE.into()));
                rewrite_param(q, "code_challenge_method", |_| Some("S256".into()));
            },
        ),
        "Authorize with code_challenge_method plain is refused",
        "code_challenge_method=plain is refused",
    );
    authorize_that_sends_errors_to_an_unregistered_redirect_uri(
        on_authorize_redirect("error=invalid_redirect", |req, resp| {
            let target = query_value(req, "redirect_uri").unwrap_or_default();
            let state = query_value(req, "state").unwrap_or_default();
            resp.set_header(
                "location",
                &with_query(&target, &[("error", "invalid_request"), ("state", &state)]),
            );
        }),
        "Authorize never redirects to an unregistered redirect_uri",
        "never redirected to that URI",
    );
}

mutating_proxy::proxy_tests! {
    breaks_showing:
    authorize_that_shows_the_login_page_for_prompt_none(
        // The proxy drops prompt=none: the server sends the session-less user to its login page.
        on_authorize_query_if(
            |req| query_value(req, "prompt").as_deref() == Some("none"),
            |q| q.retain(|(n, _)| n != "prompt"),
        ),
        "Authorize with prompt=none and no session answers login_required to the client",
        "prompt=none and no session",
        "/login",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    consent_that_grants_what_the_user_denied(
        Flaw::request(|req| {
            if is(req, "/oauth2/consent")
                && let Ok(mut body) = serde_json::from_slice::<Value>(&req.body)
                && body.get("accept") == Some(&Value::Bool(false))
            {
                body["accept"] = Value::Bool(true);
                req.body = serde_json::to_vec(&body).unwrap();
            }
            None
        }),
        "Denied consent answers access_denied to the client without a code",
        "the user denies consent",
    );
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

mutating_proxy::proxy_tests! {
    breaks:
    token_answer_with_another_token_type(
        on_tokens(|_, resp| edit_json(resp, |b| b["token_type"] = json!("mac"))),
        "The code exchange returns a Bearer access token and an ID token",
        "token_type Bearer",
    );
    token_answer_without_expires_in(
        tokens_without("expires_in", |_| true),
        "The token response says when the access token expires",
        "positive expires_in",
    );
    code_exchange_without_the_refresh_token(
        tokens_without("refresh_token", is_code_exchange),
        "The code exchange returns a refresh token for offline_access",
        "returns a refresh_token",
    );
    token_answer_that_may_be_cached(
        on_tokens(|_, resp| {
            resp.remove_header("cache-control");
            resp.remove_header("pragma");
        }),
        "Token responses are not cached",
        "Cache-Control: no-store",
    );
}

mutating_proxy::proxy_tests! {
    breaks_showing:
    token_endpoint_that_ignores_the_code_verifier(
        // With the right code the server would refuse the wrong verifier (401, the known
        // deviation); the proxy turns that into success, which is a failure, not the deviation.
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/token") && resp.text().contains("code verification failed") {
                *resp = json_response(
                    200,
                    json!({"access_token": "proxyAccessTokenForTheWrongVerifier", "token_type": "Bearer", "expires_in": 3600}),
                );
            }
        }),
        "A wrong code_verifier is refused",
        "does not match the code_challenge",
        "HTTP 200 with tokens",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    token_endpoint_that_replays_the_first_answer_for_a_reused_code(
        replays_first_answer("code"),
        "An authorization code can be exchanged only once",
        "single-use",
    );
    token_endpoint_that_refuses_a_reused_code_without_revoking(
        refuses_replays_silently("code"),
        "Replaying an authorization code revokes the tokens issued from it",
        "revokes the access token issued from it",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    token_endpoint_that_ignores_the_redirect_uri(
        |broken| {
            let registered = registered_redirect_uri(broken);
            form_value_set("/oauth2/token", is_code_exchange, "redirect_uri", registered)
        },
        "The token endpoint refuses a redirect_uri that differs from the authorization request",
        "redirect_uri differs",
    );
    token_endpoint_that_lets_another_client_redeem_a_code(
        // The proxy hands the server the client the code was issued to, whoever presents it.
        |broken| as_the_seeded_client(broken, "/oauth2/token", is_code_exchange),
        "An authorization code is bound to the client it was issued to",
        "bound to the client it was issued to",
    );
}

// ---------------------------------------------------------------------------------------------
// Revocation and introspection

mutating_proxy::proxy_tests! {
    breaks:
    revocation_that_only_pretends(
        // The proxy answers the revocation like the server would (200, empty body) without
        // asking it.
        Flaw::request(|req| {
            is(req, "/oauth2/revoke").then(|| ProxyResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Vec::new(),
            })
        }),
        "A revoked refresh token is refused",
        "revoking a refresh token answers 200 and invalidates it",
    );
    introspection_for_a_client_without_credentials(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/introspect") && resp.status == 401 {
                let client_id = form_value(req, "client_id").unwrap_or_default();
                *resp = json_response(
                    200,
                    json!({"active": true, "client_id": client_id, "scope": "openid", "token_type": "Bearer"}),
                );
            }
        }),
        "Introspection refuses a client without credentials",
        "introspection requires client authentication",
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens

mutating_proxy::proxy_tests! {
    breaks:
    refresh_that_hands_back_the_same_refresh_token(
        on_tokens(|req, resp| {
            if let Some(presented) = form_value(req, "refresh_token") {
                edit_json(resp, |b| b["refresh_token"] = Value::String(presented));
            }
        }),
        "A refresh rotates the refresh token",
        "rotates the refresh token",
    );
    refresh_that_replays_the_answer_to_a_rotated_token(
        replays_first_answer("refresh_token"),
        "A rotated refresh token is refused",
        "already rotated is refused",
    );
    refresh_that_refuses_a_replay_without_revoking_the_family(
        refuses_replays_silently("refresh_token"),
        "Replaying a rotated refresh token revokes the whole family",
        "revokes its family",
    );
}

// ---------------------------------------------------------------------------------------------
// The ID token (claims changed and re-signed with a published key: only the claim is wrong)

mutating_proxy::proxy_tests! {
    breaks:
    id_token_with_a_broken_signature(
        on_tokens(|_, resp| {
            edit_json(resp, |b| {
                if let Some(token) = b.get("id_token").and_then(Value::as_str) {
                    let (signed, signature) = token.rsplit_once('.').unwrap();
                    let first = if signature.starts_with('A') { 'B' } else { 'A' };
                    b["id_token"] = Value::String(format!("{signed}.{first}{}", &signature[1..]));
                }
            })
        }),
        "The ID token is signed by a key from the discovery jwks_uri",
        "signature verifies with a key from the discovery jwks_uri",
    );
    id_token_with_another_issuer(
        resign_id_tokens(|c| {
            let root = c["iss"]
                .as_str()
                .unwrap()
                .trim_end_matches("/api/auth")
                .to_string();
            c.insert("iss".into(), Value::String(root));
        }),
        "The ID token's iss is the discovery issuer",
        "iss equals the discovery issuer",
    );
    id_token_for_another_audience(
        resign_id_tokens(|c| {
            c.insert("aud".into(), json!("another-client"));
        }),
        "The ID token's aud is the client_id",
        "aud contains the client_id",
    );
    id_token_already_expired(
        resign_id_tokens(|c| {
            c.insert("iat".into(), json!(now() - 7200));
            c.insert("exp".into(), json!(now() - 3600));
        }),
        "The ID token has not expired", "exp in the future"
    );
    id_token_with_another_nonce(
        resign_id_tokens(|c| {
            c.insert("nonce".into(), json!("not-the-nonce-that-was-sent"));
        }),
        "The ID token echoes the nonce", "echoes the nonce"
    );
    id_token_with_a_wrong_at_hash(
        resign_id_tokens(|c| {
            c.insert("at_hash".into(), json!("AAAAAAAAAAAAAAAAAAAAAA"));
        }),
        "The ID token's at_hash matches the access token",
        "at_hash",
    );
    id_token_with_a_new_sub_each_time(
        {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            resign_id_tokens(|c| {
                c.insert(
                    "sub".into(),
                    json!(format!("subject-{}", NEXT.fetch_add(1, Ordering::Relaxed))),
                );
            })
        },
        "The ID token's sub is stable for the same user",
        "sub is stable",
    );
}

// ---------------------------------------------------------------------------------------------
// userinfo

mutating_proxy::proxy_tests! {
    breaks:
    userinfo_answering_with_another_email(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/userinfo") && resp.status == 200 {
                edit_json(resp, |b| b["email"] = json!("someone-else@ba-harness.test"));
            }
        }),
        "userinfo returns the ID token's subject and the user's email",
        "returns the ID token's sub and the user's email",
    );
    userinfo_answering_without_a_token(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/userinfo") && req.header("authorization").is_none() {
                *resp = json_response(200, json!({"sub": "anonymous"}));
            }
        }),
        "userinfo without an access token is refused with 401",
        "without an access token is refused with 401",
    );
    userinfo_challenging_with_another_scheme(
        // The reference sends no challenge at all (the known deviation); a Basic challenge is a
        // different failure, reported as one.
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/userinfo") && req.header("authorization").is_none() {
                resp.set_header("www-authenticate", "Basic realm=\"userinfo\"");
            }
        }),
        "userinfo without an access token answers with a Bearer challenge",
        "WWW-Authenticate: Bearer challenge",
    );
    userinfo_refusing_an_unknown_token_without_a_challenge(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/userinfo")
                && req.header("authorization").is_some()
                && resp.status == 401
            {
                resp.remove_header("www-authenticate");
            }
        }),
        "userinfo refuses an unknown access token with invalid_token",
        "error=\"invalid_token\"",
    );
}

// ---------------------------------------------------------------------------------------------
// End session

mutating_proxy::proxy_tests! {
    breaks:
    end_session_redirect_without_the_state(
        drop_from_redirects("/oauth2/end-session", "state"),
        "End session redirects to the registered post_logout_redirect_uri with the same state",
        "with the same state",
    );
    end_session_that_leaves_the_cookies(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/end-session") {
                resp.remove_header("set-cookie");
            }
        }),
        "End session clears the session cookies",
        "clears every cookie of the session",
    );
    end_session_that_only_pretends(
        // The proxy answers like the server would (redirect with state, cookies cleared) without
        // asking it: the session lives on.
        Flaw::request(|req| {
            if !is(req, "/oauth2/end-session") {
                return None;
            }
            let target = query_value(req, "post_logout_redirect_uri").unwrap_or_default();
            let state = query_value(req, "state").unwrap_or_default();
            Some(redirect_response(
                &with_query(&target, &[("state", &state)]),
                &[
                    "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                    "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                    "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                ],
            ))
        }),
        "End session ends the session on the server",
        "get-session with the old session cookie answers null",
    );
    end_session_that_redirects_anywhere(
        Flaw::request(|req| {
            let target = query_value(req, "post_logout_redirect_uri")
                .filter(|_| is(req, "/oauth2/end-session"))?;
            target
                .contains("unregistered")
                .then(|| redirect_response(&target, &[]))
        }),
        "End session never redirects to an unregistered post_logout_redirect_uri",
        "never redirects to a post_logout_redirect_uri that is not registered",
    );
}

/// A logout confirmation page, as the reference serves it when no id_token_hint is given (E31).
fn confirmation_page() -> ProxyResponse {
    ProxyResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: b"<!doctype html><title>Confirm logout</title><form method=\"post\" action=\"/api/auth/oauth2/end-session/confirm\"><button name=\"action\" value=\"confirm\">Confirm logout</button></form>".to_vec(),
    }
}

fn end_session_without_cookie(req: &ProxyRequest) -> bool {
    is(req, "/oauth2/end-session") && req.header("cookie").is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_session_that_asks_only_after_logging_out() {
    let scenario = "End session without the user's session asks the End-User before logging out";
    // The reference logs out without asking: the listed known deviation, not a failure. A
    // conforming OP: the request without the user's session gets a confirmation page and ends
    // nothing. The flaw: the same confirmation page, but the server has already ended the
    // session: a failure, not the listed deviation.
    let run = deviation_conforming_and_flawed(
        scenario,
        Flaw::request(|req| end_session_without_cookie(req).then(confirmation_page)),
        Flaw::response(|req, resp| {
            if end_session_without_cookie(req) {
                *resp = confirmation_page();
            }
        }),
        "asks the End-User to confirm before logging out",
    )
    .await;
    let actual = run.actual(scenario);
    assert!(
        actual.contains("although end session answered HTTP 200"),
        "{actual}"
    );
}

/// A provider that does not verify the id_token_hint's signature: the proxy remembers every ID
/// token the token endpoint issues and, when end session gets a hint with the same claims but
/// another header or signature (forged), hands the provider the real token instead.
fn end_session_without_hint_verification() -> Flaw {
    // (claims, the real token): a forged hint carries the same claims, maybe re-encoded.
    let issued: Arc<Mutex<Vec<(Value, String)>>> = Arc::default();
    let remember = Arc::clone(&issued);
    let claims_of = |token: &str| -> Option<Value> {
        let segment = token.split('.').nth(1)?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
    };
    Flaw {
        on_response: Some(Arc::new(move |req, resp| {
            if !is(req, "/oauth2/token") {
                return;
            }
            if let Some(token) = resp
                .json()
                .and_then(|b| b["id_token"].as_str().map(str::to_string))
                && let Some(claims) = claims_of(&token)
            {
                remember.lock().unwrap().push((claims, token));
            }
        })),
        on_request: Some(Arc::new(move |req| {
            if !is(req, "/oauth2/end-session") {
                return None;
            }
            let hint = query_value(req, "id_token_hint")?;
            let claims = claims_of(&hint)?;
            let real = issued
                .lock()
                .unwrap()
                .iter()
                .find(|(c, _)| *c == claims)
                .map(|(_, t)| t.clone())?;
            let pairs: Vec<(String, String)> = query(req)
                .into_iter()
                .map(|(n, v)| {
                    if n == "id_token_hint" {
                        (n, real.clone())
                    } else {
                        (n, v)
                    }
                })
                .collect();
            set_query(req, &pairs);
            None
        })),
    }
}

mutating_proxy::proxy_tests! {
    breaks:
    end_session_that_accepts_an_unsigned_hint(
        end_session_without_hint_verification(),
        "End session refuses an unsigned id_token_hint",
        "acts only on an id_token_hint whose signature verifies",
    );
    end_session_that_accepts_an_altered_signature(
        end_session_without_hint_verification(),
        "End session refuses an id_token_hint whose signature was altered",
        "acts only on an id_token_hint whose signature verifies",
    );
}

/// userinfo's answer to a JWT-shaped access token that does not verify: the reference's 500
/// (the listed deviation), a conforming 401 invalid_token (passes), and a 200 with claims (the
/// forged token believed: a failure, not the deviation).
async fn userinfo_forged_jwt_three_ways(scenario: &str) {
    deviation_conforming_and_flawed(
        scenario,
        forged_jwts_answered(|| ProxyResponse {
            status: 401,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "www-authenticate".into(),
                    "Bearer error=\"invalid_token\", error_description=\"Invalid access token\""
                        .into(),
                ),
            ],
            body: br#"{"error":"invalid_token","error_description":"Invalid access token"}"#
                .to_vec(),
        }),
        forged_jwts_answered(|| ProxyResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"sub":"ba-harness-forged-subject","email":"someone@example.test"}"#.to_vec(),
        }),
        "unknown access token is refused with 401",
    )
    .await;
}

/// userinfo requests with a JWT-shaped access token are answered by the proxy with `answer()`.
fn forged_jwts_answered(answer: fn() -> ProxyResponse) -> Flaw {
    Flaw::request(move |req| {
        let jwt_shaped = req
            .header("authorization")
            .is_some_and(|a| a.matches('.').count() == 2);
        (is(req, "/oauth2/userinfo") && jwt_shaped).then(answer)
    })
}

mutating_proxy::proxy_tests! {
    userinfo_forged_jwt_three_ways:
    userinfo_and_a_jwt_with_a_forged_signature(
        "userinfo refuses a JWT access token with a forged signature with invalid_token",
    );
    userinfo_and_a_jwt_signed_by_an_unpublished_key(
        "userinfo refuses a JWT access token signed by an unpublished key with invalid_token",
    );
}

// ---------------------------------------------------------------------------------------------
// Isolation between clients (features/oauth-isolation.feature)

/// Rewrites the `client_id` of form requests to `path_suffix` that `when` picks to the client the
/// reference seeded: the server then acts as if the token's owner had asked, whoever asked.
fn as_the_seeded_client(
    broken: &BrokenReference,
    path_suffix: &'static str,
    when: fn(&ProxyRequest) -> bool,
) -> Flaw {
    form_value_set(path_suffix, when, "client_id", seeded_client_id(broken))
}

mutating_proxy::proxy_tests! {
    breaks_with:
    refresh_token_redeemable_by_another_client(
        |broken| {
            as_the_seeded_client(broken, "/oauth2/token", |req| {
                form_value(req, "grant_type").as_deref() == Some("refresh_token")
            })
        },
        "A refresh token is bound to the client it was issued to",
        "refresh token is bound to the client it was issued to",
    );
    revocation_of_a_refresh_token_by_another_client(
        |broken| as_the_seeded_client(broken, "/oauth2/revoke", |_| true),
        "Another client cannot revoke the client's refresh token",
        "cannot revoke a refresh token issued to another client",
    );
    revocation_of_an_access_token_by_another_client(
        |broken| as_the_seeded_client(broken, "/oauth2/revoke", |_| true),
        "Another client cannot revoke the client's access token",
        "cannot revoke an access token issued to another client",
    );
}

// ---------------------------------------------------------------------------------------------
// Token lifetimes (features/oauth-token-lifetimes.feature)

/// Whether the exchange was a form request to `path_suffix` carrying `name=value`, answered with
/// `status`.
fn answered(
    path_suffix: &'static str,
    (name, value): (&'static str, &'static str),
    status: u16,
) -> impl Fn(&ProxyRequest, &ProxyResponse) -> bool + Send + Sync + 'static {
    move |req, resp| {
        is(req, path_suffix)
            && form_value(req, name).as_deref() == Some(value)
            && resp.status == status
    }
}

/// Keeps access tokens alive after the server ended them: the proxy remembers every access token
/// the token endpoint issued and, once `ends` saw an exchange that ended them, answers userinfo
/// for them itself, as a server that forgot to end them would.
fn zombie_access_tokens(
    ends: impl Fn(&ProxyRequest, &ProxyResponse) -> bool + Send + Sync + 'static,
) -> Flaw {
    let issued: Arc<Mutex<HashSet<String>>> = Arc::default();
    let zombies: Arc<Mutex<HashSet<String>>> = Arc::default();
    let undead = Arc::clone(&zombies);
    Flaw {
        on_request: Some(Arc::new(move |req| {
            let bearer = req.header("authorization")?.strip_prefix("Bearer ")?;
            (is(req, "/oauth2/userinfo") && undead.lock().unwrap().contains(bearer))
                .then(|| json_response(200, json!({"sub": "ba-harness-zombie"})))
        })),
        on_response: Some(Arc::new(move |req, resp| {
            if is(req, "/oauth2/token")
                && resp.status == 200
                && let Some(token) = resp
                    .json()
                    .and_then(|b| b["access_token"].as_str().map(str::to_string))
            {
                issued.lock().unwrap().insert(token);
            }
            if ends(req, resp) {
                let all = issued.lock().unwrap().clone();
                zombies.lock().unwrap().extend(all);
            }
        })),
    }
}

mutating_proxy::proxy_tests! {
    breaks:
    access_token_revocation_that_only_pretends(
        // The proxy answers an access-token revocation like the server would without asking it.
        Flaw::request(|req| {
            (is(req, "/oauth2/revoke")
                && form_value(req, "token_type_hint").as_deref() == Some("access_token"))
            .then(|| ProxyResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Vec::new(),
            })
        }),
        "A revoked access token is refused at userinfo",
        "revoking an access token answers 200 and kills it at once",
    );
    refresh_revocation_that_leaves_the_access_token_alive(
        zombie_access_tokens(answered("/oauth2/revoke", ("token_type_hint", "refresh_token"), 200)),
        "Revoking a refresh token kills the access token issued with it",
        "also kills the access token issued with it",
    );
    refresh_reuse_that_leaves_the_family_access_tokens_alive(
        zombie_access_tokens(answered("/oauth2/token", ("grant_type", "refresh_token"), 400)),
        "Replaying a rotated refresh token kills the access tokens of its family",
        "the access tokens of the revoked family die too",
    );
}

// ---------------------------------------------------------------------------------------------
// Authorization request parameters and every authorization response
// (features/oauth-authorization-requests.feature)

/// Rewrites the authorization request's query with `f` before the server sees it.
fn on_authorize_query(f: impl Fn(&mut Vec<(String, String)>) + Send + Sync + 'static) -> Flaw {
    on_authorize_query_if(|_| true, f)
}

/// Like [`on_authorize_query`], for the authorization requests `when` picks.
fn on_authorize_query_if(
    when: fn(&ProxyRequest) -> bool,
    f: impl Fn(&mut Vec<(String, String)>) + Send + Sync + 'static,
) -> Flaw {
    Flaw::request(move |req| {
        if is(req, "/oauth2/authorize") && when(req) {
            let mut q = query(req);
            f(&mut q);
            set_query(req, &q);
        }
        None
    })
}

/// A flaw on the authorize endpoint's redirects whose Location contains `marker`.
fn on_authorize_redirect(
    marker: &'static str,
    f: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static,
) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/oauth2/authorize")
            && resp.header("location").is_some_and(|l| l.contains(marker))
        {
            f(req, resp);
        }
    })
}

/// Drops `name` from the authorize endpoint's redirects whose Location contains `marker`.
fn drop_from_authorize_redirect(marker: &'static str, name: &'static str) -> Flaw {
    on_authorize_redirect(marker, move |_, resp| set_location(resp, drop_param(name)))
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_serves_response_type_token_as_code(
        on_authorize_query(|q| {
            rewrite_param(q, "response_type", |v| (v == "token").then(|| "code".into()))
        }),
        "Authorize with response_type token answers unsupported_response_type to the client",
        "error=unsupported_response_type",
    );
    invalid_scope_error_without_the_state(
        drop_from_authorize_redirect("error=invalid_scope", "state"),
        "Authorize with an unknown scope answers invalid_scope to the client or leaves the scope out",
        "a scope the server does not know",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    authorize_that_takes_an_unknown_client_for_the_seeded_one(
        |broken| {
            let seeded = seeded_client_id(broken);
            on_authorize_query(move |q| {
                rewrite_param(q, "client_id", |v| {
                    v.starts_with("ba-harness-unknown-client")
                        .then(|| seeded.clone())
                })
            })
        },
        "Authorize with an unknown client_id never redirects to the redirect_uri it names",
        "unknown client_id is never redirected",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_ignores_prompt_login(
        on_authorize_query(|q| q.retain(|(n, v)| !(n == "prompt" && v == "login"))),
        "Authorize with prompt=login issues no code on the old session",
        "prompt=login",
    );
    id_token_without_auth_time_after_max_age(
        resign_id_tokens(|claims| {
            claims.remove("auth_time");
        }),
        "The ID token carries auth_time after a request with max_age",
        "carries auth_time",
    );
    access_denied_without_the_issuer(
        on_consent_url(drop_param("iss")),
        "The access_denied error response names the issuer",
        "error response carries iss",
    );
    login_required_without_the_issuer(
        drop_from_authorize_redirect("error=login_required", "iss"),
        "The login_required error response names the issuer",
        "error response carries iss",
    );
}

// ---------------------------------------------------------------------------------------------
// What discovery promises is what is issued (features/oauth-consistency.feature)

mutating_proxy::proxy_tests! {
    breaks:
    discovery_promising_another_id_token_alg(
        on_discovery(|doc| doc["id_token_signing_alg_values_supported"] = json!(["RS256"])),
        "The ID token is signed with an alg the discovery document lists",
        "id_token_signing_alg_values_supported",
    );
    refresh_answer_that_may_be_cached(
        on_tokens(|req, resp| {
            if form_value(req, "grant_type").as_deref() == Some("refresh_token") {
                resp.remove_header("cache-control");
            }
        }),
        "Refresh responses are not cached",
        "carry Cache-Control: no-store",
    );
}

// ---------------------------------------------------------------------------------------------
// Second batch: prompt=none before consent, a challenge without method, users' isolation,
// exchanges without what the code is bound to

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_shows_the_consent_page_for_prompt_none(
        on_authorize_query(|q| q.retain(|(n, v)| !(n == "prompt" && v == "none"))),
        "Authorize with prompt=none before consent answers consent_required to the client",
        "consent_required",
    );
    authorize_that_takes_a_challenge_without_method_for_s256(
        on_authorize_query(|q| {
            let has_challenge = q.iter().any(|(n, _)| n == "code_challenge");
            let has_method = q.iter().any(|(n, _)| n == "code_challenge_method");
            if has_challenge && !has_method {
                q.push(("code_challenge_method".into(), "S256".into()));
            }
        }),
        "Authorize with a code_challenge but no code_challenge_method is refused",
        "without code_challenge_method is a plain challenge",
    );
    userinfo_that_answers_every_token_with_the_first_user(
        // The proxy keeps the first userinfo answer and serves it for every later token.
        {
            let first: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
            Flaw::response(move |req, resp| {
                if is(req, "/oauth2/userinfo") && resp.status == 200 {
                    let mut kept = first.lock().unwrap();
                    match kept.as_ref() {
                        Some(body) => resp.body = body.clone(),
                        None => *kept = Some(resp.body.clone()),
                    }
                }
            })
        },
        "Each user's tokens describe their own user",
        "each user's tokens describe that user",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    token_endpoint_that_fills_in_a_missing_redirect_uri(
        |broken| {
            let registered = registered_redirect_uri(broken);
            Flaw::request(move |req| {
                if is(req, "/oauth2/token")
                    && is_code_exchange(req)
                    && form_value(req, "redirect_uri").is_none()
                {
                    let mut pairs = form(req);
                    pairs.push(("redirect_uri".into(), registered.clone()));
                    set_form(req, &pairs);
                }
                None
            })
        },
        "The token endpoint refuses an exchange without the redirect_uri",
        "leaves out the redirect_uri",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    token_endpoint_that_issues_tokens_without_the_code_verifier(
        // The proxy answers an exchange without code_verifier with tokens, as a server that skips
        // the PKCE check would.
        Flaw::request(|req| {
            (is(req, "/oauth2/token")
                && form_value(req, "grant_type").as_deref() == Some("authorization_code")
                && form_value(req, "code_verifier").is_none())
            .then(|| {
                json_response(
                    200,
                    json!({"access_token": "ba-harness-proxy-access-token", "token_type": "Bearer", "expires_in": 3600}),
                )
            })
        }),
        "The token endpoint refuses an exchange without the code_verifier",
        "without code_verifier for a code issued with a code_challenge",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    authorize_that_delivers_to_an_unregistered_redirect_uri_after_login_and_consent(
        // The proxy shows the server the registered redirect_uri, so the flow goes on through login
        // and consent, and then sends the code to the unregistered URI the request named.
        |broken| {
            let registered = registered_redirect_uri(broken);
            let unregistered = {
                let mut u = url::Url::parse(&registered).unwrap();
                u.set_path("/ba-harness-unregistered-callback");
                u.to_string()
            };
            let (to_server, from_server) = (registered.clone(), unregistered.clone());
            Flaw::joined(
                on_authorize_query(move |q| {
                    rewrite_param(q, "redirect_uri", |v| {
                        (v == from_server).then(|| to_server.clone())
                    })
                }),
                Flaw::response(move |req, resp| {
                    if is(req, "/oauth2/consent") {
                        edit_json_url(resp, |url| url.replacen(&registered, &unregistered, 1));
                    }
                }),
            )
        },
        "Authorize with an unregistered redirect_uri never reaches it, through login and consent",
        "through login and consent to the end of the flow",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    end_session_that_leaves_the_access_token_alive(
        zombie_access_tokens(|req, _| is(req, "/oauth2/end-session")),
        "After end session the access token of the ended session is refused at userinfo",
        "after end session, the access token issued in the ended session is refused",
    );
    invalid_scope_error_without_the_issuer(
        drop_from_authorize_redirect("error=invalid_scope", "iss"),
        "The invalid_scope error response names the issuer",
        "error response carries iss",
    );
    unsupported_response_type_error_without_the_issuer(
        // The error of a fragment-mode response type comes in the fragment: drop iss there.
        on_authorize_redirect("error=unsupported_response_type", |_, resp| {
            set_location(resp, |location| match location.split_once('#') {
                Some((head, fragment)) => {
                    let kept: Vec<(String, String)> =
                        url::form_urlencoded::parse(fragment.as_bytes())
                            .into_owned()
                            .filter(|(n, _)| n != "iss")
                            .collect();
                    let fragment = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(&kept)
                        .finish();
                    format!("{head}#{fragment}")
                }
                None => drop_param("iss")(location),
            });
        }),
        "The unsupported_response_type error response names the issuer",
        "error response carries iss",
    );
    refresh_id_token_for_another_subject(
        // Like `resign_id_tokens`, but only the ID token of a refresh answer changes its sub.
        {
            let resign_all = resign_id_tokens(|claims| {
                claims.insert("sub".into(), json!("ba-harness-someone-else"));
            });
            let hook = resign_all.on_response.clone().unwrap();
            Flaw::response(move |req, resp| {
                let is_code_exchange = is(req, "/oauth2/token")
                    && form_value(req, "grant_type").as_deref() != Some("refresh_token");
                if !is_code_exchange {
                    hook(req, resp);
                }
            })
        },
        "An ID token issued at refresh keeps the original's identity",
        "ID token issued at refresh keeps the original's iss, sub and aud",
    );
    authorize_that_drops_none_from_a_combined_prompt(
        // The proxy keeps only the other value: the server asks for consent and issues a code.
        on_authorize_query(|q| {
            rewrite_param(q, "prompt", |v| {
                let values: Vec<&str> = v.split(' ').collect();
                (values.len() > 1).then(|| {
                    let kept: Vec<&str> = values.into_iter().filter(|p| *p != "none").collect();
                    kept.join(" ")
                })
            })
        }),
        "Authorize with prompt=none combined with consent is an error, never a code",
        "prompt=none combined with another prompt value",
    );
    introspection_that_reports_revoked_tokens_active(
        // The proxy remembers every token sent for revocation and answers their introspection
        // itself, as a server whose introspection forgot about revocation would.
        {
            let revoked: Arc<Mutex<HashSet<String>>> = Arc::default();
            Flaw::request(move |req| {
                let token = form_value(req, "token")?;
                if is(req, "/oauth2/revoke") {
                    revoked.lock().unwrap().insert(token);
                    return None;
                }
                (is(req, "/oauth2/introspect") && revoked.lock().unwrap().contains(&token))
                    .then(|| {
                        json_response(
                            200,
                            json!({"active": true, "token_type": "Bearer", "sub": "ba-harness-zombie"}),
                        )
                    })
            })
        },
        "A revoked access token is reported inactive by introspection",
        "reported inactive by introspection",
    );
}

// ---------------------------------------------------------------------------------------------
// The metadata documents, the password grant, an unknown token's revocation
// (features/oauth-consistency.feature)

mutating_proxy::proxy_tests! {
    breaks:
    discovery_served_as_html(
        served_as("/.well-known/openid-configuration", "text/html; charset=utf-8"),
        "The discovery document is served as application/json",
        "Content-Type application/json",
    );
    discovery_without_subject_types(
        discovery_without("subject_types_supported"),
        "The discovery document lists subject_types_supported",
        "subject_types_supported",
    );
    discovery_scopes_without_openid(
        on_discovery(|doc| doc["scopes_supported"] = json!(["profile", "email"])),
        "The discovery document's scopes_supported names openid",
        "names openid",
    );
    discovery_with_an_empty_list(
        on_discovery(|doc| doc["claims_locales_supported"] = json!([])),
        "The discovery document has no empty lists",
        "leaves out members with empty lists",
    );
    discovery_without_rs256(
        // The 1.7.5 reference lists EdDSA only (a known deviation, matched on its exact text): the
        // flaw lists another alg without RS256, so the failure is not the listed one.
        on_discovery(|doc| doc["id_token_signing_alg_values_supported"] = json!(["ES256"])),
        "The discovery document includes RS256 among the ID token signing algorithms",
        "includes RS256",
    );
    rfc8414_metadata_with_another_issuer(
        Flaw::response(|req, resp| {
            if req
                .path_only()
                .contains("/.well-known/oauth-authorization-server")
                && resp.status == 200
            {
                edit_json(resp, |doc| {
                    doc["issuer"] = json!("http://evil.example/api/auth");
                });
            }
        }),
        "The RFC 8414 metadata names the same issuer as the OpenID discovery document",
        "names the same issuer as the OpenID discovery document",
    );
    revocation_that_reports_unknown_tokens(
        // 1.7.5 answers 400 invalid_request itself (a known deviation, matched on its exact text):
        // the flaw answers another error, so the failure is not the listed one.
        Flaw::request(|req| {
            (is(req, "/oauth2/revoke")
                && form_value(req, "token")
                    .is_some_and(|t| t.starts_with("ba-harness-unknown-token")))
            .then(|| {
                json_response(
                    400,
                    json!({"error": "invalid_token", "error_description": "unknown token"}),
                )
            })
        }),
        "Revoking a token the server never issued is answered with 200",
        "never issued is answered with 200",
    );
    token_endpoint_that_serves_the_password_grant(
        Flaw::request(|req| {
            (is(req, "/oauth2/token")
                && form_value(req, "grant_type").as_deref() == Some("password"))
            .then(|| {
                json_response(
                    200,
                    json!({"access_token": "ba-harness-proxy-access-token", "token_type": "Bearer", "expires_in": 3600}),
                )
            })
        }),
        "The token endpoint refuses the password grant",
        "refuses the password grant",
    );
    introspection_that_names_another_subject(
        Flaw::response(|req, resp| {
            if is(req, "/oauth2/introspect") && resp.status == 200 {
                edit_json(resp, |body| {
                    if body.get("active") == Some(&Value::Bool(true)) {
                        body["sub"] = json!("ba-harness-someone-else");
                    }
                });
            }
        }),
        "Introspection describes a live access token truthfully",
        "the token's (RFC 7662 §2.2)",
    );
}
