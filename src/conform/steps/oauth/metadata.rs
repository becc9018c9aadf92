//! The metadata documents themselves (OIDC Discovery §3-§4, RFC 8414 §3), and grants and
//! revocations that need no user: the password grant is gone (OAuth 2.1 §10), and revoking a
//! token the server never issued still answers 200 (RFC 7009 §2.2).

use super::lifetimes::revoke_as;
use super::*;
use crate::protocol::oauth::{
    authorization_server_metadata_url, check_no_empty_lists, check_rs256_listed,
    check_scopes_name_openid, check_subject_types,
};

pub(super) const RULE_JSON_DOCUMENT: &str = "the discovery document is answered with 200 and Content-Type application/json (OIDC Discovery §4.2)";
const RULE_SUBJECT_TYPES: &str =
    "the discovery document lists subject_types_supported (OIDC Discovery §3: REQUIRED)";
const RULE_SCOPES_OPENID: &str =
    "when the discovery document lists scopes_supported, it names openid (OIDC Discovery §3)";
const RULE_NO_EMPTY_LISTS: &str =
    "the discovery document leaves out members with empty lists (OIDC Discovery §3)";
const RULE_RS256: &str = "the discovery document includes RS256 in id_token_signing_alg_values_supported (OIDC Discovery §3)";
const RULE_RFC8414_ISSUER: &str = "the RFC 8414 authorization server metadata names the same issuer as the OpenID discovery document (RFC 8414 §3.3)";
pub(super) const RULE_UNKNOWN_REVOCATION: &str = "revoking a token the server never issued is answered with 200, revealing nothing (RFC 7009 §2.2)";
pub(super) const RULE_PASSWORD_GRANT: &str = "the token endpoint refuses the password grant with a JSON error and no token (OAuth 2.1 §10, RFC 9700 §2.4)";

/// The last answer as the raw discovery JSON (200 and JSON are another scenario's rule).
fn raw_document(world: &mut AuthWorld) -> Result<Value, StepFailure> {
    let exchange = world.last_exchange()?;
    match exchange.json() {
        Ok(doc) if exchange.status == 200 => Ok(doc),
        _ => Err(world.fail_on(
            &precondition("the discovery document is served as JSON"),
            "HTTP 200 with a JSON object",
            format!("HTTP {}", exchange.status),
            Some(exchange.excerpt()),
        )),
    }
}

#[then("the discovery document lists subject_types_supported")]
async fn discovery_subject_types(world: &mut AuthWorld) -> StepResult {
    let doc = raw_document(world)?;
    check_subject_types(&doc).map_err(|e| {
        world.fail(
            RULE_SUBJECT_TYPES,
            "subject_types_supported with at least one value",
            e,
        )
    })
}

#[then("the discovery document's scopes_supported names openid")]
async fn discovery_scopes_openid(world: &mut AuthWorld) -> StepResult {
    let doc = raw_document(world)?;
    check_scopes_name_openid(&doc)
        .map_err(|e| world.fail(RULE_SCOPES_OPENID, "scopes_supported with \"openid\"", e))
}

#[then("the discovery document has no empty lists")]
async fn discovery_no_empty_lists(world: &mut AuthWorld) -> StepResult {
    let doc = raw_document(world)?;
    check_no_empty_lists(&doc)
        .map_err(|e| world.fail(RULE_NO_EMPTY_LISTS, "no member with an empty list", e))
}

#[then("the discovery document includes RS256 among the ID token signing algorithms")]
async fn discovery_rs256(world: &mut AuthWorld) -> StepResult {
    judge_discovery(
        world,
        RULE_RS256,
        "\"RS256\" in id_token_signing_alg_values_supported",
        check_rs256_listed,
    )
}

#[when("the OAuth client fetches the RFC 8414 authorization server metadata")]
async fn fetch_rfc8414(world: &mut AuthWorld) -> StepResult {
    let d = discovery(world).await?;
    let rule = precondition("the RFC 8414 metadata URL can be built from the issuer");
    let url = authorization_server_metadata_url(&d.issuer)
        .map_err(|e| world.fail(&rule, "an issuer URL", e))?;
    let request = request_to(world, &url, &rule)?;
    send(world, request.cookies(CookieChoice::None))
        .await
        .map(|_| ())
}

#[then("the authorization server metadata names the same issuer as the OpenID discovery document")]
async fn rfc8414_issuer(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_RFC8414_ISSUER;
    let exchange = world.last_exchange()?;
    // RFC 8414 metadata is optional, and Better Auth leaves serving it to the app (the
    // oauth-provider's oauthProviderAuthServerMetadata, mounted at the root well-known path): a
    // deployment without it breaks no rule, and the issuer rule has nothing to compare.
    if exchange.status == 404 {
        return Err(world.skip(format!(
            "the server publishes no RFC 8414 metadata ({} answered 404): the rule binds only \
             where it does (Better Auth: mount oauthProviderAuthServerMetadata at that path)",
            exchange.url
        )));
    }
    let metadata = discovery_in(world, &exchange, rule)?;
    let issuer = discovery(world).await?.issuer;
    if metadata.issuer == issuer {
        return Ok(());
    }
    Err(world.fail(
        rule,
        format!("issuer {issuer:?}"),
        format!("issuer {:?}", metadata.issuer),
    ))
}

#[when("the OAuth client revokes a token the server never issued")]
async fn revokes_unknown(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let token = format!("ba-harness-unknown-token-{}", world.random_string(24));
    revoke_as(world, &token, "refresh_token", &client.client_id)
        .await
        .map(|_| ())
}

#[when("the OAuth client asks the token endpoint for a password grant")]
async fn password_grant(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let password = format!("pw-{}", world.random_string(20));
    world.secrets().register_with_form_encoding(&password);
    token_call(
        world,
        vec![
            ("grant_type".into(), "password".into()),
            (
                "username".into(),
                format!("nobody-{}@ba-harness.test", world.random_string(8)),
            ),
            ("password".into(), password),
            ("client_id".into(), client.client_id),
            ("scope".into(), "openid".into()),
        ],
    )
    .await
    .map(|_| ())
}
