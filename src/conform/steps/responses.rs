//! Checks on the last response: status, error bodies, sign-up/sign-in answers.

use cucumber::then;
use serde_json::Value;

use super::{json_body, require_json_content_type};
use crate::conform::world::{AuthWorld, StepResult};
use crate::protocol::session::{kind, parse_auth_answer, parse_error_body};

#[then(expr = "the response status is {int}")]
async fn status_is(world: &mut AuthWorld, expected: u16) -> StepResult {
    let exchange = world.last_exchange()?;
    if exchange.status != expected {
        let rule = format!(
            "{} {} answers HTTP {expected}",
            exchange.method,
            path_of(&exchange.url)
        );
        return Err(world.fail(
            &rule,
            format!("HTTP {expected}"),
            format!("HTTP {}", exchange.status),
        ));
    }
    Ok(())
}

#[then(expr = "the response is a JSON error with code {string}")]
async fn json_error_with_code(world: &mut AuthWorld, code: String) -> StepResult {
    let rule = format!("errors are JSON {{code, message}} with code {code}");
    let exchange = world.last_exchange()?;
    require_json_content_type(world, &exchange, &rule)?;
    let body = json_body(world, &exchange, &rule)?;
    match parse_error_body(&body) {
        Ok(error) if error.code == code => Ok(()),
        Ok(error) => Err(world.fail(
            &rule,
            format!("code {code}"),
            format!("code {}", error.code),
        )),
        Err(e) => Err(world.fail(
            &rule,
            format!("{{\"code\":\"{code}\",\"message\":\"…\"}}"),
            e,
        )),
    }
}

#[then("the response body is JSON null")]
async fn body_is_null(world: &mut AuthWorld) -> StepResult {
    let rule = format!(
        "{} answers JSON null when there is no valid session",
        path_of(&world.last_exchange()?.url)
    );
    let exchange = world.last_exchange()?;
    let body = json_body(world, &exchange, &rule)?;
    if !body.is_null() {
        let detail = match body
            .get("user")
            .and_then(|u| u.get("email"))
            .and_then(Value::as_str)
        {
            Some(email) => format!("a session for {email}"),
            None => kind(&body).to_string(),
        };
        return Err(world.fail(&rule, "null", detail));
    }
    Ok(())
}

#[then("the response body carries the user with the email and name given at sign-up")]
async fn body_carries_user(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-up and sign-in answer with the user's record";
    let (exchange, user) = super::last_exchange_and_user(world)?;
    let body = json_body(world, &exchange, rule)?;
    let answer = parse_auth_answer(&body)
        .map_err(|e| world.fail(rule, "{token, user: {id, email, name}}", e))?;
    if !answer.user.email.eq_ignore_ascii_case(&user.email) || answer.user.name != user.name {
        return Err(world.fail(
            rule,
            format!("user {} named {:?}", user.email, user.name),
            format!("user {} named {:?}", answer.user.email, answer.user.name),
        ));
    }
    if let Some(id) = &user.id
        && *id != answer.user.id
    {
        return Err(world.fail(
            rule,
            format!("user id {id} (from sign-up)"),
            format!("user id {}", answer.user.id),
        ));
    }
    if answer.user.id.is_empty() {
        return Err(world.fail(rule, "a non-empty user id", "an empty id"));
    }
    Ok(())
}

#[then("the response body carries a session token")]
async fn body_carries_token(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-up and sign-in answer with the new session's token";
    let exchange = world.last_exchange()?;
    let body = json_body(world, &exchange, rule)?;
    match body.get("token") {
        Some(Value::String(t)) if !t.is_empty() => Ok(()),
        Some(other) => Err(world.fail(
            rule,
            "`token`: a non-empty string",
            format!("`token` is {}", kind(other)),
        )),
        None => Err(world.fail(rule, "`token`: a non-empty string", "no `token` field")),
    }
}

#[then("the response body says the sign-out succeeded")]
async fn sign_out_succeeded(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-out answers {\"success\": true}";
    let exchange = world.last_exchange()?;
    let body = json_body(world, &exchange, rule)?;
    if body.get("success") != Some(&Value::Bool(true)) {
        return Err(world.fail(
            rule,
            "{\"success\": true}",
            world.secrets().redact_body(&exchange.body),
        ));
    }
    Ok(())
}

/// The path part of a URL, for rule names (`/api/auth/sign-in/email`).
pub(crate) fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}

#[then(expr = "the error message is {string}")]
async fn error_message_is(world: &mut AuthWorld, message: String) -> StepResult {
    let rule =
        format!("the error message is \"{message}\" (it must not tell which part was wrong)");
    let exchange = world.last_exchange()?;
    let body = json_body(world, &exchange, &rule)?;
    match body.get("message").and_then(Value::as_str) {
        Some(m) if m == message => Ok(()),
        Some(m) => Err(world.fail(&rule, format!("\"{message}\""), format!("\"{m}\""))),
        None => Err(world.fail(&rule, format!("\"{message}\""), "no `message` string")),
    }
}

#[then("the response is a JSON error")]
async fn json_error_any_code(world: &mut AuthWorld) -> StepResult {
    let rule = "errors are JSON {code, message}";
    let exchange = world.last_exchange()?;
    require_json_content_type(world, &exchange, rule)?;
    let body = json_body(world, &exchange, rule)?;
    parse_error_body(&body)
        .map(|_| ())
        .map_err(|e| world.fail(rule, "{\"code\":\"…\",\"message\":\"…\"}", e))
}
