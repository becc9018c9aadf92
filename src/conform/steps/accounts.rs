//! Making users and sessions: sign-up, sign-in, sign-out.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::conform::world::{AuthWorld, StepResult, TestUser};
use crate::discovery::sign_up_started_no_session;
use crate::http::{Client, CookieChoice, Exchange, Request};
use crate::protocol::session::{
    AuthAnswer, DEFAULT_MAX_PASSWORD_LENGTH, DEFAULT_MIN_PASSWORD_LENGTH, parse_auth_answer,
};

pub(crate) fn sign_up_request(user: &TestUser) -> Request {
    Request::post_json(
        "/sign-up/email",
        json!({"email": user.email, "password": user.password, "name": user.name}),
    )
    .cookies(CookieChoice::None)
}

pub(crate) fn sign_in_request(email: &str, password: &str, remember_me: Option<bool>) -> Request {
    let mut body = json!({"email": email, "password": password});
    if let Some(remember) = remember_me {
        body["rememberMe"] = Value::Bool(remember);
    }
    Request::post_json("/sign-in/email", body)
}

/// The sign-in that follows a sign-up which started no session (`{"token": null}` and no cookie:
/// emailAndPassword.autoSignIn false, or requireEmailVerification), so that a scenario's user
/// has a session all the same. `None` when the sign-up needs none: it started a session, or it
/// was refused (the caller judges that).
pub(crate) fn sign_in_after(sign_up: &Exchange, user: &TestUser) -> Option<Request> {
    sign_up_started_no_session(sign_up)
        .then(|| sign_in_request(&user.email, &user.password, None).cookies(CookieChoice::None))
}

/// The `{token, user}` answer of a sign-up or sign-in, or why its body is not one.
pub(crate) fn auth_answer(exchange: &Exchange) -> Result<AuthAnswer, String> {
    exchange
        .json()
        .map_err(|e| exchange.describe_json_error(&e))
        .and_then(|body| parse_auth_answer(&body))
}

pub(crate) use crate::harvest::register_answer_secrets;

/// The user a scenario starts with and the request that starts its session: the existing
/// account (`--user-email`, for targets with sign-up closed) signed in, or a fresh random user
/// signed up. Either request goes without cookies.
pub(crate) fn starting_user(
    world: &AuthWorld,
    account: Option<&crate::target::Account>,
) -> (TestUser, Request) {
    match account {
        Some(account) => (
            TestUser {
                email: account.email.clone(),
                password: account.password.clone(),
                name: String::new(),
                id: None,
            },
            sign_in_request(&account.email, &account.password, None).cookies(CookieChoice::None),
        ),
        None => {
            let user = world.random_user();
            let request = sign_up_request(&user);
            (user, request)
        }
    }
}

/// Signs a fresh random user up through a separate client, so the scenario's own client starts
/// without cookies; with `--user-email` (sign-up closed) it uses that account instead. A failure
/// here is a failed precondition and says so.
pub(crate) async fn register_user(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-up works (precondition)";
    let account = world.account.clone();
    let (mut user, request) = starting_user(world, account.as_ref());
    let mut setup = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let exchange = match setup.send(request).await {
        Ok(e) => e,
        Err(e) => {
            return Err(world.fail_on(rule, "a complete HTTP response", e.to_string(), None));
        }
    };
    register_answer_secrets(&exchange);
    crate::conform::world::passive::observe(world, &exchange)?;
    match auth_answer(&exchange) {
        Ok(answer) if exchange.status == 200 => {
            user.id = Some(answer.user.id);
            if user.name.is_empty() {
                user.name = answer.user.name;
            }
            world.user = Some(user);
            if account.is_some() {
                // The check sign-in's session is not the scenario's: end it at once, so an
                // account the harness did not create keeps no sessions from it.
                let _ = setup.send(Request::post_json("/sign-out", json!({}))).await;
            }
            Ok(())
        }
        Ok(_) | Err(_) if unusable_start(world, exchange.status).is_some() => {
            let reason = unusable_start(world, exchange.status).unwrap_or_default();
            Err(world.skip(reason))
        }
        Ok(_) => Err(world.fail_on(
            rule,
            "HTTP 200 with {token, user}",
            format!("HTTP {}", exchange.status),
            Some(exchange.excerpt()),
        )),
        Err(e) => Err(world.fail_on(
            rule,
            "HTTP 200 with {token, user}",
            format!("HTTP {}: {e}", exchange.status),
            Some(exchange.excerpt()),
        )),
    }
}

/// Why a refused start of a scenario's account is a missing precondition, not the server's
/// fault: sign-up is closed and no account was given, or the given account cannot sign in.
fn unusable_start(world: &AuthWorld, status: u16) -> Option<String> {
    if status == 200 || status == 429 || status >= 500 {
        return None;
    }
    if world.account.is_some() {
        Some(format!(
            "the given account could not sign in (HTTP {status}): check --user-email/--user-password (or --users-file)"
        ))
    } else {
        world
            .target()
            .sign_up_closed
            .as_ref()
            .map(|_| crate::target::SIGN_UP_CLOSED.to_string())
    }
}

#[given("a registered user")]
async fn a_registered_user(world: &mut AuthWorld) -> StepResult {
    register_user(world).await
}

#[given("a signed-in user")]
async fn a_signed_in_user(world: &mut AuthWorld) -> StepResult {
    if world.account.is_some() {
        register_user(world).await?;
        sign_in(world, true, None).await?;
    } else {
        a_new_user_signs_up_and_in(world).await?;
    }
    let exchange = world.last_exchange()?;
    let name = world.session_cookie_name();
    let has_cookie = exchange
        .set_cookies()
        .iter()
        .any(|c| c.name == name && !c.value.is_empty());
    if let Some(reason) = unusable_start(world, exchange.status) {
        return Err(world.skip(reason));
    }
    if exchange.status != 200 || !has_cookie {
        return Err(world.fail(
            "sign-up or sign-in with the right password starts a session (precondition)",
            format!("HTTP 200 setting the `{name}` cookie"),
            format!(
                "HTTP {}{}",
                exchange.status,
                if has_cookie {
                    ""
                } else {
                    " without that cookie"
                }
            ),
        ));
    }
    Ok(())
}

/// Signs the scenario's user in with the right (`right = true`) or a wrong password.
async fn sign_in(world: &mut AuthWorld, right: bool, remember_me: Option<bool>) -> StepResult {
    let user = world.user()?;
    let password = if right {
        user.password.clone()
    } else {
        let wrong = format!("{}-wrong", user.password);
        world.secrets().register(&wrong);
        wrong
    };
    let exchange = world
        .send(sign_in_request(&user.email, &password, remember_me))
        .await?;
    register_answer_secrets(&exchange);
    if exchange.status == 200 {
        world.session_start = Some(exchange);
    }
    Ok(())
}

#[when("a new user signs up with email and password")]
async fn a_new_user_signs_up(world: &mut AuthWorld) -> StepResult {
    let user = world.random_user();
    let exchange = world.send(sign_up_request(&user)).await?;
    register_answer_secrets(&exchange);
    world.user = Some(user);
    if exchange.status == 200 {
        world.session_start = Some(exchange.clone());
        if let Ok(answer) = auth_answer(&exchange)
            && let Some(user) = world.user.as_mut()
        {
            user.id = Some(answer.user.id);
        }
    }
    Ok(())
}

/// A fresh user with a session: sign-up starts one by itself (autoSignIn), which costs one
/// password hash on the server instead of two (most of a scenario's cost on a 2-core machine);
/// where sign-up starts none, the user signs in after it.
#[when("a new user signs up and signs in")]
async fn a_new_user_signs_up_and_in(world: &mut AuthWorld) -> StepResult {
    a_new_user_signs_up(world).await?;
    if sign_up_started_no_session(&world.last_exchange()?) {
        sign_in(world, true, None).await?;
    }
    Ok(())
}

#[when("the user signs in with the right password")]
async fn signs_in_right(world: &mut AuthWorld) -> StepResult {
    sign_in(world, true, None).await
}

#[when("the user signs in with the right password and rememberMe false")]
async fn signs_in_not_remembered(world: &mut AuthWorld) -> StepResult {
    sign_in(world, true, Some(false)).await
}

#[when("the user signs in with a wrong password")]
async fn signs_in_wrong(world: &mut AuthWorld) -> StepResult {
    sign_in(world, false, None).await
}

#[when("someone signs in with an email nobody registered")]
async fn signs_in_unknown(world: &mut AuthWorld) -> StepResult {
    let stranger = world.random_user();
    super::send(
        world,
        sign_in_request(&stranger.email, &stranger.password, None),
    )
    .await
}

#[when("someone signs up again with the same email and another password")]
async fn signs_up_again(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let other_password = format!("Other-{}", world.random_string(20));
    world.secrets().register(&other_password);
    let intruder = TestUser {
        email: user.email.clone(),
        password: other_password.clone(),
        name: "Someone Else".into(),
        id: None,
    };
    let exchange = world.send(sign_up_request(&intruder)).await?;
    register_answer_secrets(&exchange);
    // Kept for the follow-up check that the original account was not taken over.
    world.kept_password = Some(other_password);
    Ok(())
}

#[then("the original password still signs the user in")]
async fn original_password_works(world: &mut AuthWorld) -> StepResult {
    let rule = "a duplicate sign-up leaves the existing account as it was";
    let password = world.user()?.password;
    let (_, exchange) = super::sign_in_from_fresh_client(world, rule, &password).await?;
    let expected = "sign-in with the original password answers HTTP 200";
    super::require_status(world, &exchange, 200, rule, expected)
}

#[then("the other password does not sign the user in")]
async fn other_password_refused(world: &mut AuthWorld) -> StepResult {
    let rule = "a duplicate sign-up does not set a new password on the existing account";
    world.user()?;
    let Some(other) = world.kept_password.clone() else {
        return Err(world.fail(rule, "an earlier duplicate sign-up step", "none ran"));
    };
    let (_, exchange) = super::sign_in_from_fresh_client(world, rule, &other).await?;
    super::fail_if(
        world,
        exchange.status == 200,
        &exchange,
        rule,
        "sign-in with the duplicate sign-up's password is refused",
        "HTTP 200: the second sign-up's password works",
    )
}

#[when("the user signs out")]
async fn signs_out(world: &mut AuthWorld) -> StepResult {
    // better-call's client sends `{}` for a body-less POST; an empty JSON object is what a
    // browser's authClient.signOut() sends too.
    super::send(world, Request::post_json("/sign-out", json!({}))).await
}

#[when(
    regex = r"^someone signs up with a password one character (shorter than the minimum|longer than the maximum)$"
)]
async fn sign_up_outside_length(world: &mut AuthWorld, which: String) -> StepResult {
    let shorter = which.starts_with("shorter");
    let target = world.target();
    let (declared, default, flag, option) = if shorter {
        let min = target.min_password_length;
        (
            min,
            DEFAULT_MIN_PASSWORD_LENGTH,
            "--min-password-length",
            "minPasswordLength",
        )
    } else {
        let max = target.max_password_length;
        (
            max,
            DEFAULT_MAX_PASSWORD_LENGTH,
            "--max-password-length",
            "maxPasswordLength",
        )
    };
    let limit = declared.unwrap_or(default);
    let length = if shorter {
        limit.saturating_sub(1)
    } else {
        limit + 1
    };
    let mut user = world.random_user();
    user.password = world.random_string(length);
    let exchange = world.send(sign_up_request(&user)).await?;
    world.user = Some(user);
    // A deployment may set its own limit: only a declared one makes an accepted password wrong.
    if exchange.status == 200 && declared.is_none() {
        return Err(world.skip(format!(
            "sign-up accepted a {length}-character password: the deployment's \
             emailAndPassword.{option} is not Better Auth's default {default}; give {flag} N to \
             check the limit it has"
        )));
    }
    Ok(())
}

#[when("someone signs in without a password")]
async fn sign_in_without_password(world: &mut AuthWorld) -> StepResult {
    let stranger = world.random_user();
    super::send(
        world,
        Request::post_json("/sign-in/email", json!({"email": stranger.email}))
            .cookies(CookieChoice::None),
    )
    .await
}

#[when(expr = "someone signs in with the email {string}")]
async fn sign_in_with_email(world: &mut AuthWorld, email: String) -> StepResult {
    let stranger = world.random_user();
    super::send(
        world,
        sign_in_request(&email, &stranger.password, None).cookies(CookieChoice::None),
    )
    .await
}

#[when(expr = "someone signs up with the email {string}")]
async fn sign_up_with_email(world: &mut AuthWorld, email: String) -> StepResult {
    let mut user = world.random_user();
    user.email = email;
    world.send(sign_up_request(&user)).await?;
    world.user = Some(user);
    Ok(())
}

#[when("a new user signs up with a mixed-case email")]
async fn sign_up_mixed_case(world: &mut AuthWorld) -> StepResult {
    let mut user = world.random_user();
    // conform-abc@ba-harness.test -> Conform-ABC@BA-Harness.TEST
    user.email = user
        .email
        .replacen("conform-", "Conform-", 1)
        .replace("@ba-harness.test", "@BA-Harness.TEST");
    let exchange = world.send(sign_up_request(&user)).await?;
    register_answer_secrets(&exchange);
    if let Ok(answer) = auth_answer(&exchange) {
        user.id = Some(answer.user.id);
    }
    world.user = Some(user);
    Ok(())
}

#[then("the response body carries the email in lower case")]
async fn email_lower_case(world: &mut AuthWorld) -> StepResult {
    let rule = "emails are stored in lower case";
    let (exchange, user) = super::last_exchange_and_user(world)?;
    let body = super::json_body(world, &exchange, rule)?;
    let answer = parse_auth_answer(&body).map_err(|e| world.fail(rule, "{token, user}", e))?;
    let expected = user.email.to_lowercase();
    if answer.user.email != expected {
        return Err(world.fail(
            rule,
            format!("user.email {expected}"),
            format!("user.email {}", answer.user.email),
        ));
    }
    Ok(())
}

#[when("the user signs in with the email in lower case")]
async fn sign_in_lower_case(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let exchange = world
        .send(
            sign_in_request(&user.email.to_lowercase(), &user.password, None)
                .cookies(CookieChoice::None),
        )
        .await?;
    register_answer_secrets(&exchange);
    Ok(())
}
