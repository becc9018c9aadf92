//! The cookie cache (`session_data`): issued with the session, honoured by get-session until its
//! maxAge (the documented revocation delay), never trusted alone or when forged.

use std::time::{Duration, Instant};

use cucumber::{given, then, when};

use super::cookies::fail_quoting_cookie;
use super::session::{started_cookie, started_session_cookie};
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{CookieChoice, Request};
use crate::protocol::cookie::SetCookie;
use crate::protocol::cookie_cache::forge_cached_email;
use crate::protocol::session::parse_session_answer;

/// The cookie cache cookie the session-starting answer set.
fn started_cache_cookie(world: &mut AuthWorld) -> Result<SetCookie, StepFailure> {
    started_cookie(world, "session_data")
}

#[then("the response sets the cookie cache cookie with the session cookie's attributes")]
async fn sets_cache_cookie(world: &mut AuthWorld) -> StepResult {
    let name = world.cookie_name("session_data");
    let rule = format!(
        "with the cookie cache on, sign-in sets `{name}` (HttpOnly, SameSite=Lax, Path=/, a positive Max-Age)"
    );
    let exchange = world.last_exchange()?;
    let Some(cookie) = exchange.set_cookie(&name).filter(|c| !c.value.is_empty()) else {
        return Err(world.fail(&rule, format!("a Set-Cookie for `{name}`"), "none"));
    };
    let https = world.target().is_https();
    let ok = cookie.http_only
        && cookie.same_site_is("Lax")
        && cookie.path.as_deref() == Some("/")
        && cookie.max_age.is_some_and(|m| m > 0)
        && cookie.secure == https;
    if !ok {
        let expected = format!(
            "{name}=…; Max-Age=<cache maxAge>; Path=/; HttpOnly; {}SameSite=Lax",
            if https { "Secure; " } else { "" }
        );
        return Err(fail_quoting_cookie(world, &rule, expected, &cookie));
    }
    Ok(())
}

#[given("the user keeps a copy of the session cookies")]
async fn keep_session_cookies(world: &mut AuthWorld) -> StepResult {
    let token = started_session_cookie(world)?;
    let cache = started_cache_cookie(world)?;
    world.kept_cookies = vec![(token.name, token.value), (cache.name, cache.value)];
    Ok(())
}

#[when("the kept session cookies are replayed to get-session")]
async fn replay_kept_cookies(world: &mut AuthWorld) -> StepResult {
    let cookies = world.kept_cookies.clone();
    if cookies.is_empty() {
        return Err(super::wiring(
            world,
            "a step that keeps the session cookies",
            "none ran",
        ));
    }
    super::send(
        world,
        Request::get("/get-session").cookies(CookieChoice::Exactly(cookies)),
    )
    .await
}

#[when("the user asks for the session with only the cookie cache cookie")]
async fn get_session_cache_only(world: &mut AuthWorld) -> StepResult {
    let cache = started_cache_cookie(world)?;
    super::get_session_with_cookie(world, cache).await?;
    Ok(())
}

#[when("the user asks for the session with a cookie cache forged to name another email")]
async fn get_session_forged_cache(world: &mut AuthWorld) -> StepResult {
    let token = started_session_cookie(world)?;
    let cache = started_cache_cookie(world)?;
    let Some(forged) = forge_cached_email(&cache.value, "forged-by-ba-harness@attacker.test")
    else {
        return Err(world.fail(
            "the cookie cache cookie is a recognisable cache (precondition)",
            "a compact, JWT or JWE cookie cache value",
            "a value in another format",
        ));
    };
    super::send(
        world,
        Request::get("/get-session").cookies(CookieChoice::Exactly(vec![
            (token.name, token.value),
            (cache.name, forged),
        ])),
    )
    .await
}

#[then("the forged cache is not believed")]
async fn forged_cache_not_believed(world: &mut AuthWorld) -> StepResult {
    let rule = "a cookie cache whose content was altered is not trusted (its signature is checked)";
    let (exchange, user) = super::last_exchange_and_user(world)?;
    let answer = exchange
        .json()
        .map_err(|e| e.to_string())
        .and_then(|b| parse_session_answer(&b));
    match answer {
        // No session at all is a safe answer; the user's own record (read from the database) too.
        Ok(None) => Ok(()),
        Ok(Some(s)) if s.user.email.eq_ignore_ascii_case(&user.email) => Ok(()),
        Ok(Some(s)) => Err(world.fail(
            rule,
            format!("the session of {} (or null)", user.email),
            format!(
                "a session for {}, taken from the forged cache",
                s.user.email
            ),
        )),
        Err(e) => Err(world.fail(rule, "JSON null or {session, user}", e)),
    }
}

#[then(
    "once the cookie cache lifetime has passed the kept session cookies get no session, and the measured revocation delay is reported"
)]
async fn revocation_delay_ends(world: &mut AuthWorld) -> StepResult {
    let rule = "after sign-out the cookie cache keeps a session alive for at most its maxAge";
    let max_age = world.target().cookie_cache_max_age.unwrap_or(0);
    let cookies = world.kept_cookies.clone();
    let started = Instant::now();
    // Poll once a second until the pair stops working, up to maxAge plus slack for clocks and
    // a loaded machine.
    let limit = Duration::from_secs(max_age.max(0) as u64 + 3);
    loop {
        let exchange = world
            .send(Request::get("/get-session").cookies(CookieChoice::Exactly(cookies.clone())))
            .await?;
        let alive = exchange
            .json()
            .ok()
            .and_then(|b| parse_session_answer(&b).ok().flatten())
            .is_some();
        if !alive {
            println!(
                "    revocation delay through the cookie cache: ~{:.1} s after sign-out (cache maxAge {max_age} s)",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(world.fail(
                rule,
                format!(
                    "no session within {} s of sign-out (maxAge {max_age} s)",
                    limit.as_secs()
                ),
                format!(
                    "still a session after {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
