//! get-session: who the session belongs to, and replays of old or altered cookies.

use cucumber::{given, then, when};
use time::OffsetDateTime;

use super::json_body;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Exchange, Request};
use crate::protocol::cookie::{SetCookie, split_signed_value, tamper_signature};
use crate::protocol::session::parse_session_answer;

/// The session routes asked with or without the cookies: the phrase → (path, cookies).
const SESSION_QUESTIONS: &[(&str, (&str, CookieChoice))] = &[
    (
        "the user asks for the session with the cookies they were given",
        ("/get-session", CookieChoice::Jar),
    ),
    (
        "a client without cookies asks for the session",
        ("/get-session", CookieChoice::None),
    ),
    (
        "the user lists their sessions",
        ("/list-sessions", CookieChoice::Jar),
    ),
    (
        "a client without cookies lists sessions",
        ("/list-sessions", CookieChoice::None),
    ),
];

#[when(
    regex = r"^(the user asks for the session with the cookies they were given|a client without cookies asks for the session|the user lists their sessions|a client without cookies lists sessions)$"
)]
async fn ask_session_route(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (path, cookies) = super::phrase_entry(world, SESSION_QUESTIONS, &phrase)?.clone();
    super::send(world, Request::get(path).cookies(cookies)).await
}

/// A cookie (`session_token`, `session_data`, ...) as the session-starting answer set it.
pub(crate) fn started_cookie(
    world: &mut AuthWorld,
    cookie: &str,
) -> Result<SetCookie, crate::conform::world::StepFailure> {
    let name = world.cookie_name(cookie);
    let found = world
        .session_start
        .as_ref()
        .and_then(|e| e.set_cookie(&name))
        .filter(|c| !c.value.is_empty());
    match found {
        Some(c) => Ok(c),
        None => Err(world.fail(
            "a session was started (precondition)",
            format!("a `{name}` cookie from sign-in or sign-up"),
            "none was set",
        )),
    }
}

/// The session cookie as the session-starting answer set it.
pub(crate) fn started_session_cookie(
    world: &mut AuthWorld,
) -> Result<SetCookie, crate::conform::world::StepFailure> {
    started_cookie(world, "session_token")
}

/// Asks get-session with only the session cookie sign-in set (not the cookie cache, which
/// would answer from the cookie itself), from a fresh client; the answer becomes the last
/// exchange.
pub(crate) async fn probe_started_session(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(Exchange, serde_json::Value), StepFailure> {
    let cookie = started_session_cookie(world)?;
    let mut probe = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let exchange = probe
        .send(
            Request::get("/get-session")
                .cookies(CookieChoice::Exactly(vec![(cookie.name, cookie.value)])),
        )
        .await
        .map_err(|e| world.fail(rule, "an answer from get-session", e.to_string()))?;
    // The target's endpoint carries the run's secret harvester: the answer's credentials are
    // registered for redaction as it arrives.
    world.last = Some(exchange.clone());
    crate::conform::world::passive::observe(world, &exchange)?;
    let body = json_body(world, &exchange, rule)?;
    Ok((exchange, body))
}

/// Fails `rule` (with `expected` and `actual`) when get-session with the started session's
/// cookie alone, from a fresh client, still finds a session.
pub(crate) async fn require_started_session_ended(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
    actual: &str,
) -> StepResult {
    let (exchange, body) = probe_started_session(world, rule).await?;
    let alive = parse_session_answer(&body).ok().flatten().is_some();
    super::fail_if(world, alive, &exchange, rule, expected, actual)
}

#[when("the user asks for the session with only the session cookie")]
async fn get_session_token_only(world: &mut AuthWorld) -> StepResult {
    let cookie = started_session_cookie(world)?;
    super::get_session_with_cookie(world, cookie).await?;
    Ok(())
}

/// The session cookie as sign-in set it, and its value split into token and signature.
fn started_signed_session(
    world: &mut AuthWorld,
) -> Result<(SetCookie, crate::protocol::cookie::SignedValue), StepFailure> {
    let cookie = started_session_cookie(world)?;
    let signed = split_signed_value(&cookie.decoded_value()).map_err(|e| {
        world.fail(
            "the session cookie value is signed (precondition)",
            "<token>.<signature>",
            e.to_string(),
        )
    })?;
    Ok((cookie, signed))
}

#[when("the user asks for the session with the session cookie's signature altered")]
async fn get_session_tampered(world: &mut AuthWorld) -> StepResult {
    let (cookie, signed) = started_signed_session(world)?;
    let tampered = crate::protocol::cookie::encode_cookie_value(&tamper_signature(&signed));
    super::get_session_with(world, vec![(cookie.name, tampered)]).await?;
    Ok(())
}

#[when("the user asks for the session with the session cookie's signature removed")]
async fn get_session_unsigned(world: &mut AuthWorld) -> StepResult {
    let (cookie, signed) = started_signed_session(world)?;
    super::get_session_with(world, vec![(cookie.name, signed.value)]).await?;
    Ok(())
}

#[given("the user keeps a copy of the session cookie")]
async fn keep_session_cookie(world: &mut AuthWorld) -> StepResult {
    world.kept_session_cookie = Some(started_session_cookie(world)?);
    Ok(())
}

#[when("the kept session cookie alone is replayed to get-session")]
async fn replay_kept_cookie(world: &mut AuthWorld) -> StepResult {
    let cookie = world.kept_session_cookie.clone().ok_or_else(|| {
        super::wiring(
            world,
            "an earlier step that keeps the session cookie",
            "none ran",
        )
    })?;
    super::get_session_with_cookie(world, cookie).await?;
    Ok(())
}

#[then("the session belongs to the user")]
async fn session_belongs_to_user(world: &mut AuthWorld) -> StepResult {
    let rule = "get-session returns the session of the user the cookie was issued to";
    let (exchange, user) = super::last_exchange_and_user(world)?;
    super::require_status(world, &exchange, 200, rule, "HTTP 200 with {session, user}")?;
    let body = json_body(world, &exchange, rule)?;
    let answer = match parse_session_answer(&body) {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Err(world.fail(
                rule,
                format!("the session of {}", user.email),
                "null (no session)",
            ));
        }
        Err(e) => {
            return Err(world.fail(
                rule,
                "{session: {userId, expiresAt, …}, user: {id, email, name}}",
                e,
            ));
        }
    };
    if !answer.user.email.eq_ignore_ascii_case(&user.email) {
        return Err(world.fail(
            rule,
            format!("user {}", user.email),
            format!("user {}", answer.user.email),
        ));
    }
    if let Some(id) = &user.id
        && answer.user.id != *id
    {
        return Err(world.fail(
            rule,
            format!("user id {id}"),
            format!("user id {}", answer.user.id),
        ));
    }
    if answer.session_user_id != answer.user.id {
        return Err(world.fail(
            rule,
            format!("session.userId equal to user.id ({})", answer.user.id),
            format!("session.userId {}", answer.session_user_id),
        ));
    }
    if answer.expires_at <= OffsetDateTime::now_utc() {
        return Err(world.fail(
            rule,
            "session.expiresAt in the future",
            format!("session.expiresAt {}", answer.expires_at),
        ));
    }
    Ok(())
}

/// get-session with the session cookie alone (no cookie cache, which would answer without
/// touching the stored session), parsed.
async fn session_by_token(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<
    (
        crate::http::Exchange,
        crate::protocol::session::SessionAnswer,
    ),
    crate::conform::world::StepFailure,
> {
    let cookie = started_session_cookie(world)?;
    let exchange = world
        .send(
            Request::get("/get-session")
                .cookies(CookieChoice::Exactly(vec![(cookie.name, cookie.value)])),
        )
        .await?;
    let body = json_body(world, &exchange, rule)?;
    match parse_session_answer(&body) {
        Ok(Some(answer)) => Ok((exchange, answer)),
        Ok(None) => Err(world.fail(rule, "the session", "null (no session)")),
        Err(e) => Err(world.fail(rule, "{session, user}", e)),
    }
}

#[when("the user reads the session's expiry")]
async fn read_expiry(world: &mut AuthWorld) -> StepResult {
    let (_, answer) =
        session_by_token(world, "get-session returns the session (precondition)").await?;
    world.kept_expiry = Some(answer.expires_at);
    Ok(())
}

#[when("the session becomes older than the server's updateAge")]
async fn wait_update_age(world: &mut AuthWorld) -> StepResult {
    let update_age = world.target().session_update_age;
    let what = "a known session.updateAge (--session-update-age)";
    let age = super::setting(world, update_age, what, "@session-refresh")?;
    tokio::time::sleep(std::time::Duration::from_millis(age * 1000 + 1200)).await;
    Ok(())
}

#[then("get-session extends the session and sends the session cookie again with the new lifetime")]
async fn session_extended(world: &mut AuthWorld) -> StepResult {
    let rule = "get-session extends a session older than updateAge (sliding expiry) and re-issues its cookie";
    let Some(before) = world.kept_expiry else {
        return Err(super::wiring(world, "an expiry read earlier", "none"));
    };
    let (exchange, answer) = session_by_token(world, rule).await?;
    if answer.expires_at <= before + time::Duration::seconds(1) {
        return Err(world.fail(
            rule,
            format!("session.expiresAt later than {before}"),
            format!("session.expiresAt {}", answer.expires_at),
        ));
    }
    let name = world.session_cookie_name();
    let Some(cookie) = exchange.set_cookie(&name).filter(|c| !c.value.is_empty()) else {
        return Err(world.fail(rule, format!("a fresh Set-Cookie for `{name}`"), "none"));
    };
    let remaining = (answer.expires_at - OffsetDateTime::now_utc()).whole_seconds();
    match cookie.max_age {
        Some(max_age) if (max_age - remaining).abs() <= 300 => Ok(()),
        other => Err(world.fail(
            rule,
            format!("Max-Age ≈ {remaining} s (the extended session.expiresAt)"),
            format!(
                "Max-Age {other:?}: {}",
                world.secrets().redact_set_cookie(&cookie.raw)
            ),
        )),
    }
}

#[then("the server keeps the session for about one day")]
async fn session_lasts_one_day(world: &mut AuthWorld) -> StepResult {
    let rule =
        "with rememberMe false the server-side session lasts one day, not the full expiresIn";
    // As the browser sends it: the session cookie with dont_remember (which also stops
    // get-session from extending the session), without the cookie cache.
    let token = started_session_cookie(world)?;
    let dont_remember = started_cookie(world, "dont_remember")?;
    let exchange = world
        .send(
            Request::get("/get-session").cookies(CookieChoice::Exactly(vec![
                (token.name, token.value),
                (dont_remember.name, dont_remember.value),
            ])),
        )
        .await?;
    let body = json_body(world, &exchange, rule)?;
    let answer = match parse_session_answer(&body) {
        Ok(Some(answer)) => answer,
        Ok(None) => return Err(world.fail(rule, "the session", "null (no session)")),
        Err(e) => return Err(world.fail(rule, "{session, user}", e)),
    };
    let remaining = (answer.expires_at - OffsetDateTime::now_utc()).whole_seconds();
    // One day, with slack for the time since sign-in and modest clock skew.
    if (remaining - 86_400).abs() > 600 {
        return Err(world.fail(
            rule,
            "session.expiresAt about 86400 s from now",
            format!(
                "session.expiresAt {} ({remaining} s from now)",
                answer.expires_at
            ),
        ));
    }
    Ok(())
}
