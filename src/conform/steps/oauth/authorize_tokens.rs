//! Where an authorization's tokens may travel and when they die: never in a URL (RFC 6749
//! §10.8; OAuth 2.1 §5.2: a protected resource does not take an access token from the query),
//! and dead once the session they were issued in ends (sign-out) or the user is deleted (Better
//! Auth: userinfo and introspection treat a token whose session or user is gone as invalid).

use super::lifetimes::expect_access_token_dead;
use super::*;
use crate::protocol::authorize::token_carried_by;

const RULE_QUERY_TOKEN: &str = "a protected resource does not accept an access token in the URI query: userinfo with ?access_token= and no Authorization header answers 401, not the user's claims (OAuth 2.1 §5.2)";
const RULE_NO_TOKEN_IN_URL: &str = "access and refresh tokens never travel in a URL: no redirect of the authorization (Location or JSON url) and no token answer carries a token parameter or an issued token (RFC 6749 §10.8; the in-the-clear half is not observable on a loopback http harness)";
const RULE_SESSION_END_ENDS_TOKENS: &str = "ending the user's session (sign-out, revoke-sessions) ends the OAuth access token issued in it: userinfo then refuses it with 401 (Better Auth oauth-provider: tokens are bound to the session)";
const RULE_DELETE_ENDS_TOKENS: &str = "after delete-user the OAuth access token issued for the user no longer works: userinfo refuses it with 401 and introspection reports it inactive (Better Auth delete-user)";

#[when("userinfo is asked with the access token in the URI query only")]
async fn userinfo_with_query_token(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let token = tokens.access_token.clone();
    world.secrets().register_with_form_encoding(&token);
    let query = [("access_token".to_string(), token)];
    let request = endpoint_with_query(
        world,
        "userinfo_endpoint",
        |d| d.userinfo_endpoint.clone(),
        &query,
    )
    .await?;
    send(world, request.cookies(CookieChoice::None))
        .await
        .map(|_| ())
}

#[then("userinfo refuses the access token from the query")]
async fn query_token_refused(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    if (400..500).contains(&exchange.status) {
        return Ok(());
    }
    Err(world.fail(
        RULE_QUERY_TOKEN,
        "HTTP 401 (no token in the Authorization header)",
        format!(
            "HTTP {}: the access token in the query was accepted",
            exchange.status
        ),
    ))
}

#[then("no URL of the flow carries an access or refresh token")]
async fn no_token_in_any_url(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_NO_TOKEN_IN_URL;
    let mut tokens: Vec<String> = Vec::new();
    let mut exchanges: Vec<Exchange> = world
        .oauth
        .hops
        .iter()
        .map(|h| h.exchange.clone())
        .collect();
    for (set, exchange) in [world.oauth.first_tokens.clone(), world.oauth.tokens.clone()]
        .into_iter()
        .flatten()
    {
        tokens.push(set.access_token.clone());
        tokens.extend(set.refresh_token.clone());
        exchanges.push(exchange);
    }
    if tokens.is_empty() {
        return Err(world.fail(
            &precondition("the flow issued tokens"),
            "a token response from an earlier step",
            "none",
        ));
    }
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    for exchange in exchanges {
        let urls = [
            Some(exchange.url.clone()),
            exchange.header("location").map(str::to_string),
            exchange
                .json()
                .ok()
                .and_then(|b| b.get("url").and_then(Value::as_str).map(str::to_string)),
        ];
        for url in urls.into_iter().flatten() {
            if let Some(found) = token_carried_by(&url, &token_refs) {
                let place = path_on_origin(&url, &world.target().endpoint().origin)
                    .unwrap_or_else(|_| "a URL off the target".into());
                let place = place
                    .split(['?', '#'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                world.last = Some(exchange.clone());
                return Err(world.fail(
                    rule,
                    "no token in any URL of the flow",
                    format!("{found} in a URL to {place}"),
                ));
            }
        }
    }
    Ok(())
}

#[given("the access token works at userinfo")]
async fn access_token_works(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let answer = userinfo_call(world, Some(&tokens.access_token)).await?;
    if answer.status == 200 {
        return Ok(());
    }
    Err(world.fail(
        &precondition("userinfo accepts the live access token"),
        "HTTP 200",
        format!("HTTP {}", answer.status),
    ))
}

#[then("userinfo refuses the access token issued in the session the user ended")]
async fn ended_session_token_refused(world: &mut AuthWorld) -> StepResult {
    expect_access_token_dead(
        world,
        RULE_SESSION_END_ENDS_TOKENS,
        "the session it was issued in was ended",
    )
    .await
}

#[given("introspection by the confidential client reports the access token active")]
async fn introspection_active_before(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let answer = super::confidential::introspect(world, &tokens.access_token).await?;
    let body = answer.json().unwrap_or(Value::Null);
    if crate::protocol::oauth::introspection_active(answer.status, &body) == Ok(true) {
        return Ok(());
    }
    Err(world.fail(
        &precondition("introspection reports the live access token active"),
        "HTTP 200 with active: true",
        describe_token_answer(answer.status, &body),
    ))
}

#[then(
    "the deleted user's access token is refused by userinfo and reported inactive by introspection"
)]
async fn deleted_user_token_dead(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_DELETE_ENDS_TOKENS;
    expect_access_token_dead(world, rule, "its user was deleted").await?;
    let (tokens, _) = current_tokens(world)?;
    let answer = super::confidential::introspect(world, &tokens.access_token).await?;
    let body = answer.json().unwrap_or(Value::Null);
    match crate::protocol::oauth::introspection_active(answer.status, &body) {
        Ok(false) => Ok(()),
        Ok(true) => Err(world.fail(
            rule,
            "active: false from introspection",
            "active: true after delete-user",
        )),
        Err(e) => Err(world.fail(rule, "HTTP 200 with active: false", e)),
    }
}
