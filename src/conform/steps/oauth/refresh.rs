//! Refresh tokens: rotation and replay (RFC 6749 §6, OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

use super::*;

#[when("the OAuth client refreshes the tokens")]
async fn refreshes(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, exchange) = current_tokens(world)?;
    let Some(refresh) = tokens.refresh_token.clone() else {
        return Err(world.fail_on(
            &precondition("the code exchange issued a refresh token (offline_access)"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    let answer = token_call(world, refresh_form(&refresh, &client.client_id)).await?;
    world.oauth.rotated_refresh_token = Some(refresh);
    keep_tokens(world, &answer);
    Ok(())
}

#[when("the OAuth client presents the rotated refresh token again")]
async fn presents_rotated(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let Some(old) = world.oauth.rotated_refresh_token.clone() else {
        return Err(world.fail(
            &precondition("a refresh happened"),
            "a rotated refresh token",
            "none",
        ));
    };
    // The answer is judged by the Then step; a 200 here must not become the current token set.
    token_call(world, refresh_form(&old, &client.client_id))
        .await
        .map(|_| ())
}

#[when("the OAuth client refreshes with the newest refresh token")]
async fn refreshes_with_newest(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, exchange) = current_tokens(world)?;
    let Some(newest) = tokens.refresh_token.clone() else {
        return Err(world.fail_on(
            &precondition("the refresh returned a new refresh token"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    token_call(world, refresh_form(&newest, &client.client_id))
        .await
        .map(|_| ())
}

#[then("the token endpoint returns a new refresh token")]
async fn returns_new_refresh(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_REFRESH_ROTATES)?;
    let old = world
        .oauth
        .rotated_refresh_token
        .clone()
        .unwrap_or_default();
    match tokens.refresh_token {
        Some(new) if new != old => Ok(()),
        Some(_) => Err(world.fail(
            RULE_REFRESH_ROTATES,
            "a refresh_token different from the one presented",
            "the same refresh_token again",
        )),
        None => Err(world.fail(
            RULE_REFRESH_ROTATES,
            "a new refresh_token",
            "no refresh_token",
        )),
    }
}

#[then("the token endpoint refuses the rotated refresh token with invalid_grant")]
async fn refuses_rotated(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_ROTATED_REFUSED)
}

#[then("the token endpoint refuses the newest refresh token of the replayed family")]
async fn refuses_newest(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_FAMILY_REVOKED)
}
