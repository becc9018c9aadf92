//! Isolation between users, and what account changes do to sessions: a second user in the same
//! scenario whose session, sessions list and profile the first user's requests must never reach;
//! change-password, delete-user and request-password-reset.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use super::accounts::{register_answer_secrets, sign_in_after, sign_up_request};
use crate::conform::world::passive::{observe, observe_other_user};
use crate::conform::world::state::OtherUser;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Exchange, Request};
use crate::protocol::session::parse_session_answer;

fn other_user(world: &mut AuthWorld) -> Result<OtherUser, StepFailure> {
    world.other_user.clone().ok_or_else(|| {
        super::wiring(
            world,
            "another user made by an earlier step",
            "none (the feature file misses `And another user is signed in`)",
        )
    })
}

#[given("another user is signed in")]
async fn another_user(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-up (and sign-in, where sign-up starts no session) of a second user starts its session (precondition)";
    let user = world.random_user();
    let mut client = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let mut exchange = client
        .send(sign_up_request(&user))
        .await
        .map_err(|e| world.fail_on(rule, "an answer to sign-up", e.to_string(), None))?;
    register_answer_secrets(&exchange);
    observe_other_user(world, &exchange)?;
    if let Some(sign_in) = sign_in_after(&exchange, &user) {
        exchange = client
            .send(sign_in)
            .await
            .map_err(|e| world.fail_on(rule, "an answer to sign-in", e.to_string(), None))?;
        register_answer_secrets(&exchange);
        observe_other_user(world, &exchange)?;
    }
    let token = exchange
        .json()
        .ok()
        .and_then(|b| b.get("token").and_then(Value::as_str).map(str::to_string));
    let name = world.session_cookie_name();
    let cookie = client.cookie(&name).map(|v| (name.clone(), v.to_string()));
    match (exchange.status, token, cookie) {
        (200, Some(token), Some(cookie)) => {
            world.passive.foreign_tokens.push(token.clone());
            world.other_user = Some(OtherUser {
                client,
                user,
                token,
                cookie,
            });
            Ok(())
        }
        _ => Err(world.fail_on(
            rule,
            format!("HTTP 200 with a token and the `{name}` cookie"),
            format!("HTTP {}", exchange.status),
            Some(exchange.excerpt()),
        )),
    }
}

/// get-session for the other user with its session cookie alone (not the cookie cache, which
/// would vouch for it without asking the store), from its own client.
async fn other_user_session(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(Exchange, Option<crate::protocol::session::SessionAnswer>), StepFailure> {
    let mut other = other_user(world)?;
    let exchange = other
        .client
        .send(
            Request::get("/get-session").cookies(CookieChoice::Exactly(vec![other.cookie.clone()])),
        )
        .await
        .map_err(|e| world.fail(rule, "an answer to get-session", e.to_string()))?;
    observe_other_user(world, &exchange)?;
    let answer = exchange
        .json()
        .ok()
        .and_then(|b| parse_session_answer(&b).ok().flatten());
    Ok((exchange, answer))
}

#[when("the user asks to revoke the other user's session by its token")]
async fn revoke_other_users_session(world: &mut AuthWorld) -> StepResult {
    let other = other_user(world)?;
    super::send(
        world,
        Request::post_json("/revoke-session", json!({"token": other.token})),
    )
    .await
}

#[then("the other user's session is still valid")]
async fn other_session_valid(world: &mut AuthWorld) -> StepResult {
    let rule = "a user cannot end another user's session: revoke-session only revokes the caller's own sessions";
    let other = other_user(world)?;
    let (exchange, answer) = other_user_session(world, rule).await?;
    if !answer.is_some_and(|a| a.user.email.eq_ignore_ascii_case(&other.user.email)) {
        return Err(world.fail_on(
            rule,
            format!(
                "get-session with the other user's cookie still returns {}",
                other.user.email
            ),
            "no session: the other user's session was ended",
            Some(exchange.excerpt()),
        ));
    }
    Ok(())
}

#[then("the list holds no session of the other user")]
async fn list_holds_no_foreign_session(world: &mut AuthWorld) -> StepResult {
    let rule = "list-sessions shows only the caller's sessions, never another user's";
    let other = other_user(world)?;
    let exchange = world.last_exchange()?;
    let body = super::json_body(world, &exchange, rule)?;
    let Some(sessions) = body.as_array() else {
        return Err(world.fail(rule, "a JSON array of sessions", "another JSON value"));
    };
    let own_id = world.user.as_ref().and_then(|u| u.id.clone());
    for s in sessions {
        let token = s.get("token").and_then(Value::as_str);
        let user_id = s.get("userId").and_then(Value::as_str);
        let foreign_owner = own_id
            .as_deref()
            .is_some_and(|own| user_id.is_some_and(|u| u != own));
        if token == Some(other.token.as_str()) || foreign_owner {
            return Err(world.fail(
                rule,
                "only sessions whose userId is the caller's",
                format!(
                    "a session of another user ({})",
                    user_id.unwrap_or("userId absent")
                ),
            ));
        }
    }
    Ok(())
}

#[when("the user changes their name")]
async fn change_name(world: &mut AuthWorld) -> StepResult {
    let name = format!("Renamed {}", world.random_string(8));
    world
        .send(Request::post_json("/update-user", json!({"name": name})))
        .await?;
    rename(world, name);
    Ok(())
}

#[when("the user changes their name, naming the other user's session token in the body")]
async fn change_name_with_foreign_token(world: &mut AuthWorld) -> StepResult {
    let other = other_user(world)?;
    let name = format!("Renamed {}", world.random_string(8));
    world
        .send(Request::post_json(
            "/update-user",
            json!({"name": name, "token": other.token, "sessionToken": other.token}),
        ))
        .await?;
    rename(world, name);
    Ok(())
}

/// The user's name is what update-user was asked to set (the later Then checks it took).
fn rename(world: &mut AuthWorld, name: String) {
    if let Some(user) = world.user.as_mut() {
        user.name = name;
    }
}

#[then("the other user's name is unchanged")]
async fn other_name_unchanged(world: &mut AuthWorld) -> StepResult {
    let rule = "update-user changes only the caller's own account";
    let other = other_user(world)?;
    let (exchange, answer) = other_user_session(world, rule).await?;
    let Some(answer) = answer else {
        return Err(world.fail_on(
            rule,
            "the other user's session, to read their name",
            "no session",
            Some(exchange.excerpt()),
        ));
    };
    super::fail_if(
        world,
        answer.user.name != other.user.name,
        &exchange,
        rule,
        format!("the other user's name still `{}`", other.user.name),
        format!("`{}`", answer.user.name),
    )
}

#[then("the user's session shows the new name")]
async fn own_name_changed(world: &mut AuthWorld) -> StepResult {
    let rule = "update-user changes the caller's account";
    let expected = world.user()?.name;
    let (_, body) = super::session::probe_started_session(world, rule).await?;
    let name = parse_session_answer(&body)
        .ok()
        .flatten()
        .map(|a| a.user.name)
        .unwrap_or_default();
    if name != expected {
        return Err(world.fail(
            rule,
            format!("the caller's name `{expected}`"),
            format!("`{name}`"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Account changes and sessions

#[when("the user changes their password and asks to revoke their other sessions")]
async fn change_password_revoking(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let new_password = format!("Pw-{}-{}", world.random_string(20), world.random_string(4));
    world.secrets().register(&new_password);
    world.kept_password = Some(new_password.clone());
    super::send(
        world,
        Request::post_json(
            "/change-password",
            json!({
                "currentPassword": user.password,
                "newPassword": new_password,
                "revokeOtherSessions": true,
            }),
        ),
    )
    .await
}

#[then("the password change ended the second device's session")]
async fn password_change_ended_second_device(world: &mut AuthWorld) -> StepResult {
    super::sessions::require_second_device_ended(
        world,
        "change-password with revokeOtherSessions ends every other session of the user",
    )
    .await
}

#[then("the user is still signed in with the cookies they were given")]
async fn still_signed_in_with_jar(world: &mut AuthWorld) -> StepResult {
    let rule = "change-password with revokeOtherSessions keeps the caller signed in (its session, or a new one it sets)";
    let name = world.session_cookie_name();
    let Some(value) = world.client.cookie(&name).map(str::to_string) else {
        return Err(world.fail(
            rule,
            format!("the caller still holds `{name}`"),
            "the answer cleared it and set no new one",
        ));
    };
    super::require_user_session(
        world,
        rule,
        vec![(name, value)],
        "get-session with the caller's session cookie returns",
        "no session",
    )
    .await
}

pub(crate) async fn sign_in_fresh(
    world: &mut AuthWorld,
    password: &str,
    rule: &str,
) -> Result<Exchange, StepFailure> {
    let user = world.user()?;
    // A fresh client (own address): the sign-in rate limit counts per client.
    let mut client = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let exchange = client
        .send(
            super::accounts::sign_in_request(&user.email, password, None)
                .cookies(CookieChoice::None),
        )
        .await
        .map_err(|e| world.fail(rule, "an answer to sign-in", e.to_string()))?;
    register_answer_secrets(&exchange);
    observe(world, &exchange)?;
    Ok(exchange)
}

/// The passwords that must no longer sign in: the phrase → (rule, expected, actual on failure).
const REFUSED_PASSWORDS: &[(&str, (&str, &str, &str))] = &[
    (
        "the old password no longer signs the user in",
        (
            "after change-password the old password no longer signs in",
            "sign-in with the old password refused",
            "HTTP 200: the old password still works",
        ),
    ),
    (
        "the deleted user's password signs no one in",
        (
            "after delete-user the account's credentials sign no one in",
            "sign-in with the deleted user's email and password refused",
            "HTTP 200: the deleted account still signs in",
        ),
    ),
];

/// Fails the rule unless signing in afresh with the user's password is refused.
#[then(
    regex = r"^(the old password no longer signs the user in|the deleted user's password signs no one in)$"
)]
async fn password_refused(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (rule, expected, actual) = *super::phrase_entry(world, REFUSED_PASSWORDS, &phrase)?;
    let user = world.user()?;
    let exchange = sign_in_fresh(world, &user.password, rule).await?;
    super::fail_if(
        world,
        exchange.status == 200,
        &exchange,
        rule,
        expected,
        actual,
    )
}

#[then("the new password signs the user in")]
async fn new_password_works(world: &mut AuthWorld) -> StepResult {
    let rule = "after change-password the new password signs in";
    let Some(password) = world.kept_password.clone() else {
        return Err(super::wiring(world, "a password change before", "none"));
    };
    let exchange = sign_in_fresh(world, &password, rule).await?;
    super::require_status(
        world,
        &exchange,
        200,
        rule,
        "HTTP 200 from sign-in with the new password",
    )?;
    Ok(())
}

#[when("the user deletes their account")]
async fn delete_account(world: &mut AuthWorld) -> StepResult {
    let exchange = world
        .send(Request::post_json("/delete-user", json!({})))
        .await?;
    // Deleting users is off by default in Better Auth (`user.deleteUser.enabled`), and may ask
    // for an emailed confirmation: then what happens after a deletion cannot be observed.
    match crate::cleanup::classify_delete_answer(exchange.status, exchange.json().ok().as_ref()) {
        crate::cleanup::DeleteAnswer::Disabled => Err(world.skip(
            "delete-user is off on this target (POST /delete-user answered 404): \
             enable user.deleteUser.enabled to check what a deletion ends",
        )),
        crate::cleanup::DeleteAnswer::NeedsConfirmation => Err(world.skip(
            "delete-user asks for an emailed confirmation (sendDeleteAccountVerification), \
             which the harness cannot read",
        )),
        _ => Ok(()),
    }
}

#[then("the answer clears every cookie the session started with")]
async fn answer_clears_session_cookies(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let started = super::started_cookies(world)
        .into_iter()
        .map(|c| c.name)
        .collect();
    super::cookies::check_all_cleared(world, &exchange, started, |name| {
        format!("delete-user clears the session's cookies, including `{name}`")
    })
}

#[then("none of the user's sessions is valid any more")]
async fn no_session_left(world: &mut AuthWorld) -> StepResult {
    let rule = "delete-user ends every session of the user";
    super::session::require_started_session_ended(
        world,
        rule,
        "null from get-session with the deleted user's session cookie",
        "the session is still valid",
    )
    .await?;
    super::sessions::require_device_session_ended(
        world,
        rule,
        false,
        "null from get-session with the second device's session cookie",
        "the second device's session is still valid",
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// request-password-reset: no account enumeration

async fn request_reset(world: &mut AuthWorld, email: &str) -> Result<Exchange, StepFailure> {
    world
        .send(
            Request::post_json(
                "/request-password-reset",
                json!({"email": email, "redirectTo": "/reset-password"}),
            )
            .cookies(CookieChoice::None),
        )
        .await
}

#[when("someone asks for a password reset for the user's email and for an email nobody registered")]
async fn reset_known_and_unknown(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let known = request_reset(world, &user.email).await?;
    let unknown_email = format!(
        "nobody-{}@ba-harness.test",
        world.random_string(12).to_lowercase()
    );
    let unknown = request_reset(world, &unknown_email).await?;
    world.burst = vec![known, unknown];
    Ok(())
}

/// The parts of an answer that could tell a registered email from an unknown one.
fn reset_answer_shape(exchange: &Exchange) -> (u16, Option<Value>) {
    (exchange.status, exchange.json().ok())
}

#[then("both answers are the same")]
async fn answers_alike(world: &mut AuthWorld) -> StepResult {
    let rule = "request-password-reset answers a registered and an unknown email alike (no account enumeration)";
    let [known, unknown] = world.burst.as_slice() else {
        return Err(super::wiring(world, "two password reset answers", "none"));
    };
    let (known, unknown) = (known.clone(), unknown.clone());
    if reset_answer_shape(&known) != reset_answer_shape(&unknown) {
        return Err(world.fail_on(
            rule,
            format!(
                "the same status and body for both (registered: HTTP {})",
                known.status
            ),
            format!(
                "HTTP {} for the unknown email: {}",
                unknown.status,
                world.secrets().scrub_text(&unknown.body)
            ),
            Some(unknown.excerpt()),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Revocation reaches the bearer token (bearer plugin)

#[then("the second device's bearer token is no session either")]
async fn second_device_bearer_dead(world: &mut AuthWorld) -> StepResult {
    let rule = "a revoked session is no session through the bearer plugin either (Authorization: Bearer with its signed token)";
    super::sessions::require_device_session_ended(
        world,
        rule,
        true,
        "null from get-session with the revoked session's bearer token",
        "the session is still valid through its bearer token",
    )
    .await
}
