//! The issue-15 OAuth scenarios (dynamic registration, discovery promises, UserInfo and
//! subjects, logout bound to its client) can fail: the real reference behind a proxy that
//! breaks exactly one rule, and the harness must report the scenario failed on that rule.
//! Each test boots its own reference and runs only its own scenario.

mod mutating_proxy;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mutating_proxy::{Flaw, ProxyRequest, ProxyResponse};
use serde_json::{Value, json};

use mutating_proxy::oauth::*;

// ---------------------------------------------------------------------------------------------
// Helpers

const REGISTER: &str = "/oauth2/register";
const END_SESSION: &str = "/oauth2/end-session";

/// A flaw on registration answers.
fn on_registration(f: impl Fn(&mut ProxyResponse) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, REGISTER) {
            f(resp);
        }
    })
}

/// Registration answers leave out their member `name`.
fn registration_answer_without(name: &'static str) -> Flaw {
    on_registration(move |resp| {
        edit_json(resp, |body| {
            body.as_object_mut().unwrap().remove(name);
        })
    })
}

/// Rewrites the JSON body of registration requests.
fn edit_registration_request(req: &mut ProxyRequest, f: impl FnOnce(&mut Value)) {
    if is(req, REGISTER)
        && let Ok(mut body) = serde_json::from_slice::<Value>(&req.body)
    {
        f(&mut body);
        req.body = serde_json::to_vec(&body).unwrap();
    }
}

/// A flaw that drops `member` from every registration request (the server then registers
/// what it would have refused, or ignores what it was asked).
fn dropping_registration_member(member: &'static str) -> impl Fn(&mut ProxyRequest) {
    move |req| {
        edit_registration_request(req, |body| {
            if let Some(o) = body.as_object_mut() {
                o.remove(member);
            }
        })
    }
}

/// A flaw answering end-session requests for which `decide` names a redirect target with a
/// redirect there (a server that redirects where it must not).
fn end_session_redirecting(
    decide: impl Fn(&[(String, String)]) -> Option<String> + Send + Sync + 'static,
) -> Flaw {
    Flaw::request(move |req| {
        if !is(req, END_SESSION) {
            return None;
        }
        let mut params = query(req);
        params.extend(form(req));
        decide(&params).map(|target| redirect_response(&target, &[]))
    })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The post_logout_redirect_uri with the request's state, as a redirect target.
fn logout_target(params: &[(String, String)]) -> Option<String> {
    let uri = param(params, "post_logout_redirect_uri")?;
    Some(with_query(
        uri,
        &[("state", param(params, "state").unwrap_or(""))],
    ))
}

/// The `aud` of a JWT's payload (unverified).
fn audience(jwt: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    match &claims["aud"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The JWT with `kid` removed from its header (the signature no longer matters to the check).
fn without_kid(jwt: &str) -> String {
    let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
    let header = URL_SAFE_NO_PAD.decode(&parts[0]).expect("a header");
    let mut header: Value = serde_json::from_slice(&header).expect("a JSON header");
    header.as_object_mut().unwrap().remove("kid");
    parts[0] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    parts.join(".")
}

/// A flaw adding `key` to the JWKS and applying `others` to the keys it already had.
fn jwks_with(key: Value, others: impl Fn(&mut Value) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/jwks") && resp.status == 200 {
            edit_json(resp, |jwks| {
                if let Some(keys) = jwks["keys"].as_array_mut() {
                    keys.iter_mut().for_each(&others);
                    keys.push(key.clone());
                }
            });
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Dynamic client registration

mutating_proxy::proxy_tests! {
    breaks:
    registration_answering_200(
        status_swapped(REGISTER, 201, 200),
        "A registration by JSON POST answers 201 with the client_id",
        "answered 201 Created",
    );
    registration_answer_without_redirect_uris(
        registration_answer_without("redirect_uris"),
        "The registration answer lists the metadata registered",
        "lists every metadata member registered",
    );
    registration_refusing_unknown_members(
        Flaw::request(|req| {
            let unknown = is(req, REGISTER)
                && String::from_utf8_lossy(&req.body).contains("ba_harness_unknown_member");
            unknown.then(|| json_response(400, json!({"error": "invalid_client_metadata"})))
        }),
        "Registration ignores client metadata it does not define",
        "does not understand are ignored",
    );
    registration_secret_without_expiry(
        registration_answer_without("client_secret_expires_at"),
        "A registration that issues a client_secret says when it expires",
        "carries client_secret_expires_at",
    );
    registration_keeping_a_fragment_uri(
        // The server registers the URI with its fragment cut off instead of refusing it.
        Flaw::request(|req| {
            edit_registration_request(req, |body| {
                if let Some(uris) = body["redirect_uris"].as_array_mut() {
                    for uri in uris.iter_mut() {
                        let cut = uri.as_str().unwrap_or_default().split('#').next().unwrap();
                        *uri = Value::String(cut.to_string());
                    }
                }
            });
            None
        }),
        "Registration refuses a redirect URI with a fragment",
        "with a fragment, or one that is not absolute",
    );
    registration_refusing_a_relative_uri_with_403(
        status_swapped(REGISTER, 400, 403),
        "Registration refuses a redirect URI that is not absolute",
        "with a fragment, or one that is not absolute",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    registered_skip_consent_honoured(
        // The server accepts skip_consent (the proxy drops it so the real one registers) and then
        // sends the new client's user straight back with a code instead of to the consent page.
        |broken| {
            let seeded = broken.server.ready.client_id.clone().unwrap_or_default();
            let strip = dropping_registration_member("skip_consent");
            let request = Flaw::request(move |req| {
                strip(req);
                None
            });
            let response = Flaw::response(move |req, resp| {
                let client = query_value(req, "client_id").unwrap_or_default();
                if !is(req, "/oauth2/authorize") || client == seeded {
                    return;
                }
                let redirect_uri = query_value(req, "redirect_uri").unwrap_or_default();
                let state = query_value(req, "state").unwrap_or_default();
                let location = with_query(
                    &redirect_uri,
                    &[("code", "proxy-made-code"), ("state", &state)],
                );
                *resp = redirect_response(&location, &[]);
            });
            Flaw::joined(request, response)
        },
        "A client that registers skip_consent still needs the user's consent",
        "self-asserted",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    unauthenticated_registration_accepted_while_public_clients_are_off(
        on_discovery(|doc| {
            if let Some(methods) = doc["token_endpoint_auth_methods_supported"].as_array_mut() {
                methods.retain(|m| m != "none");
            }
        }),
        "Registration without a session is refused when unauthenticated registration is off",
        "allowUnauthenticatedClientRegistration is on, registering",
    );
    registration_served_while_dynamic_registration_is_off(
        discovery_without("registration_endpoint"),
        "The registration path registers nothing when dynamic registration is off",
        "allowDynamicClientRegistration is on",
    );
}

// ---------------------------------------------------------------------------------------------
// Discovery promises

const GRANTS: &str =
    "The token endpoint serves the grant types the discovery document lists and no others";

/// A flaw answering token requests of `grant` by itself.
fn token_grant_answered(grant: &'static str, answer: fn() -> ProxyResponse) -> Flaw {
    Flaw::request(move |req| {
        (is(req, "/oauth2/token") && form_value(req, "grant_type").as_deref() == Some(grant))
            .then(answer)
    })
}

mutating_proxy::proxy_tests! {
    breaks:
    listed_grant_type_unsupported(
        token_grant_answered("client_credentials", || {
            json_response(400, json!({"error": "unsupported_grant_type"}))
        }),
        GRANTS, "serves every grant type"
    );
    unlisted_grant_type_served(
        token_grant_answered("urn:ietf:params:oauth:grant-type:device_code", || {
            json_response(
                200,
                json!({"access_token": "proxy-made-token", "token_type": "Bearer"}),
            )
        }),
        GRANTS, "refuses the ones it leaves out"
    );
    response_modes_left_out_without_fragment_support(
        // Left out, the list means query and fragment for a dynamic OP; the reference answers a
        // response_mode=fragment request in the query.
        discovery_without("response_modes_supported"),
        "The authorization response keeps the response modes stated or defaulted",
        "response_mode the document offers",
    );
    revocation_endpoint_not_listed(
        discovery_without("revocation_endpoint"),
        "The metadata documents list the revocation and introspection endpoints offered",
        "revocation_endpoint and introspection_endpoint when the server offers them",
    );
    encryption_key_next_to_signing_keys_without_use(
        {
            let enc = json!({
                "kty": "RSA", "kid": "ba-harness-enc", "alg": "RSA-OAEP-256", "use": "enc",
                "e": "AQAB", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 256]),
            });
            jwks_with(enc, |key| {
                key.as_object_mut().unwrap().remove("use");
            })
        },
        "Every JWKS key says its use when encryption keys are published",
        "every key says its use",
    );
    id_token_without_kid_beside_a_second_key(
        {
            let second = json!({
                "kty": "OKP", "crv": "Ed25519", "x": PROXY_KEY_X, "kid": PROXY_KID, "alg": "EdDSA", "use": "sig"
            });
            let jwks = jwks_with(second, |_| {});
            let tokens = on_tokens(|_, resp| {
                edit_json(resp, |body| {
                    if let Some(id_token) = body["id_token"].as_str().map(without_kid) {
                        body["id_token"] = Value::String(id_token);
                    }
                })
            });
            Flaw::response(move |req, resp| {
                for hook in [&jwks.on_response, &tokens.on_response]
                    .into_iter()
                    .flatten()
                {
                    hook(req, resp);
                }
            })
        },
        "The ID token names its key when the JWKS holds several keys",
        "names its key with a kid",
    );
}

// ---------------------------------------------------------------------------------------------
// UserInfo and subjects

mutating_proxy::proxy_tests! {
    breaks:
    userinfo_refusing_post(
        Flaw::request(|req| {
            (is(req, "/oauth2/userinfo") && req.method == "POST")
                .then(|| json_response(405, json!({"error": "method_not_allowed"})))
        }),
        "UserInfo answers a POST with the access token",
        "answers POST as well as GET",
    );
    userinfo_served_as_text(
        served_as("/oauth2/userinfo", "text/plain"),
        "UserInfo answers in application/json",
        "Content-Type application/json",
    );
    sub_longer_than_255_characters(
        resign_id_tokens(|claims| {
            claims.insert("sub".into(), Value::String("s".repeat(300)));
        }),
        "The ID token's sub is at most 255 ASCII characters",
        "at most 255 ASCII characters",
    );
}

mutating_proxy::proxy_tests! {
    breaks_with:
    public_sub_differing_between_clients(
        |broken| {
            let seeded = broken.server.ready.client_id.clone().unwrap_or_default();
            resign_id_tokens(move |claims| {
                if claims.get("aud") != Some(&Value::String(seeded.clone())) {
                    claims.insert("sub".into(), json!("ba-harness-other-sub"));
                }
            })
        },
        "Two public clients see the same sub for the same user",
        "every client sees the same sub",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairwise_offered_but_ignored() {
    // Discovery offers pairwise; registration drops subject_type, so both clients are public.
    let strip = dropping_registration_member("subject_type");
    let request = Flaw::request(move |req| {
        strip(req);
        None
    });
    let response =
        on_discovery(|doc| doc["subject_types_supported"] = json!(["public", "pairwise"]));
    breaks(
        Flaw::joined(request, response),
        "Pairwise clients of different sectors see different subs",
        "different subs",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// RP-initiated logout bound to its client

mutating_proxy::proxy_tests! {
    breaks:
    end_session_refusing_post(
        Flaw::request(|req| {
            (is(req, END_SESSION) && req.method == "POST")
                .then(|| json_response(405, json!({"error": "method_not_allowed"})))
        }),
        "End session accepts a form POST",
        "accepts a form POST",
    );
    end_session_ignoring_client_id_mismatch(
        // The server trusts client_id over the hint's audience and redirects at once.
        end_session_redirecting(|params| {
            let client_id = param(params, "client_id")?;
            let aud = audience(param(params, "id_token_hint")?)?;
            (aud != client_id).then(|| logout_target(params)).flatten()
        }),
        "End session does not act on a hint issued to another client than client_id names",
        "checks that the hint was issued to that client",
    );
    end_session_redirecting_to_another_clients_uri(
        end_session_redirecting(|params| {
            param(params, "post_logout_redirect_uri")?
                .contains("other-client")
                .then(|| logout_target(params))
                .flatten()
        }),
        "End session never redirects to another client's post_logout_redirect_uri",
        "registered only for another client",
    );
    end_session_without_hint_redirecting_after_confirmation(
        // No hint: a confirmation page whose form, once submitted, redirects to the URI anyway.
        Flaw::request(|req| {
            if is(req, "/oauth2/end-session/confirm") {
                let target = form_value(req, "post_logout_redirect_uri")?;
                return Some(redirect_response(&target, &[]));
            }
            let params = query(req);
            if !is(req, END_SESSION) || param(&params, "id_token_hint").is_some() {
                return None;
            }
            let target = logout_target(&params)?;
            let page = format!(
                r#"<!doctype html><form method="post" action="/api/auth/oauth2/end-session/confirm"><input type="hidden" name="post_logout_redirect_uri" value="{}"><button type="submit" name="action" value="confirm">Confirm</button></form>"#,
                target.replace('&', "&amp;")
            );
            Some(ProxyResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                body: page.into_bytes(),
            })
        }),
        "End session without an id_token_hint does not redirect",
        "without id_token_hint",
    );
}
