//! A confidential client (client_secret_post), registered once per run through the discovery
//! registration_endpoint (RFC 7591): only an authenticated client may introspect (RFC 7662
//! §2.1), so the "revoked means inactive" rule is judged with one.

use super::revocation::client_form_call;
use super::*;
use crate::protocol::oauth::{
    check_introspection_truthful, confidential_client_registration, introspection_active,
};

const RULE_INTROSPECTION_TRUTHFUL: &str = "introspection of a live access token answers a JSON object with active: true, and the client_id, sub, scope and exp it gives are the token's (RFC 7662 §2.2)";
const RULE_REVOKED_INACTIVE: &str = "a revoked access token is reported inactive by introspection (active: false) to the client it was issued to (RFC 7009 §2.1, RFC 7662 §2.2)";

/// Why introspection checks are skipped when no confidential client can be registered.
const CONFIDENTIAL_CLIENT_SKIP: &str = "needs a confidential OAuth client (introspection is for \
     authenticated clients, RFC 7662), registered through dynamic client registration, which \
     the target does not allow (oauthProvider allowDynamicClientRegistration)";

pub(super) async fn register_confidential_client(
    endpoint: crate::http::Endpoint,
    request: Request,
) -> Result<(String, String), super::clients::Refusal> {
    let (exchange, body) = super::clients::send_registration(endpoint, request).await?;
    let secret = body.get("client_secret").and_then(Value::as_str);
    match (body.get("client_id").and_then(Value::as_str), secret) {
        (Some(id), Some(secret))
            if matches!(exchange.status, 200 | 201) && !id.is_empty() && !secret.is_empty() =>
        {
            Ok((id.to_string(), secret.to_string()))
        }
        _ => Err((
            "HTTP 201 with a client_id and a client_secret (confidential dynamic registration)"
                .into(),
            describe_token_answer(exchange.status, &body),
            Some(exchange.excerpt()),
            Some(exchange.status),
        )),
    }
}

/// (client_id, client_secret) of a confidential client with the first one's redirect_uri.
pub(super) async fn confidential_client(
    world: &mut AuthWorld,
) -> Result<(String, String), StepFailure> {
    let rule = precondition(
        "a confidential OAuth client can be registered (dynamic client registration with client_secret_post)",
    );
    super::clients::registered_once(
        world,
        &rule,
        CONFIDENTIAL_CLIENT_SKIP,
        |run| &run.clients.confidential,
        |redirect_uri| {
            confidential_client_registration("ba-harness confidential client", redirect_uri)
        },
        register_confidential_client,
    )
    .await
}

#[given("the confidential OAuth client holds tokens for the user")]
async fn confidential_client_has_tokens(world: &mut AuthWorld) -> StepResult {
    let (id, secret) = confidential_client(world).await?;
    let mut client = client_config(world)?;
    client.client_id = id.clone();
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    drive_authorization(world, request, Some(pkce.clone())).await?;
    let code = require_code(
        world,
        "the confidential client's authorization returns a code",
    )?;
    let mut form = code_exchange_form(&code, &client.redirect_uri, &id, &pkce.verifier);
    form.push(("client_secret".into(), secret));
    let exchange = token_call(world, form).await?;
    keep_tokens(world, &exchange);
    let issues = "the confidential client's code exchange issues tokens";
    require_issued_tokens(world, &exchange, issues)
}

/// Introspects `token` as the confidential client.
pub(super) async fn introspect(
    world: &mut AuthWorld,
    token: &str,
) -> Result<Exchange, StepFailure> {
    let (id, secret) = confidential_client(world).await?;
    world.secrets().register_with_form_encoding(token);
    client_form_call(
        world,
        "introspection_endpoint",
        |d| d.introspection_endpoint.clone(),
        vec![
            ("token".into(), token.into()),
            ("token_type_hint".into(), "access_token".into()),
            ("client_id".into(), id),
            ("client_secret".into(), secret),
        ],
    )
    .await
}

#[when("the confidential client revokes its access token after introspection found it active")]
async fn confidential_revokes_live_token(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    // The live token must be reported active first: otherwise `active: false` later would
    // prove nothing (the caller may simply not see it).
    let before = introspect(world, &tokens.access_token).await?;
    let body = before.json().unwrap_or(Value::Null);
    if introspection_active(before.status, &body) != Ok(true) {
        return Err(world.fail_on(
            &precondition(
                "introspection by the confidential client reports its live access token active",
            ),
            "HTTP 200 with active: true",
            describe_token_answer(before.status, &body),
            Some(before.excerpt()),
        ));
    }
    let (id, secret) = confidential_client(world).await?;
    let mut form = revocation_form(&tokens.access_token, "access_token", &id);
    form.push(("client_secret".into(), secret));
    let answer = client_form_call(
        world,
        "revocation_endpoint",
        |d| d.revocation_endpoint.clone(),
        form,
    )
    .await?;
    world.oauth.revocation = Some(answer);
    Ok(())
}

#[then("introspection reports the revoked access token inactive")]
async fn revoked_token_inactive(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_REVOKED_INACTIVE;
    let (tokens, _) = current_tokens(world)?;
    let answer = introspect(world, &tokens.access_token).await?;
    let body = answer.json().unwrap_or(Value::Null);
    match introspection_active(answer.status, &body) {
        Ok(false) => Ok(()),
        Ok(true) => Err(world.fail(
            rule,
            "HTTP 200 with active: false",
            format!(
                "active: true after the revocation (which answered HTTP {})",
                world
                    .oauth
                    .revocation
                    .as_ref()
                    .map(|r| r.status)
                    .unwrap_or_default()
            ),
        )),
        Err(e) => Err(world.fail(rule, "HTTP 200 with active: false", e)),
    }
}

#[then("introspection describes the confidential client's live access token truthfully")]
async fn introspection_truthful(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_INTROSPECTION_TRUTHFUL;
    let (id, _) = confidential_client(world).await?;
    let (_, _, claims, tokens, _) = current_id_token(world, rule)?;
    let answer = introspect(world, &tokens.access_token).await?;
    require_token_answer_ok(world, &answer, rule, "HTTP 200 with active: true")?;
    let body = answer.json().unwrap_or(Value::Null);
    let granted = tokens.scope.clone().unwrap_or_else(|| SCOPE.to_string());
    let sub = claims.sub.clone().unwrap_or_default();
    check_introspection_truthful(&body, &id, &sub, &granted, now()).map_err(|e| {
        world.fail(
            rule,
            format!(
                "active: true, client_id {id:?}, sub {sub:?}, scope within {granted:?}, a live exp"
            ),
            e,
        )
    })
}
