//! Every scenario of features/oauth-authorize-{parameters,redirects,consent}.feature can fail:
//! the real reference behind a proxy that breaks exactly that scenario's rule, and the harness
//! must report the scenario failed on that rule. Where the pinned reference itself breaks the
//! rule (a listed known deviation), the test shows the three cases: the reference is the listed
//! deviation, a proxy that makes it keep the rule passes, and a server broken another way fails.

mod mutating_proxy;

use std::sync::{Arc, Mutex};

use mutating_proxy::{BrokenReference, Flaw, ProxyRequest, ProxyResponse};
use serde_json::{Value, json};

use mutating_proxy::oauth::*;

/// A valid S256 challenge (RFC 7636 appendix B).
const A_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A flaw on authorization requests: `f` may rewrite the query or answer by itself.
fn on_authorize(
    f: impl Fn(&mut Vec<(String, String)>) -> Option<ProxyResponse> + Send + Sync + 'static,
) -> Flaw {
    Flaw::request(move |req| {
        if !is(req, "/oauth2/authorize") {
            return None;
        }
        let mut answer = None;
        req.path = edit_query(&req.path, |q| answer = f(q));
        answer
    })
}

/// Leaves `name` out of a JSON request body.
fn drop_body_field(req: &mut ProxyRequest, name: &str) {
    if let Ok(mut body) = serde_json::from_slice::<Value>(&req.body)
        && let Some(fields) = body.as_object_mut()
    {
        fields.remove(name);
        req.body = serde_json::to_vec(&body).unwrap();
    }
}

fn has(q: &[(String, String)], name: &str) -> bool {
    q.iter().any(|(n, _)| n == name)
}

fn value_of(q: &[(String, String)], name: &str) -> String {
    q.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The server's answer at the client with `error` (and the request's state).
fn error_at_client(q: &[(String, String)], error: &str) -> ProxyResponse {
    let state = value_of(q, "state");
    let target = value_of(q, "redirect_uri");
    redirect_response(
        &with_query(&target, &[("error", error), ("state", &state)]),
        &[],
    )
}

/// A flaw on authorization error redirects to the client (Location with `error=`).
fn on_authorize_error(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/oauth2/authorize")
            && resp
                .header("location")
                .is_some_and(|l| l.contains("error="))
        {
            set_location(resp, &f);
        }
    })
}

fn status_of(run: &mutating_proxy::ConformRun, scenario: &str) -> String {
    run.scenario(scenario).unwrap()["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A scenario the pinned reference fails as a listed known deviation: it is that deviation on
/// the reference, passes once `keeps` makes the server keep the rule, and fails (not as the
/// deviation) on `broken`, a server that breaks the rule another way.
async fn deviation_then_kept_then_broken(scenario: &str, keeps: Flaw, broken: Flaw, rule: &str) {
    let reference = BrokenReference::start(Flaw::none(), &[]).await;
    let one = OneScenario::new(scenario);
    let run = run_oauth(&reference, Some(&one.dir), "@oauth-provider").await;
    assert_eq!(status_of(&run, scenario), "deviation", "{}", run.output);
    reference.proxy.set_flaw(keeps);
    let run = run_oauth(&reference, Some(&one.dir), "@oauth-provider").await;
    assert_eq!(status_of(&run, scenario), "passed", "{}", run.output);
    reference.proxy.set_flaw(broken);
    assert_breaks(&reference, scenario, rule).await;
    reference.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// features/oauth-authorize-parameters.feature

mutating_proxy::proxy_tests! {
    breaks:
    discovery_with_a_fragment_in_the_authorization_endpoint(
        on_discovery(|doc| {
            let endpoint = doc["authorization_endpoint"].as_str().unwrap().to_string();
            doc["authorization_endpoint"] = json!(format!("{endpoint}#login"));
        }),
        "The discovery document's authorization endpoint carries no fragment",
        "carries no fragment component",
    );
    authorize_that_takes_an_empty_code_challenge_for_one(
        on_authorize(|q| {
            rewrite_param(q, "code_challenge", |v| v.is_empty().then(|| A_CHALLENGE.into()));
            None
        }),
        "Authorize with an empty code_challenge is refused as one without it",
        "error=invalid_request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_that_refuses_an_empty_prompt() {
    // The reference refuses prompt= as an invalid prompt: the listed deviation. Keeping the rule:
    // the empty prompt is left out. Broken another way: it ends on the server's error page.
    let keeps = on_authorize(|q| {
        q.retain(|(n, v)| !(n == "prompt" && v.is_empty()));
        None
    });
    let broken = on_authorize(|q| {
        (has(q, "prompt") && value_of(q, "prompt").is_empty())
            .then(|| redirect_response("/api/auth/error?error=server_error", &[]))
    });
    deviation_then_kept_then_broken(
        "Authorize with an empty prompt goes on as without prompt",
        keeps,
        broken,
        "treated as if it were omitted",
    )
    .await;
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_refuses_an_unknown_parameter(
        on_authorize(|q| {
            has(q, "ba_harness_unknown").then(|| error_at_client(q, "invalid_request"))
        }),
        "Authorize with a parameter the server does not know still issues a code",
        "the server does not know is ignored",
    );
    authorize_that_takes_the_first_of_a_repeated_state(
        on_authorize(|q| {
            let mut seen = false;
            q.retain(|(n, _)| n != "state" || !std::mem::replace(&mut seen, true));
            None
        }),
        "Authorize with the state sent twice is refused, never with a code",
        "sent more than once",
    );
    authorize_that_refuses_a_missing_scope_with_invalid_request(
        on_authorize(|q| (!has(q, "scope")).then(|| error_at_client(q, "invalid_request"))),
        "Authorize without a scope gets a default scope or invalid_scope",
        "request without scope",
    );
    authorize_that_fills_in_a_missing_response_type(
        on_authorize(|q| {
            if !has(q, "response_type") {
                q.push(("response_type".into(), "code".into()));
            }
            None
        }),
        "Authorize without a response_type answers invalid_request to the client",
        "misses a required parameter",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    authorize_that_fills_in_a_missing_redirect_uri(
        |broken| {
            let registered = broken.server.ready.redirect_uri.clone().unwrap();
            on_authorize(move |q| {
                if !has(q, "redirect_uri") {
                    q.push(("redirect_uri".into(), registered.clone()));
                }
                None
            })
        },
        "Authorize without a redirect_uri is refused, never with a code",
        "without redirect_uri (which OIDC requires)",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_answers_a_missing_challenge_with_access_denied(
        on_authorize_error(|l| l.replacen("error=invalid_request", "error=access_denied", 1)),
        "Authorize without a code_challenge answers invalid_request to the client",
        "misses a required parameter",
    );
    authorize_errors_with_a_quote_in_the_description(
        on_authorize_error(|l| {
            edit_query(l, |q| {
                rewrite_param(q, "error_description", |v| Some(format!("{v} \"quoted\"")))
            })
        }),
        "Authorization error responses use only the characters RFC 6749 allows",
        "printable ASCII without",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_that_shows_unauthorized_client_on_its_own_page() {
    // The reference answers on its error page: the listed deviation. Keeping the rule: the same
    // error at the client with the state. Broken another way: at the client without the state.
    let to_client = |keep_state: bool| {
        let sent: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let seen = Arc::clone(&sent);
        Flaw {
            on_request: Some(Arc::new(move |req| {
                if is(req, "/oauth2/authorize") {
                    *seen.lock().unwrap() = query(req);
                }
                None
            })),
            on_response: Some(Arc::new(move |req, resp| {
                let page = resp.header("location").unwrap_or_default();
                if is(req, "/oauth2/authorize") && page.contains("error=unauthorized_client") {
                    let mut q = sent.lock().unwrap().clone();
                    if !keep_state {
                        q.retain(|(n, _)| n != "state");
                    }
                    *resp = error_at_client(&q, "unauthorized_client");
                }
            })),
        }
    };
    deviation_then_kept_then_broken(
        "Authorize for a client registered without the code grant answers unauthorized_client to the client",
        to_client(true),
        to_client(false),
        "error=unauthorized_client and the state",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// features/oauth-authorize-redirects.feature

/// A server that matches redirect URIs loosely: a look-alike of the registered URI (anything
/// that starts like it, letter case aside) is served as the registered one, and the code then
/// goes to the look-alike the request named.
fn loose_redirect_matching(broken: &BrokenReference) -> Flaw {
    let registered = broken.server.ready.redirect_uri.clone().unwrap();
    let named: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&named);
    let registered_in_request = registered.clone();
    let swap = move |url: &str, look_alike: &str| {
        let (base, fragment) = look_alike
            .split_once('#')
            .map_or((look_alike, None), |(b, f)| (b, Some(f)));
        let moved = url.replacen(&registered, base, 1);
        fragment.map_or(moved.clone(), |f| format!("{moved}#{f}"))
    };
    Flaw {
        on_request: Some(Arc::new(move |req| {
            if is(req, "/oauth2/authorize") {
                let lower = registered_in_request.to_ascii_lowercase();
                req.path = edit_query(&req.path, |q| {
                    for (n, v) in q.iter_mut() {
                        if n == "redirect_uri"
                            && *v != registered_in_request
                            && v.to_ascii_lowercase().starts_with(&lower)
                        {
                            *seen.lock().unwrap() = Some(v.clone());
                            *v = registered_in_request.clone();
                        }
                    }
                });
            }
            None
        })),
        on_response: Some(Arc::new(move |req, resp| {
            let Some(look_alike) = named.lock().unwrap().clone() else {
                return;
            };
            if is(req, "/oauth2/consent") {
                edit_json_url(resp, |url| swap(url, &look_alike));
            }
            if is(req, "/oauth2/authorize") {
                set_location(resp, |url| swap(url, &look_alike));
            }
        })),
    }
}

mutating_proxy::proxy_tests! {
    breaks_with:
    authorize_that_matches_redirect_uris_loosely(
        loose_redirect_matching,
        "Authorize with a look-alike of the registered redirect_uri never reaches it, through login and consent",
        "exact string comparison",
    );
    authorize_that_ignores_a_redirect_uri_fragment(
        loose_redirect_matching,
        "Authorize with the registered redirect_uri plus a fragment never reaches it, through login and consent",
        "with a fragment is never a redirect target",
    );
    authorize_that_regrants_a_look_alike_redirect_uri_at_once(
        loose_redirect_matching,
        "A repeated authorization for a look-alike redirect_uri is not granted without the user",
        "granted without the user only to the client proven",
    );
}

// ---------------------------------------------------------------------------------------------
// features/oauth-authorize-consent.feature

mutating_proxy::proxy_tests! {
    breaks_with:
    consent_that_trusts_any_origin(
        |broken| {
            let own = broken.proxy.url.clone();
            Flaw::request(move |req| {
                if is(req, "/oauth2/consent") {
                    req.set_header("origin", &own);
                }
                None
            })
        },
        "A consent posted from another origin grants nothing",
        "protected against CSRF",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    consent_that_grants_every_requested_scope(
        Flaw::request(|req| {
            if is(req, "/oauth2/consent") {
                drop_body_field(req, "scope");
            }
            None
        }),
        "A refresh token for offline_access is issued only after consent to offline_access",
        "only after the user consented to offline_access",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    consent_shared_between_clients(
        // Every client is served as the seeded one, whose consent the user has already given.
        |broken| {
            let seeded = seeded_client_id(broken);
            on_authorize(move |q| {
                rewrite_param(q, "client_id", |_| Some(seeded.clone()));
                None
            })
        },
        "Consent given to one client is not reused for another client",
        "consent to one client is never reused",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    client_creation_that_records_a_scope_it_does_not_enforce(
        // The server is told no scope (so it allows every one) but answers as if it kept "openid".
        Flaw {
            on_request: Some(Arc::new(|req| {
                if is(req, "/oauth2/create-client") {
                    drop_body_field(req, "scope");
                }
                None
            })),
            on_response: Some(Arc::new(|req, resp| {
                if is(req, "/oauth2/create-client") {
                    edit_json(resp, |body| body["scope"] = json!("openid"));
                }
            })),
        },
        "A client registered for the openid scope only cannot obtain profile",
        "beyond the ones it was registered for",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_request_for_another_subject() {
    // The reference answers for the signed-in user: the listed deviation. Keeping the rule: a
    // request naming a sub is answered login_required. Broken another way: it is answered with a
    // page that is neither a code nor an error.
    let names_a_sub = |q: &[(String, String)]| value_of(q, "claims").contains("\"sub\"");
    let keeps = on_authorize(move |q| names_a_sub(q).then(|| error_at_client(q, "login_required")));
    let broken = on_authorize(move |q| {
        names_a_sub(q).then(|| redirect_response("/ba-harness-somewhere-else", &[]))
    });
    deviation_then_kept_then_broken(
        "Authorize with a claims request for another subject issues no code for the signed-in user",
        keeps,
        broken,
        "answers positively only for that End-User",
    )
    .await;
}

mutating_proxy::proxy_tests! {
    breaks:
    authorize_that_takes_an_id_token_hint_for_a_session(
        // The proxy remembers the user's cookies from an earlier authorization and, when a request
        // without cookies carries an id_token_hint, signs it in with them: the hint authenticates.
        {
            let cookies: Arc<Mutex<Option<String>>> = Arc::default();
            Flaw::request(move |req: &mut ProxyRequest| {
                if !is(req, "/oauth2/authorize") {
                    return None;
                }
                match req.header("cookie").map(str::to_string) {
                    Some(c) => *cookies.lock().unwrap() = Some(c),
                    None if query_value(req, "id_token_hint").is_some() => {
                        if let Some(c) = cookies.lock().unwrap().clone() {
                            req.set_header("cookie", &c);
                        }
                    }
                    None => {}
                }
                None
            })
        },
        "Authorize with a forged id_token_hint and no session issues no code",
        "authenticates no one",
    );
}

// ---------------------------------------------------------------------------------------------
// features/oauth-authorize-client-authentication.feature

/// The claims of the client assertion an introspection request carries (not verified).
fn assertion_claims(req: &ProxyRequest) -> Value {
    use base64::Engine as _;
    form_value(req, "client_assertion")
        .and_then(|jwt| jwt.split('.').nth(1).map(str::to_string))
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// Which refused assertions a broken server takes: (what, does it take this one).
type Overlook = fn(&Value, &str) -> bool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_that_overlooks_one_assertion_check() {
    // Each flaw turns the server's refusal of one kind of bad assertion into an authenticated
    // answer: a replayed jti, an expired one, one for another audience, one in another name.
    let scenario = "private_key_jwt client assertions are verified and single-use";
    let overlooks: [(&str, Overlook); 4] = [
        ("replay", |_, answer| answer.contains("already been used")),
        ("exp", |claims, _| {
            claims["exp"].as_i64().unwrap_or(i64::MAX) < now()
        }),
        ("aud", |claims, _| {
            claims["aud"].to_string().contains("another-server")
        }),
        ("iss", |claims, _| claims["iss"] != claims["sub"]),
    ];
    let broken = BrokenReference::start(Flaw::none(), &[]).await;
    for (what, takes) in overlooks {
        broken.proxy.set_flaw(Flaw::response(move |req, resp| {
            if is(req, "/oauth2/introspect")
                && resp.status != 200
                && takes(&assertion_claims(req), &resp.text())
            {
                *resp = json_response(200, json!({"active": false}));
            }
        }));
        eprintln!("flaw: the server overlooks {what}");
        assert_breaks(&broken, scenario, "single-use: a replayed assertion").await;
    }
    broken.server.stop().await;
}
