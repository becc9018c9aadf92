//! The step library. Each step is a sentence from the feature files and thin glue over
//! `protocol::*`; each `Then` names the rule it checks so a failure report can quote it.

pub mod account_lifetime;
pub mod accounts;
pub mod bearer;
pub mod cache;
pub mod cookies;
pub mod framework;
pub mod isolation;
pub mod jwt;
pub mod nextjs;
pub mod oauth;
pub mod origin;
pub mod rate_limit;
pub mod resource;
pub mod responses;
pub mod session;
pub mod sessions;

use serde_json::Value;

use crate::http::{Client, CookieChoice, Exchange, Request};
use crate::protocol::cookie::SetCookie;
use crate::protocol::session::is_json_content_type;

use super::world::{AuthWorld, StepFailure, StepResult};

/// Parses the last response as JSON for `rule`, failing with the content type and body excerpt.
pub(crate) fn json_body(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<Value, StepFailure> {
    match exchange.json() {
        Ok(v) => Ok(v),
        Err(e) => Err(world.fail(
            rule,
            "a JSON body",
            format!(
                "{}; content-type {}",
                exchange.describe_json_error(&e),
                exchange.content_type().unwrap_or("absent")
            ),
        )),
    }
}

/// Fails `rule` unless the response's content type is JSON.
pub(crate) fn require_json_content_type(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<(), StepFailure> {
    if is_json_content_type(exchange.content_type()) {
        Ok(())
    } else {
        Err(world.fail(
            rule,
            "content-type: application/json",
            format!(
                "content-type: {}",
                exchange.content_type().unwrap_or("(absent)")
            ),
        ))
    }
}

/// Fails `rule` unless `exchange` answered HTTP `status`; `expected` says what should have come.
pub(crate) fn require_status(
    world: &mut AuthWorld,
    exchange: &Exchange,
    status: u16,
    rule: &str,
    expected: &str,
) -> StepResult {
    if exchange.status == status {
        return Ok(());
    }
    Err(world.fail_on(
        rule,
        expected,
        format!("HTTP {}", exchange.status),
        Some(exchange.excerpt()),
    ))
}

/// Fails `rule` when `broken`, quoting `exchange`: `expected` is what should have come, `actual`
/// what did.
pub(crate) fn fail_if(
    world: &mut AuthWorld,
    broken: bool,
    exchange: &Exchange,
    rule: &str,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StepResult {
    if broken {
        return Err(world.fail_on(rule, expected, actual, Some(exchange.excerpt())));
    }
    Ok(())
}

/// The failure of a scenario whose feature file misses the earlier step that makes `expected`.
pub(crate) fn wiring(
    world: &mut AuthWorld,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StepFailure {
    world.fail("scenario wiring", expected, actual)
}

/// What a parameterised step's captured `phrase` stands for in `table` (phrase → value). The
/// step's regex lists exactly the table's phrases, so a miss is a wiring error, never a verdict.
pub(crate) fn phrase_entry<'t, T>(
    world: &mut AuthWorld,
    table: &'t [(&str, T)],
    phrase: &str,
) -> Result<&'t T, StepFailure> {
    match table.iter().find(|(key, _)| *key == phrase) {
        Some((_, value)) => Ok(value),
        None => Err(wiring(world, "a phrase the step's table lists", phrase)),
    }
}

/// A parameterised Then step: `judge` with what `table` says the captured `phrase` stands for.
pub(crate) fn judge_phrase<T: Copy>(
    world: &mut AuthWorld,
    table: &[(&str, T)],
    phrase: &str,
    judge: impl FnOnce(&mut AuthWorld, T) -> StepResult,
) -> StepResult {
    let value = *phrase_entry(world, table, phrase)?;
    judge(world, value)
}

/// The exchange a `Then` step checks and the user it should be about.
pub(crate) fn last_exchange_and_user(
    world: &mut AuthWorld,
) -> Result<(Exchange, crate::conform::world::TestUser), StepFailure> {
    Ok((world.last_exchange()?, world.user()?))
}

/// A target setting a scenario tagged `tag` relies on (`what`, with the flag that gives it), or
/// a wiring failure: only scenarios with that tag run when the setting is known.
pub(crate) fn setting<T>(
    world: &mut AuthWorld,
    value: Option<T>,
    what: &str,
    tag: &str,
) -> Result<T, StepFailure> {
    value.ok_or_else(|| wiring(world, what, format!("none (this scenario needs {tag})")))
}

/// Sends `request` as the scenario's next exchange, for a step that only sends it.
pub(crate) async fn send(world: &mut AuthWorld, request: Request) -> StepResult {
    world.send(request).await?;
    Ok(())
}

/// Asks get-session with exactly `cookies` (name, value) and nothing else from the jar.
pub(crate) async fn get_session_with(
    world: &mut AuthWorld,
    cookies: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    world
        .send(Request::get("/get-session").cookies(CookieChoice::Exactly(cookies)))
        .await
}

/// Asks get-session with exactly one cookie.
pub(crate) async fn get_session_with_cookie(
    world: &mut AuthWorld,
    cookie: SetCookie,
) -> Result<Exchange, StepFailure> {
    get_session_with(world, vec![(cookie.name, cookie.value)]).await
}

/// Fails `rule` unless get-session with exactly `cookies` answers the session of the user:
/// `expected` is "<what get-session should do> <the user's email>", `actual` what no session means.
pub(crate) async fn require_user_session(
    world: &mut AuthWorld,
    rule: &str,
    cookies: Vec<(String, String)>,
    what: &str,
    actual: &str,
) -> StepResult {
    let exchange = get_session_with(world, cookies).await?;
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
        return Err(world.fail(rule, format!("{what} {}", user.email), actual));
    }
    Ok(())
}

/// The user signs in with `password` from a fresh client (another device, no cookies);
/// transport failures fail `rule`. The answer, its secrets registered, is the caller's to check.
pub(crate) async fn sign_in_from_fresh_client(
    world: &mut AuthWorld,
    rule: &str,
    password: &str,
) -> Result<(Client, Exchange), StepFailure> {
    let user = world.user()?;
    let mut fresh = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let exchange = fresh
        .send(accounts::sign_in_request(&user.email, password, None))
        .await
        .map_err(|e| world.fail(rule, "an answer to sign-in", e.to_string()))?;
    accounts::register_answer_secrets(&exchange);
    Ok((fresh, exchange))
}

/// The cookies (with a value) the session-starting answer set.
pub(crate) fn started_cookies(world: &AuthWorld) -> Vec<SetCookie> {
    world
        .session_start
        .as_ref()
        .map(|e| {
            e.set_cookies()
                .into_iter()
                .filter(|c| !c.value.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
