//! Lifetimes the harness can only watch when the target declares them: the password-reset
//! token read from a mailbox (`--mailbox`: it ends the user's sessions, works once, and only
//! until it expires) and sessions past session.expiresIn or session.freshAge
//! (`--session-expires-in`, `--fresh-age`). The scenarios' capability tags keep them from
//! running without the setting.

use std::time::Duration;

use cucumber::{then, when};
use serde_json::{Value, json};

use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Request};
use crate::protocol::reset::{mailbox_query, reset_token};
use crate::protocol::session::parse_session_answer;

/// How long the harness looks for a reset message (sending may run in the background).
const MAILBOX_WAIT: Duration = Duration::from_secs(5);
/// Waited past a declared lifetime, for the clocks of harness and server to agree.
const LIFETIME_MARGIN: Duration = Duration::from_millis(1500);

const RULE_RESET_ENDS_SESSIONS: &str =
    "reset-password with revokeSessionsOnPasswordReset ends every earlier session of the user";
const RULE_TOKEN_ONCE: &str =
    "a password reset token works once and only until it expires (resetPasswordTokenExpiresIn)";

// ---------------------------------------------------------------------------------------------
// Password reset through the mailbox

#[when("the user asks for a password reset")]
async fn ask_for_reset(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let exchange = world
        .send(
            Request::post_json(
                "/request-password-reset",
                json!({"email": user.email, "redirectTo": "/reset-password"}),
            )
            .cookies(CookieChoice::None),
        )
        .await?;
    let code = exchange
        .json()
        .ok()
        .and_then(|b| b.get("code").and_then(Value::as_str).map(str::to_string));
    if code.as_deref() == Some("RESET_PASSWORD_DISABLED") {
        return Err(world.skip(
            "password reset is off on this target (request-password-reset answered \
             RESET_PASSWORD_DISABLED: no emailAndPassword.sendResetPassword)",
        ));
    }
    if exchange.status != 200 {
        return Err(world.fail(
            "request-password-reset accepts a registered email (precondition)",
            "HTTP 200",
            format!("HTTP {}", exchange.status),
        ));
    }
    // When the link stops working, for the expiry scenario.
    world.kept_expiry = world
        .target()
        .account_settings
        .reset_token_expires_in
        .map(|secs| time::OffsetDateTime::now_utc() + Duration::from_secs(secs));
    Ok(())
}

#[when("the reset link has expired")]
async fn reset_link_expired(world: &mut AuthWorld) -> StepResult {
    let Some(expiry) = world.kept_expiry else {
        return Err(world.skip(
            "emailAndPassword.resetPasswordTokenExpiresIn is not known (--reset-token-expires-in)",
        ));
    };
    let left = expiry - time::OffsetDateTime::now_utc();
    let left = Duration::try_from(left).unwrap_or_default();
    tokio::time::sleep(left + LIFETIME_MARGIN).await;
    Ok(())
}

#[when("the user sets a new password with the link from the mailbox")]
async fn reset_with_mailbox_link(world: &mut AuthWorld) -> StepResult {
    let token = read_reset_token(world).await?;
    let password = format!(
        "Reset-{}-{}",
        world.random_string(20),
        world.random_string(4)
    );
    world.secrets().register(&password);
    // The password this reset asks for: the later steps check whether it took.
    world.kept_password = Some(password.clone());
    world
        .send(
            Request::post_json(
                "/reset-password",
                json!({"token": token, "newPassword": password}),
            )
            .cookies(CookieChoice::None),
        )
        .await?;
    Ok(())
}

/// The token of the newest reset message to the user's address, looked for up to
/// [`MAILBOX_WAIT`]. No mailbox, or no message in it, is a missing precondition.
async fn read_reset_token(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let user = world.user()?;
    let Some(mailbox) = world.target().account_settings.mailbox.clone() else {
        return Err(world.skip("no mailbox to read the reset link from (--mailbox URL)"));
    };
    let url = mailbox_query(&mailbox, &user.email);
    let mut endpoint = world.target().endpoint().unobserved();
    endpoint.origin = url.origin().ascii_serialization();
    endpoint.base_path = String::new();
    let path = url[url::Position::BeforePath..].to_string();
    let mut client = Client::new(endpoint).map_err(|e| {
        world.fail(
            "the mailbox can be read (precondition)",
            "an HTTP client",
            e.to_string(),
        )
    })?;
    let deadline = tokio::time::Instant::now() + MAILBOX_WAIT;
    loop {
        let last = match client
            .send(Request::get(&path).cookies(CookieChoice::None))
            .await
        {
            Ok(answer) if answer.status == 200 => {
                let message = answer.json().map_err(|e| e.to_string());
                match message.and_then(|m| reset_token(&m)) {
                    Ok(token) => {
                        world.secrets().register(&token);
                        return Ok(token);
                    }
                    Err(e) => format!("HTTP 200 that is not a reset message: {e}"),
                }
            }
            Ok(answer) => format!("HTTP {}", answer.status),
            Err(e) => world.secrets().scrub_text(&e.to_string()),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(world.skip(format!(
                "the mailbox ({mailbox}) held no reset message for the user within {} s ({last}): \
                 check what --mailbox answers (docs/configuration.md)",
                MAILBOX_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[then("the reset ended the session the user started with")]
async fn reset_ended_own_session(world: &mut AuthWorld) -> StepResult {
    require_started_session_ended(world, RULE_RESET_ENDS_SESSIONS, "from before the reset").await
}

/// Fails `rule` unless get-session with the session cookie the user started with (alone, from
/// a fresh client) answers no session; `which` says which session it was.
async fn require_started_session_ended(
    world: &mut AuthWorld,
    rule: &str,
    which: &str,
) -> StepResult {
    let (exchange, body) = super::session::probe_started_session(world, rule).await?;
    if parse_session_answer(&body).ok().flatten().is_some() {
        return Err(world.fail_on(
            rule,
            format!("null from get-session with the session cookie {which}"),
            "the session is still valid",
            Some(exchange.excerpt()),
        ));
    }
    Ok(())
}

#[then("the reset ended the second device's session")]
async fn reset_ended_second_device(world: &mut AuthWorld) -> StepResult {
    super::sessions::require_second_device_ended(world, RULE_RESET_ENDS_SESSIONS).await
}

#[then("the new password from the reset signs the user in")]
async fn reset_password_works(world: &mut AuthWorld) -> StepResult {
    let rule = "after reset-password the new password signs in";
    require_reset_password_sign_in(world, rule, true).await
}

#[then("the reset is refused")]
async fn reset_refused(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    if (200..300).contains(&exchange.status) {
        return Err(world.fail(
            RULE_TOKEN_ONCE,
            "reset-password refuses the token (INVALID_TOKEN)",
            format!("HTTP {}: the token was accepted", exchange.status),
        ));
    }
    Ok(())
}

#[then("the password of the refused reset does not sign the user in")]
async fn refused_password_does_not_work(world: &mut AuthWorld) -> StepResult {
    require_reset_password_sign_in(world, RULE_TOKEN_ONCE, false).await
}

/// Fails `rule` unless sign-in with the password the last reset asked for (from a fresh
/// client) succeeds when the reset `took`, and is refused when it did not.
async fn require_reset_password_sign_in(
    world: &mut AuthWorld,
    rule: &str,
    took: bool,
) -> StepResult {
    let Some(password) = world.kept_password.clone() else {
        return Err(world.fail("scenario wiring", "a password reset before", "none"));
    };
    let exchange = super::isolation::sign_in_fresh(world, &password, rule).await?;
    if (exchange.status == 200) == took {
        return Ok(());
    }
    let (expected, actual) = if took {
        (
            "HTTP 200 from sign-in with the password the reset set",
            format!("HTTP {}", exchange.status),
        )
    } else {
        (
            "sign-in with the password of the refused reset is refused",
            "HTTP 200: the refused reset set its password".to_string(),
        )
    };
    Err(world.fail_on(rule, expected, actual, Some(exchange.excerpt())))
}

// ---------------------------------------------------------------------------------------------
// Sessions past expiresIn and freshAge

/// Checks the session the user started with is valid now (else the wait proves nothing), then
/// waits `secs` and the margin.
async fn outlive(world: &mut AuthWorld, secs: Option<u64>, setting: &str) -> StepResult {
    let Some(secs) = secs else {
        return Err(world.skip(format!("{setting} is not known")));
    };
    let rule = "a new session is valid (precondition)";
    let (exchange, body) = super::session::probe_started_session(world, rule).await?;
    if parse_session_answer(&body).ok().flatten().is_none() {
        return Err(world.fail_on(
            rule,
            "the session from get-session with the new session's cookie",
            "no session",
            Some(exchange.excerpt()),
        ));
    }
    tokio::time::sleep(Duration::from_secs(secs) + LIFETIME_MARGIN).await;
    Ok(())
}

#[when("the session has outlived session.expiresIn")]
async fn outlive_expires_in(world: &mut AuthWorld) -> StepResult {
    let secs = world.target().account_settings.session_expires_in;
    outlive(world, secs, "session.expiresIn (--session-expires-in)").await
}

#[when("the session has outlived session.freshAge")]
async fn outlive_fresh_age(world: &mut AuthWorld) -> StepResult {
    let secs = world.target().account_settings.fresh_age;
    outlive(world, secs, "session.freshAge (--fresh-age)").await?;
    // Still a session (only not fresh), or the refusal would say nothing about freshness.
    let (_, body) =
        super::session::probe_started_session(world, "a stale session is still valid").await?;
    if parse_session_answer(&body).ok().flatten().is_none() {
        return Err(world.skip(
            "the session expired before it was older than session.freshAge: session.expiresIn \
             must be longer than freshAge by a few seconds",
        ));
    }
    Ok(())
}

#[then("the session the user started with is no session any more")]
async fn expired_session_is_none(world: &mut AuthWorld) -> StepResult {
    let rule = "a session past session.expiresIn is no session";
    require_started_session_ended(world, rule, "of the expired session").await
}

#[then("the stale session did not delete the user")]
async fn stale_session_refused(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    if (200..300).contains(&exchange.status) {
        return Err(world.fail(
            "a session older than session.freshAge cannot delete its user (delete-user without a password)",
            "delete-user refused (SESSION_EXPIRED)",
            format!("HTTP {}: the user was deleted", exchange.status),
        ));
    }
    Ok(())
}
