//! Refresh tokens: rotation and replay (RFC 6749 §6, OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

use super::*;

#[when("the OAuth client refreshes the tokens")]
async fn refreshes(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let refresh = current_refresh_token(world, OFFLINE_ACCESS)?;
    let answer = token_call(world, refresh_form(&refresh, &client.client_id)).await?;
    world.oauth.rotated_refresh_token = Some(refresh);
    keep_tokens(world, &answer);
    Ok(())
}

/// A refresh token an earlier step kept: how to pick it, the step that kept it, and what it is.
type KeptRefresh = (
    fn(&OAuthState) -> Option<String>,
    &'static str,
    &'static str,
);

/// What follows "the OAuth client" → the kept refresh token it refreshes with.
const KEPT_REFRESH_TOKENS: &[(&str, KeptRefresh)] = &[
    (
        "presents the rotated refresh token again",
        (
            |o| o.rotated_refresh_token.clone(),
            "a refresh happened",
            "a rotated refresh token",
        ),
    ),
    (
        "refreshes with the revoked refresh token",
        (
            |o| o.revoked_refresh_token.clone(),
            "the client revoked its refresh token",
            "a revoked refresh token",
        ),
    ),
];

/// Refreshes with a refresh token an earlier step kept (see [`kept`]); the answer is judged by a
/// Then step.
#[when(
    regex = r"^the OAuth client (presents the rotated refresh token again|refreshes with the revoked refresh token)$"
)]
async fn refreshes_with_kept(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (pick, happened, expected) =
        *crate::conform::steps::phrase_entry(world, KEPT_REFRESH_TOKENS, &phrase)?;
    let client = client_config(world)?;
    let token = kept(world, pick, happened, expected)?;
    token_call_judged_later(world, refresh_form(&token, &client.client_id)).await
}

#[when("the OAuth client refreshes with the newest refresh token")]
async fn refreshes_with_newest(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let newest = current_refresh_token(world, "the refresh returned a new refresh token")?;
    token_call_judged_later(world, refresh_form(&newest, &client.client_id)).await
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
