//! The origin (CSRF) check: state-changing requests that carry cookies, or that say where they
//! come from, must come from a trusted origin; callback URLs must point to one.

use cucumber::{then, when};
use serde_json::json;

use super::accounts::sign_in_request;
use crate::conform::world::{AuthWorld, StepResult};
use crate::http::{CookieChoice, Request};

#[when(expr = "the user signs out sending Origin {string}")]
async fn sign_out_with_origin(world: &mut AuthWorld, origin: String) -> StepResult {
    let mut request = Request::post_json("/sign-out", json!({}));
    request.send_origin = false;
    world.send(request.header("origin", &origin)).await?;
    Ok(())
}

#[when("the user signs out without an Origin header")]
async fn sign_out_without_origin(world: &mut AuthWorld) -> StepResult {
    let mut request = Request::post_json("/sign-out", json!({}));
    request.send_origin = false;
    world.send(request).await?;
    Ok(())
}

#[when(expr = "the user signs in from Origin {string}")]
async fn sign_in_from_origin(world: &mut AuthWorld, origin: String) -> StepResult {
    let user = world.user()?;
    let mut request =
        sign_in_request(&user.email, &user.password, None).cookies(CookieChoice::None);
    request.send_origin = false;
    world.send(request.header("origin", &origin)).await?;
    Ok(())
}

#[when(expr = "the user signs in with Referer {string} and no Origin")]
async fn sign_in_with_referer(world: &mut AuthWorld, referer: String) -> StepResult {
    let user = world.user()?;
    let mut request =
        sign_in_request(&user.email, &user.password, None).cookies(CookieChoice::None);
    request.send_origin = false;
    world.send(request.header("referer", &referer)).await?;
    Ok(())
}

#[when("the user signs in from a cross-site form navigation")]
async fn sign_in_cross_site_navigation(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let mut request = sign_in_request(&user.email, &user.password, None)
        .cookies(CookieChoice::None)
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document");
    request.send_origin = false;
    world.send(request).await?;
    Ok(())
}

#[when(expr = "the user signs in asking to be sent to callbackURL {string}")]
async fn sign_in_with_callback(world: &mut AuthWorld, callback: String) -> StepResult {
    let user = world.user()?;
    let request = Request::post_json(
        "/sign-in/email",
        json!({"email": user.email, "password": user.password, "callbackURL": callback}),
    )
    .cookies(CookieChoice::None);
    world.send(request).await?;
    Ok(())
}

#[then("the user's session is still valid")]
async fn session_still_valid(world: &mut AuthWorld) -> StepResult {
    let rule = "the user's session stays valid on the server";
    // The session cookie alone: with the cookie cache on, session_data would vouch for a session
    // the server has already deleted, until the cache's maxAge (see cookie-cache.feature).
    let cookie = super::session::started_session_cookie(world)?;
    let exchange = world
        .send(
            Request::get("/get-session")
                .cookies(CookieChoice::Exactly(vec![(cookie.name, cookie.value)])),
        )
        .await?;
    let user = world.user()?;
    let valid = exchange
        .json()
        .ok()
        .and_then(|b| {
            crate::protocol::session::parse_session_answer(&b)
                .ok()
                .flatten()
        })
        .is_some_and(|s| s.user.email.eq_ignore_ascii_case(&user.email));
    if !valid {
        return Err(world.fail(
            rule,
            format!(
                "get-session with the session cookie still returns the session of {}",
                user.email
            ),
            "no session: the session was ended on the server",
        ));
    }
    Ok(())
}
