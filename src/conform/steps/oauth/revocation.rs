//! Revocation and introspection (RFC 7009, RFC 7662).

use super::*;

pub(super) use super::shared::client_form_call;

#[when("the OAuth client revokes the refresh token")]
async fn revokes_refresh(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let refresh = current_refresh_token(world, OFFLINE_ACCESS)?;
    world.secrets().register_with_form_encoding(&refresh);
    let answer = client_form_call(
        world,
        "revocation_endpoint",
        |d| d.revocation_endpoint.clone(),
        revocation_form(&refresh, "refresh_token", &client.client_id),
    )
    .await?;
    world.oauth.revoked_refresh_token = Some(refresh);
    world.oauth.revocation = Some(answer);
    Ok(())
}

#[then("the token endpoint refuses the revoked refresh token with invalid_grant")]
async fn refuses_revoked(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_REVOKED_REFRESH;
    super::lifetimes::require_revocation_ok(world, rule)?;
    expect_invalid_grant(world, rule)
}

#[when("the OAuth client introspects the access token with only its client_id")]
async fn introspects_without_credentials(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, _) = current_tokens(world)?;
    world
        .secrets()
        .register_with_form_encoding(&tokens.access_token);
    client_form_call(
        world,
        "introspection_endpoint",
        |d| d.introspection_endpoint.clone(),
        introspection_form(&tokens.access_token, &client.client_id),
    )
    .await
    .map(|_| ())
}
