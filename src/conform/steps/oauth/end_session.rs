//! End session (OIDC RP-Initiated Logout 1.0).

use super::*;
use crate::conform::steps::cookies::fail_quoting_cookie;

pub(super) async fn end_session_call(
    world: &mut AuthWorld,
    post_logout_redirect_uri: &str,
    cookies: CookieChoice,
) -> StepResult {
    end_session_with_hint(world, post_logout_redirect_uri, cookies, kept_hint).await
}

/// The ID token as the server issued it, as the hint.
fn kept_hint(id_token: &str) -> Result<String, String> {
    Ok(id_token.to_string())
}

/// End session with the ID token turned into the hint by `hint` (kept, or forged).
pub(super) async fn end_session_with_hint(
    world: &mut AuthWorld,
    post_logout_redirect_uri: &str,
    cookies: CookieChoice,
    hint: fn(&str) -> Result<String, String>,
) -> StepResult {
    let id_token = id_token_hint(world, hint)?;
    let state = format!("ls-{}", world.random_string(16));
    let request = endpoint_get(
        world,
        "end_session_endpoint",
        |d| d.end_session_endpoint.clone(),
        |endpoint| end_session_url(endpoint, &id_token, post_logout_redirect_uri, &state),
    )
    .await?;
    world.oauth.logout_state = Some(state);
    send(world, request.cookies(cookies)).await.map(|_| ())
}

pub(super) fn post_logout_uri(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let client = client_config(world)?;
    match client.post_logout_redirect_uri {
        Some(uri) => Ok(uri),
        None => Err(world.fail_on(
            &precondition("the OAuth client has a registered post_logout_redirect_uri"),
            "--post-logout-redirect-uri",
            "none was given",
            None,
        )),
    }
}

/// End session requests to the registered post_logout_redirect_uri: what follows "end session
/// is requested with" → how the hint is made from the ID token, and the cookies sent.
type HintRequest = (fn(&str) -> Result<String, String>, CookieChoice);
const HINT_REQUESTS: &[(&str, HintRequest)] = &[
    (
        "the ID token, the registered post_logout_redirect_uri and a state",
        (kept_hint, CookieChoice::Jar),
    ),
    (
        "the ID token but without the user's session cookie",
        (kept_hint, CookieChoice::None),
    ),
    (
        "an unsigned copy of the ID token (alg none), the registered post_logout_redirect_uri and a state",
        (crate::protocol::forge::unsigned_copy, CookieChoice::Jar),
    ),
    (
        "the ID token's signature altered, the registered post_logout_redirect_uri and a state",
        (
            crate::protocol::forge::with_signature_altered,
            CookieChoice::Jar,
        ),
    ),
];

#[when(
    regex = r"^end session is requested with (the ID token, the registered post_logout_redirect_uri and a state|the ID token but without the user's session cookie|an unsigned copy of the ID token \(alg none\), the registered post_logout_redirect_uri and a state|the ID token's signature altered, the registered post_logout_redirect_uri and a state)$"
)]
async fn end_session_registered(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (hint, cookies) =
        crate::conform::steps::phrase_entry(world, HINT_REQUESTS, &phrase)?.clone();
    let uri = post_logout_uri(world)?;
    end_session_with_hint(world, &uri, cookies, hint).await
}

#[when("end session is requested with an unregistered post_logout_redirect_uri")]
async fn end_session_unregistered(world: &mut AuthWorld) -> StepResult {
    let registered = post_logout_uri(world)?;
    let unregistered = unregistered_variant(&registered, "/ba-harness-unregistered-logout");
    world.oauth.unregistered_logout_uri = Some(unregistered.clone());
    end_session_call(world, &unregistered, CookieChoice::Jar).await
}

#[then("end session neither redirects to the post_logout_redirect_uri nor ends the user's session")]
async fn end_session_forged_hint_refused(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_FORGED_HINT;
    let answer = world.last_exchange()?;
    let uri = post_logout_uri(world)?;
    if let Some(Ok(target)) = redirect_of(&answer)
        && target.is_at(&uri)
    {
        return Err(world.fail(
            rule,
            "no redirect to the post_logout_redirect_uri (an error, or a confirmation page)",
            format!(
                "HTTP {} to the post_logout_redirect_uri ({}): the forged hint was accepted",
                answer.status,
                target.describe()
            ),
        ));
    }
    let Some(probe) = ended_session_probe(world, rule).await? else {
        return Ok(());
    };
    Err(world.fail_on(
        rule,
        "the user's session still valid after the request",
        format!(
            "end session answered HTTP {} and get-session with the user's session cookie then answers null: the forged hint ended the session",
            answer.status
        ),
        Some(format!("{}\n{}", answer.excerpt(), probe.excerpt())),
    ))
}

#[then("end session redirects to the post_logout_redirect_uri with the same state")]
pub(super) async fn end_session_redirects(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_REDIRECT;
    let uri = post_logout_uri(world)?;
    let exchange = world.last_exchange()?;
    let state = world.oauth.logout_state.clone().unwrap_or_default();
    let target = match redirect_of(&exchange) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return Err(world.fail(rule, format!("a redirect to {uri}?state={state}"), e));
        }
        None => {
            return Err(world.fail(
                rule,
                format!("a redirect to {uri}?state={state}"),
                format!("HTTP {} without a redirect", exchange.status),
            ));
        }
    };
    if !target.is_at(&uri) {
        return Err(world.fail(
            rule,
            format!("a redirect to {uri}"),
            format!("a redirect to {}", target.describe()),
        ));
    }
    let missing = (format!("state={state}"), "no state parameter".to_string());
    require_param_once(world, rule, &target, ("state", &state), missing)
}

pub(super) fn is_cleared(cookie: &SetCookie, original: &SetCookie) -> bool {
    let expired = cookie.max_age.is_some_and(|m| m <= 0)
        || (cookie.max_age.is_none()
            && cookie
                .expires
                .as_deref()
                .is_some_and(|e| e.contains("1970")));
    expired && cookie.path == original.path
}

#[then("end session clears the session cookies")]
async fn end_session_clears(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_COOKIES;
    let exchange = world.last_exchange()?;
    let started = crate::conform::steps::started_cookies(world);
    if started.is_empty() {
        return Err(world.fail(
            &precondition("a session was started"),
            "cookies set by sign-in",
            "none",
        ));
    }
    for original in started {
        match exchange.set_cookie(&original.name) {
            Some(c) if is_cleared(&c, &original) => {}
            Some(c) => {
                let expected = format!(
                    "{}=; Max-Age=0; Path={}",
                    original.name,
                    original.path.as_deref().unwrap_or("/")
                );
                return Err(fail_quoting_cookie(world, rule, expected, &c));
            }
            None => {
                return Err(world.fail(
                    rule,
                    format!("Set-Cookie: {}=; Max-Age=0", original.name),
                    format!("no Set-Cookie for `{}`", original.name),
                ));
            }
        }
    }
    Ok(())
}

#[then("end session leaves no session behind the old session cookie")]
async fn end_session_ends(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_ENDS;
    let (_, body) = crate::conform::steps::session::probe_started_session(world, rule).await?;
    if body.is_null() {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "null",
        match body
            .get("user")
            .and_then(|u| u.get("email"))
            .and_then(Value::as_str)
        {
            Some(email) => format!("the session of {email} is still valid"),
            None => "a non-null answer".into(),
        },
    ))
}

#[then("the user's session survives until the End-User confirms the logout")]
async fn session_survives_unconfirmed_logout(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_CONFIRM;
    let answer = world.last_exchange()?;
    let uri = post_logout_uri(world)?;
    let Some(probe) = ended_session_probe(world, rule).await? else {
        return Ok(());
    };
    let how = match redirect_of(&answer) {
        Some(Ok(target)) if target.is_at(&uri) => format!(
            "{ENDED_WITHOUT_ASKING}: end session answered HTTP {} to the post_logout_redirect_uri ({})",
            answer.status,
            target.describe()
        ),
        Some(Ok(target)) => format!(
            "the session was ended: end session answered HTTP {} to {}",
            answer.status,
            target.describe()
        ),
        _ => format!(
            "the session was ended although end session answered HTTP {} ({})",
            answer.status,
            answer.content_type().unwrap_or("no content-type")
        ),
    };
    Err(world.fail_on(
        rule,
        "the session still valid after the request: the OP asks the End-User first (a confirmation page) or declines",
        format!("{how}; get-session with the user's session cookie then answers null"),
        Some(format!("{}\n{}", answer.excerpt(), probe.excerpt())),
    ))
}

#[then("end session does not redirect to the unregistered post_logout_redirect_uri")]
async fn end_session_not_unregistered(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_UNREGISTERED;
    let exchange = world.last_exchange()?;
    let Some(unregistered) = world.oauth.unregistered_logout_uri.clone() else {
        return Err(world.fail(
            rule,
            "an end-session request with an unregistered URI",
            "none",
        ));
    };
    if let Some(Ok(target)) = redirect_of(&exchange)
        && target.is_at(&unregistered)
    {
        return Err(world.fail(
            rule,
            format!("no redirect to {unregistered}"),
            format!("HTTP {} to {}", exchange.status, target.describe()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_end_session_deviation_matches_the_reported_text() {
        // cargo runs unit tests in the package root.
        let path = std::path::Path::new("known-deviations.toml");
        let list = crate::deviations::load(path).unwrap();
        let entry = list
            .iter()
            .find(|d| {
                d.scenario
                    == "End session without the user's session asks the End-User before logging out"
            })
            .expect("the end-session deviation is listed");
        assert!(
            entry.actual_contains.starts_with(ENDED_WITHOUT_ASKING),
            "{}",
            entry.actual_contains
        );
    }
}
