//! The bearer plugin: sign-in hands the signed session token to non-browser clients in
//! `set-auth-token`, and `Authorization: Bearer <it>` stands in for the cookie.

use cucumber::{then, when};
use serde_json::json;

use super::session::started_session_cookie;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{CookieChoice, Request};
use crate::protocol::cookie::{split_signed_value, tamper_signature};

/// The set-auth-token of the answer that started the session.
fn started_bearer_token(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let token = world
        .session_start
        .as_ref()
        .and_then(|e| e.header("set-auth-token"))
        .map(str::to_string);
    match token {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(world.fail(
            "sign-in returns a bearer token (precondition)",
            "a set-auth-token header on the sign-in answer",
            "none",
        )),
    }
}

#[then("the response carries the signed session token in set-auth-token")]
async fn carries_set_auth_token(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-in returns the signed session token in the set-auth-token header";
    let exchange = world.last_exchange()?;
    let Some(token) = exchange.header("set-auth-token").map(str::to_string) else {
        return Err(world.fail(rule, "a set-auth-token header", "none"));
    };
    let signed = split_signed_value(&token)
        .map_err(|e| world.fail(rule, "<token>.<signature>", e.to_string()))?;
    let body_token = exchange
        .json()
        .ok()
        .and_then(|b| b.get("token").and_then(|t| t.as_str()).map(str::to_string));
    if body_token.as_deref() != Some(signed.value.as_str()) {
        return Err(world.fail(
            rule,
            "the token part equal to the body's `token`",
            "a different token",
        ));
    }
    let cookie = started_session_cookie(world)?;
    if cookie.decoded_value() != token {
        return Err(world.fail(
            rule,
            "the same signed value as the session cookie",
            "a value that differs from the session cookie's",
        ));
    }
    Ok(())
}

#[then("set-auth-token is exposed to browser scripts")]
async fn set_auth_token_exposed(world: &mut AuthWorld) -> StepResult {
    let rule = "set-auth-token is listed in Access-Control-Expose-Headers";
    let exchange = world.last_exchange()?;
    let exposed = exchange
        .headers_named("access-control-expose-headers")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|h| h.trim().eq_ignore_ascii_case("set-auth-token"));
    if !exposed {
        let actual = exchange
            .header("access-control-expose-headers")
            .unwrap_or("(absent)")
            .to_string();
        return Err(world.fail(
            rule,
            "access-control-expose-headers: set-auth-token",
            actual,
        ));
    }
    Ok(())
}

#[when("the user asks for the session with the bearer token")]
async fn get_session_with_bearer(world: &mut AuthWorld) -> StepResult {
    let token = started_bearer_token(world)?;
    ask_session_with_bearer(world, &token).await
}

#[when("the user asks for the session with the bearer token's signature altered")]
async fn get_session_with_tampered_bearer(world: &mut AuthWorld) -> StepResult {
    let token = started_bearer_token(world)?;
    let signed = split_signed_value(&token).map_err(|e| {
        world.fail(
            "the bearer token is signed (precondition)",
            "<token>.<signature>",
            e.to_string(),
        )
    })?;
    let tampered = tamper_signature(&signed);
    ask_session_with_bearer(world, &tampered).await
}

#[when("the user signs out with only the bearer token and no Origin")]
async fn sign_out_with_bearer(world: &mut AuthWorld) -> StepResult {
    let token = started_bearer_token(world)?;
    let mut request = Request::post_json("/sign-out", json!({}))
        .cookies(CookieChoice::None)
        .header("authorization", &format!("Bearer {token}"));
    request.send_origin = false;
    super::send(world, request).await
}

/// Asks get-session with no cookie and `token` as the bearer token.
async fn ask_session_with_bearer(world: &mut AuthWorld, token: &str) -> StepResult {
    let request = Request::get("/get-session")
        .cookies(CookieChoice::None)
        .header("authorization", &format!("Bearer {token}"));
    super::send(world, request).await
}
