//! Token endpoint: code exchange and its refusals (RFC 6749 §4.1.3, §5, RFC 7636 §4.6).

use super::*;

#[given("the OAuth client has exchanged the code for tokens")]
async fn has_exchanged(world: &mut AuthWorld) -> StepResult {
    let exchange = exchange_code_with(world, None, None).await?;
    let issues = "the code exchange with the right code_verifier issues tokens";
    require_issued_tokens(world, &exchange, issues)
}

#[when("the OAuth client exchanges the code for tokens")]
async fn exchanges_code(world: &mut AuthWorld) -> StepResult {
    exchange_code_with(world, None, None).await.map(|_| ())
}

#[when("the OAuth client exchanges the code with a wrong code_verifier")]
async fn exchanges_wrong_verifier(world: &mut AuthWorld) -> StepResult {
    let wrong = PkcePair::generate().verifier;
    exchange_code_with(world, None, Some(wrong))
        .await
        .map(|_| ())
}

#[when("the OAuth client exchanges the same code again")]
async fn exchanges_again(world: &mut AuthWorld) -> StepResult {
    exchange_code_with(world, None, None).await.map(|_| ())
}

#[when("the OAuth client exchanges the code with a different redirect_uri")]
async fn exchanges_other_redirect(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let other = unregistered_variant(&client.redirect_uri, "/ba-harness-unregistered-callback");
    exchange_code_with(world, Some(other), None)
        .await
        .map(|_| ())
}

#[when("the user authorizes the OAuth client again")]
async fn authorizes_again(world: &mut AuthWorld) -> StepResult {
    authorize_for_code(world).await?;
    has_exchanged(world).await
}

#[then("the token endpoint answers with a Bearer access token and an ID token")]
async fn bearer_and_id_token(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_TOKEN_RESPONSE)?;
    if !tokens.is_bearer() {
        return Err(world.fail(
            RULE_TOKEN_RESPONSE,
            "token_type \"Bearer\"",
            format!("token_type {:?}", tokens.token_type),
        ));
    }
    if tokens.id_token.is_none() {
        return Err(world.fail(
            RULE_TOKEN_RESPONSE,
            "an id_token (the openid scope was granted)",
            "no id_token",
        ));
    }
    Ok(())
}

#[then("the token endpoint says when the access token expires")]
async fn says_expiry(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_EXPIRES_IN)?;
    match tokens.expires_in {
        Some(n) if n > 0 => Ok(()),
        Some(n) => Err(world.fail(RULE_EXPIRES_IN, "expires_in > 0", format!("expires_in {n}"))),
        None => Err(world.fail(RULE_EXPIRES_IN, "expires_in (seconds)", "no expires_in")),
    }
}

#[then("the token endpoint issues a refresh token for offline_access")]
async fn issues_refresh(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_REFRESH_ISSUED)?;
    if tokens.refresh_token.is_some() {
        return Ok(());
    }
    Err(world.fail(
        RULE_REFRESH_ISSUED,
        "a refresh_token",
        format!(
            "no refresh_token (scope granted: {:?})",
            tokens.scope.unwrap_or_default()
        ),
    ))
}

#[then("the token endpoint forbids caching of the token response")]
async fn forbids_caching(world: &mut AuthWorld) -> StepResult {
    let (_, exchange) = require_tokens(world, RULE_NO_STORE)?;
    let value = exchange.header("cache-control").map(str::to_string);
    if cache_control_has_no_store(value.as_deref()) {
        return Ok(());
    }
    Err(world.fail(
        RULE_NO_STORE,
        "Cache-Control: no-store",
        match value {
            Some(v) => format!("Cache-Control: {v}"),
            None => "no Cache-Control header".into(),
        },
    ))
}

pub(super) const RULE_EXCHANGE_WITHOUT_REDIRECT_URI: &str = "a code exchange that leaves out the redirect_uri its authorization request carried is refused with 400 invalid_request or invalid_grant, never tokens (RFC 6749 §4.1.3, §5.2)";
pub(super) const RULE_EXCHANGE_WITHOUT_VERIFIER: &str = "a code exchange without code_verifier for a code issued with a code_challenge is refused with 400 invalid_request or invalid_grant, never tokens (RFC 7636 §4.5-4.6, OAuth 2.1 §4.1.3)";

/// Exchanges the current code with everything right but the parameter `left_out`. The answer
/// is judged by a Then step; a 200 here must not become the current token set.
async fn exchange_code_without(world: &mut AuthWorld, left_out: &str) -> StepResult {
    let client = client_config(world)?;
    let mut form = current_code_form(world, &client.client_id, None, None)?;
    form.retain(|(name, _)| name != left_out);
    token_call_judged_later(world, form).await
}

#[when("the OAuth client exchanges the code without the redirect_uri")]
async fn exchanges_without_redirect_uri(world: &mut AuthWorld) -> StepResult {
    exchange_code_without(world, "redirect_uri").await
}

#[when("the OAuth client exchanges the code without the code_verifier")]
async fn exchanges_without_verifier(world: &mut AuthWorld) -> StepResult {
    exchange_code_without(world, "code_verifier").await
}
