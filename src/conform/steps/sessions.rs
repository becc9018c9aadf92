//! Session management: list the user's sessions, revoke one, and session-only routes without a
//! session.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::conform::world::{AuthWorld, StepResult};
use crate::http::{CookieChoice, Request};
use crate::protocol::session::{kind, parse_session_answer};

/// How many sessions Better Auth's list-sessions answers at most (its adapters' default limit).
const LIST_SESSIONS_PAGE: usize = 100;

#[given("the user has also signed in on a second device")]
async fn second_device(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-in on a second device starts a second session (precondition)";
    let password = world.user()?.password;
    let (device, exchange) = super::sign_in_from_fresh_client(world, rule, &password).await?;
    crate::conform::world::passive::observe(world, &exchange)?;
    let token = exchange
        .json()
        .ok()
        .and_then(|b| b.get("token").and_then(Value::as_str).map(str::to_string));
    match token {
        Some(token) if exchange.status == 200 => {
            world.second_device = Some((device, token));
            Ok(())
        }
        _ => Err(world.fail_on(
            rule,
            "HTTP 200 with a token",
            format!("HTTP {}", exchange.status),
            Some(exchange.excerpt()),
        )),
    }
}

#[then("the list holds both sessions, and only sessions of the user")]
async fn list_holds_both(world: &mut AuthWorld) -> StepResult {
    let rule = "list-sessions returns every active session of the user and no one else's";
    let (exchange, user) = super::last_exchange_and_user(world)?;
    let user_id = user.id.clone().unwrap_or_default();
    let second_token = world
        .second_device
        .as_ref()
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    let first_token = world
        .session_start
        .as_ref()
        .and_then(|e| e.json().ok())
        .and_then(|b| b.get("token").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let body = super::json_body(world, &exchange, rule)?;
    let Some(sessions) = body.as_array() else {
        return Err(world.fail(rule, "a JSON array of sessions", kind(&body)));
    };
    if let Some(other) = sessions
        .iter()
        .find(|s| s.get("userId").and_then(Value::as_str) != Some(user_id.as_str()))
    {
        let who = other
            .get("userId")
            .and_then(Value::as_str)
            .unwrap_or("(none)")
            .to_string();
        return Err(world.fail(
            rule,
            format!("only sessions with userId {user_id}"),
            format!("a session with userId {who}"),
        ));
    }
    for (label, token) in [
        ("this device's", &first_token),
        ("the second device's", &second_token),
    ] {
        let listed = sessions
            .iter()
            .any(|s| s.get("token").and_then(Value::as_str) == Some(token.as_str()));
        if !listed && world.account.is_some() && sessions.len() >= LIST_SESSIONS_PAGE {
            return Err(world.skip(format!(
                "the given account has {} or more sessions and list-sessions answers at most {LIST_SESSIONS_PAGE} \
                 (Better Auth's database default), so this scenario's may not be listed: revoke the \
                 account's old sessions, or give accounts with fewer (--users-file)",
                sessions.len()
            )));
        }
        if !listed {
            return Err(world.fail(
                rule,
                format!("{label} session in the list"),
                format!("{} session(s), without {label}", sessions.len()),
            ));
        }
    }
    Ok(())
}

#[when("the user revokes the second device's session")]
async fn revoke_second(world: &mut AuthWorld) -> StepResult {
    let Some((_, token)) = world.second_device.clone() else {
        return Err(super::wiring(world, "a second device", "none"));
    };
    super::send(
        world,
        Request::post_json("/revoke-session", json!({"token": token})),
    )
    .await
}

#[when("the user revokes their other sessions")]
async fn revoke_others(world: &mut AuthWorld) -> StepResult {
    super::send(
        world,
        Request::post_json("/revoke-other-sessions", json!({})),
    )
    .await
}

#[when("the user revokes all their sessions")]
async fn revoke_all(world: &mut AuthWorld) -> StepResult {
    super::send(world, Request::post_json("/revoke-sessions", json!({}))).await
}

#[then("the user's own session is no longer valid")]
async fn own_session_revoked(world: &mut AuthWorld) -> StepResult {
    let rule = "revoke-sessions ends every session of the user on the server, the caller's too";
    // The session cookie alone, from a fresh client: the cookie cache would vouch for the
    // deleted session until its maxAge (cookie-cache.feature), which is not this rule.
    super::session::require_started_session_ended(
        world,
        rule,
        "null from get-session with the caller's own session cookie",
        "the caller's session is still valid",
    )
    .await
}

#[then("the second device's session is no longer valid")]
async fn second_device_revoked(world: &mut AuthWorld) -> StepResult {
    require_second_device_ended(
        world,
        "revoke-session ends the revoked session on the server",
    )
    .await
}

/// Fails `rule` unless get-session with the second device's session cookie answers no session.
pub(crate) async fn require_second_device_ended(world: &mut AuthWorld, rule: &str) -> StepResult {
    let expected = "null from get-session with the revoked session's cookie";
    require_device_session_ended(world, rule, false, expected, "the session is still valid").await
}

/// Fails `rule` (with `expected` and `actual`) unless get-session from the second device answers
/// no session. It sends its session cookie alone (with the cookie cache on, a kept session_data
/// copy would stay valid until its maxAge by design, see cookie-cache.feature, which is not the
/// rule), or with `bearer`, no cookie and that cookie's signed token as a bearer token.
pub(crate) async fn require_device_session_ended(
    world: &mut AuthWorld,
    rule: &str,
    bearer: bool,
    expected: &str,
    actual: &str,
) -> StepResult {
    let Some((mut device, _)) = world.second_device.clone() else {
        return Err(super::wiring(world, "a second device", "none"));
    };
    let name = world.session_cookie_name();
    let Some(value) = device.cookie(&name).map(str::to_string) else {
        return Err(world.fail(
            rule,
            format!("the second device holds `{name}`"),
            "it does not",
        ));
    };
    let request = if bearer {
        // The bearer token is the signed session token, the session cookie's value decoded.
        let token = percent_encoding::percent_decode_str(&value).decode_utf8_lossy();
        Request::get("/get-session")
            .cookies(CookieChoice::None)
            .header("authorization", &format!("Bearer {token}"))
    } else {
        Request::get("/get-session").cookies(CookieChoice::Exactly(vec![(name, value)]))
    };
    let exchange = device
        .send(request)
        .await
        .map_err(|e| world.fail(rule, "an answer to get-session", e.to_string()))?;
    crate::conform::world::passive::observe(world, &exchange)?;
    let alive = exchange
        .json()
        .ok()
        .and_then(|b| parse_session_answer(&b).ok().flatten())
        .is_some();
    if alive {
        return Err(world.fail_on(rule, expected, actual, Some(exchange.excerpt())));
    }
    Ok(())
}

#[then("the response forbids caching")]
async fn forbids_caching(world: &mut AuthWorld) -> StepResult {
    let rule = "session answers carry Cache-Control: no-store";
    let exchange = world.last_exchange()?;
    let no_store = exchange.headers_named("cache-control").iter().any(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
    });
    if !no_store {
        let actual = exchange
            .header("cache-control")
            .unwrap_or("(absent)")
            .to_string();
        return Err(world.fail(rule, "cache-control: no-store", actual));
    }
    Ok(())
}
