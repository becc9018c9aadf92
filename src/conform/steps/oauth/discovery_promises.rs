//! What the metadata documents promise, held against what the server does: listed grant types
//! are served and the others refused, omitted flags keep their defaults (response modes),
//! offered revocation and introspection endpoints are listed, keys say their use, and the ID
//! token names its key (OIDC Discovery §3, RFC 8414 §2, OIDC Core §10.1).

use super::*;
use crate::protocol::promises as promise;

const RULE_GRANTS: &str = "the token endpoint serves every grant type grant_types_supported lists (no unsupported_grant_type) and refuses the ones it leaves out with a JSON error and no token (OIDC Discovery §3)";
const RULE_RESPONSE_MODES: &str = "the authorization response uses a response_mode the document offers (response_modes_supported, by default query and fragment for a dynamic OP) when asked for it, and never one it leaves out (OIDC Discovery §3)";
const RULE_ENDPOINTS_LISTED: &str = "the metadata documents list revocation_endpoint and introspection_endpoint when the server offers them (RFC 8414 §2)";
const RULE_KEY_USE: &str = "when the JWKS holds both signing and encryption keys, every key says its use (OIDC Discovery §3)";
const RULE_KID: &str = "when the JWKS holds several keys, the ID token's header names its key with a kid the JWKS holds (OIDC Core §10.1)";

/// Better Auth's revocation and introspection paths under the issuer: where the server offers
/// them whether or not the documents say so.
const OFFERED_PATHS: [(&str, &str); 2] = [
    ("revocation_endpoint", "/oauth2/revoke"),
    ("introspection_endpoint", "/oauth2/introspect"),
];

/// The discovery document as raw JSON (fetched again: the cached `Discovery` keeps only what
/// the other steps use).
async fn raw_discovery(world: &mut AuthWorld) -> Result<Value, StepFailure> {
    discovery(world).await?;
    let exchange = fetch_discovery(world).await?;
    Ok(exchange.json().unwrap_or(Value::Null))
}

#[then(
    "the token endpoint serves the grant types the discovery document lists and refuses the others"
)]
async fn grants_as_listed(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_GRANTS;
    let client = client_config(world)?;
    let doc = raw_discovery(world).await?;
    let (served, refused) = promise::grant_probes(&promise::grant_types(&doc));
    for (grant, listed) in served
        .iter()
        .map(|g| (g, true))
        .chain(refused.iter().map(|g| (g, false)))
    {
        // Made-up credentials: only whether the grant type itself is served is judged.
        let made_up = format!("ba-harness-made-up-{}", world.random_string(16));
        world.secrets().register_with_form_encoding(&made_up);
        let form: Vec<(String, String)> = [
            ("grant_type", grant.as_str()),
            ("client_id", client.client_id.as_str()),
            ("code", made_up.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("code_verifier", made_up.as_str()),
            ("refresh_token", made_up.as_str()),
            ("device_code", made_up.as_str()),
            ("assertion", made_up.as_str()),
            ("subject_token", made_up.as_str()),
            ("username", "nobody@ba-harness.test"),
            ("password", made_up.as_str()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let answer = token_call(world, form).await?;
        let body = answer.json().unwrap_or(Value::Null);
        let verdict = if listed {
            promise::check_grant_served(grant, answer.status, &body)
        } else {
            crate::protocol::oauth::check_grant_refused(answer.status, &body)
                .map_err(|e| format!("grant_type {grant} is not listed, yet: {e}"))
        };
        if let Err(e) = verdict {
            let expected = if listed {
                format!("grant_type {grant} (listed) served: any answer but unsupported_grant_type")
            } else {
                format!("grant_type {grant} (not listed) refused with a 4xx JSON error")
            };
            return Err(world.fail(rule, expected, e));
        }
    }
    Ok(())
}

#[then("the authorization responses use the response modes the discovery document promises")]
async fn response_modes_as_promised(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_RESPONSE_MODES;
    let d = discovery(world).await?;
    let doc = raw_discovery(world).await?;
    let offered = promise::response_modes(&doc, d.registration_endpoint.is_some());
    let client = client_config(world)?;
    for mode in ["query", "fragment"] {
        let pkce = PkcePair::generate();
        let mut request = standard_request(world, &client, Some(&pkce));
        request
            .extra
            .push(("response_mode".into(), mode.to_string()));
        drive_authorization(world, request, Some(pkce)).await?;
        let hop = last_hop(world);
        let Some(Hop {
            hop: Some(AuthorizeHop::Client(params)),
            ..
        }) = hop.clone()
        else {
            // An unlisted mode may be refused on the server's own pages.
            if offered.iter().any(|m| m == mode) {
                let actual = hop.map(|h| describe_hop(&h)).unwrap_or_default();
                return Err(world.fail(
                    rule,
                    format!(
                        "response_mode={mode} (offered: {offered:?}) delivers the code that way"
                    ),
                    actual,
                ));
            }
            continue;
        };
        let fragment = params.with_fragment_params();
        for (name, value) in &fragment.params {
            if name == "code" {
                world.secrets().register_with_form_encoding(value);
            }
        }
        let in_fragment = fragment.all("code").len() > params.all("code").len();
        let delivered = promise::code_delivery(params.code().is_some(), in_fragment);
        let listed = offered.iter().any(|m| m == mode);
        promise::check_response_mode(mode, listed, delivered)
            .map_err(|e| world.fail(rule, format!("response modes as promised: {offered:?}"), e))?;
    }
    Ok(())
}

#[then("the metadata documents list the revocation and introspection endpoints the server offers")]
async fn offered_endpoints_listed(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ENDPOINTS_LISTED;
    let client = client_config(world)?;
    let d = discovery(world).await?;
    let oidc = raw_discovery(world).await?;
    let metadata_url = crate::protocol::oauth::authorization_server_metadata_url(&d.issuer)
        .map_err(|e| world.fail(&precondition("an issuer URL"), "a URL", e))?;
    let request = request_to(
        world,
        &metadata_url,
        &precondition("the RFC 8414 metadata URL"),
    )?;
    let rfc8414 = send(world, request.cookies(CookieChoice::None)).await?;
    let mut documents = vec![("the OpenID discovery document", oidc)];
    if rfc8414.status == 200
        && let Ok(doc) = rfc8414.json()
    {
        documents.push(("the RFC 8414 authorization server metadata", doc));
    }
    for (member, path) in OFFERED_PATHS {
        let url = format!("{}{path}", d.issuer.trim_end_matches('/'));
        let base = request_to(
            world,
            &url,
            &precondition("the issuer is on the target's origin"),
        )?;
        let token = format!("ba-harness-unknown-{}", world.random_string(16));
        let form = vec![
            ("token".to_string(), token),
            ("client_id".to_string(), client.client_id.clone()),
        ];
        let answer = send(world, form_post(base, form)).await?;
        // Offered: answered as an OAuth endpoint (200, or a JSON error), not 404/405.
        let offered = !matches!(answer.status, 404 | 405)
            && answer.status < 500
            && answer.json().is_ok_and(|b| b.is_object());
        if !offered {
            continue;
        }
        for (name, doc) in &documents {
            if doc.get(member).and_then(Value::as_str).is_none() {
                return Err(world.fail(
                    rule,
                    format!("`{member}` in {name}"),
                    format!(
                        "the server answers POST {path} as an OAuth endpoint (HTTP {}), and {name} leaves `{member}` out",
                        answer.status
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The JWKS at jwks_uri as raw JSON.
async fn raw_jwks(world: &mut AuthWorld, rule: &str) -> Result<Value, StepFailure> {
    let request = endpoint_request(world, "jwks_uri", |d| d.jwks_uri.clone()).await?;
    let exchange = send(world, request.cookies(CookieChoice::None)).await?;
    json_body(world, &exchange, rule)
}

#[then("every key of the JWKS says its use when the JWKS holds encryption keys")]
async fn keys_say_use(world: &mut AuthWorld) -> StepResult {
    let jwks = raw_jwks(world, RULE_KEY_USE).await?;
    match promise::check_key_use(&jwks) {
        Ok(true) => Ok(()),
        // Without an encryption key the rule does not bind: nothing was checked.
        Ok(false) => Err(world.skip(
            "the JWKS publishes no encryption key, and the key-use rule binds only when it does",
        )),
        Err(e) => Err(world.fail(RULE_KEY_USE, "`use` (sig or enc) on every key", e)),
    }
}

#[then("the ID token's header names its key with a kid the JWKS holds")]
async fn id_token_names_kid(world: &mut AuthWorld) -> StepResult {
    let (_, header, _, _, _) = current_id_token(world, RULE_KID)?;
    let jwks = raw_jwks(world, RULE_KID).await?;
    // One key: the rule does not bind, nothing to check.
    if promise::key_count(&jwks) < 2 {
        return Err(
            world.skip("the JWKS holds one key, and the kid rule binds only when it holds several")
        );
    }
    promise::check_kid_named(&header, &jwks).map_err(|e| {
        world.fail(
            RULE_KID,
            "a kid in the ID token's header, held by the JWKS",
            e,
        )
    })
}
