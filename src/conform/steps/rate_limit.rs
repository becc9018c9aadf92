//! Rate limiting: a burst of sign-ins beyond the limit gets 429 with a retry header; without a
//! declared limit, a bounded probe finds it (protocol::rate_limit).

use cucumber::{then, when};

use super::accounts::sign_in_request;
use crate::conform::world::{AuthWorld, StepResult};
use crate::http::{CookieChoice, Exchange, Request};
use crate::protocol::rate_limit::{PROBE_ATTEMPTS, announced_retry, body_explains};

#[when("the user signs in with a wrong password as often as the rate limit allows, and once more")]
async fn burst_of_sign_ins(world: &mut AuthWorld) -> StepResult {
    let max = world.target().rate_limit_max;
    let limit = super::setting(
        world,
        max,
        "a known rate limit (--rate-limit-max)",
        "@rate-limit",
    )?;
    let user = world.user()?;
    world.burst.clear();
    for _ in 0..=limit {
        let request = sign_in_request(&user.email, &format!("{}-wrong", user.password), None)
            .cookies(CookieChoice::None)
            .seeing_limits();
        let exchange = world.send(request).await?;
        world.burst.push(exchange);
    }
    Ok(())
}

#[then("the requests within the limit are answered, not limited")]
async fn within_limit_not_limited(world: &mut AuthWorld) -> StepResult {
    let rule = "requests within the rate limit are not refused with 429";
    let limit = world.burst.len().saturating_sub(1);
    if let Some((index, exchange)) = world.burst[..limit]
        .iter()
        .enumerate()
        .find(|(_, e)| e.status == 429)
        .map(|(i, e)| (i, e.clone()))
    {
        return Err(world.fail_on(
            rule,
            format!("no 429 among the first {limit} requests"),
            format!("request {} of {limit} got 429", index + 1),
            Some(exchange.excerpt()),
        ));
    }
    Ok(())
}

#[then("the request beyond the limit gets 429 with a retry-after header in seconds")]
async fn beyond_limit_limited(world: &mut AuthWorld) -> StepResult {
    let rule = "a request beyond the rate limit gets 429 and says when to retry (X-Retry-After or Retry-After, seconds)";
    let Some(last) = world.burst.last().cloned() else {
        return Err(super::wiring(world, "a burst before this step", "none"));
    };
    world.last = Some(last.clone());
    if last.status != 429 {
        return Err(world.fail(rule, "HTTP 429", format!("HTTP {}", last.status)));
    }
    let retry = last
        .header("x-retry-after")
        .or_else(|| last.header("retry-after"))
        .map(str::to_string);
    match retry.as_deref().map(|v| v.trim().parse::<u64>()) {
        Some(Ok(seconds)) if seconds > 0 => Ok(()),
        Some(_) => Err(world.fail(
            rule,
            "a positive number of seconds",
            format!("retry header {:?}", retry.unwrap_or_default()),
        )),
        None => Err(world.fail(rule, "an X-Retry-After (or Retry-After) header", "none")),
    }
}

#[then("get-session is not limited by the sign-in limit")]
async fn get_session_unaffected(world: &mut AuthWorld) -> StepResult {
    let rule = "the sign-in rate limit does not limit other paths (get-session)";
    let exchange = world
        .send(
            Request::get("/get-session")
                .cookies(CookieChoice::None)
                .seeing_limits(),
        )
        .await?;
    if exchange.status != 200 {
        return Err(world.fail(rule, "HTTP 200", format!("HTTP {}", exchange.status)));
    }
    Ok(())
}

#[when("one client signs in with a wrong password until it is refused with 429, 30 times at most")]
async fn probe_burst(world: &mut AuthWorld) -> StepResult {
    // An email nobody registered: the probe needs no account, so it runs with sign-up closed.
    let stranger = world.random_user();
    world.burst.clear();
    for _ in 0..PROBE_ATTEMPTS {
        let request = sign_in_request(&stranger.email, &stranger.password, None)
            .cookies(CookieChoice::None)
            .seeing_limits();
        let exchange = world.send(request).await?;
        let limited = exchange.status == 429;
        world.burst.push(exchange);
        if limited {
            break;
        }
    }
    Ok(())
}

/// The probe's 429, or a skip: without one there is nothing to check (the @should scenario
/// "meets 429" reports the missing limit).
fn probe_429(world: &mut AuthWorld) -> Result<Exchange, crate::conform::world::StepFailure> {
    match world.burst.last().filter(|e| e.status == 429).cloned() {
        Some(e) => {
            world.last = Some(e.clone());
            Ok(e)
        }
        None => Err(world.skip(format!(
            "no rate limit seen in {} sign-in attempts, so no 429 to check (declare the limit \
             with --rate-limit-max N, or 0 if rate limiting is off)",
            world.burst.len()
        ))),
    }
}

#[then("the burst met a 429")]
async fn burst_met_429(world: &mut AuthWorld) -> StepResult {
    let rule = "sign-in is rate-limited: a burst of failed sign-ins from one client is refused \
                with 429 (Better Auth rateLimit, on in production)";
    if world.burst.iter().any(|e| e.status == 429) {
        return Ok(());
    }
    Err(world.fail(
        rule,
        format!("HTTP 429 within {PROBE_ATTEMPTS} attempts"),
        format!(
            "no rate limit seen in {} attempts (rateLimit off? Better Auth turns it off outside \
             production; --rate-limit-max 0 declares it off)",
            world.burst.len()
        ),
    ))
}

#[then("the 429 says when to retry, in seconds")]
async fn probe_429_retry(world: &mut AuthWorld) -> StepResult {
    let rule = "a 429 says when to retry: X-Retry-After (Better Auth) or Retry-After, in seconds \
                (RFC 6585 §4, RFC 9110 §10.2.3)";
    let limited = probe_429(world)?;
    match announced_retry(
        limited.header("x-retry-after"),
        limited.header("retry-after"),
    ) {
        Some(Ok(seconds)) if seconds > 0 => Ok(()),
        Some(Ok(_)) => Err(world.fail(rule, "a positive number of seconds", "0")),
        Some(Err(value)) => Err(world.fail(
            rule,
            "a whole number of seconds",
            format!("retry header {value:?}"),
        )),
        None => Err(world.fail(rule, "an X-Retry-After (or Retry-After) header", "none")),
    }
}

#[then("the 429's body is JSON that explains the refusal")]
async fn probe_429_body(world: &mut AuthWorld) -> StepResult {
    let rule = "a 429 explains the refusal in its body (RFC 6585 §4: SHOULD include details; \
                Better Auth sends JSON with a message)";
    let limited = probe_429(world)?;
    body_explains(&limited.body)
        .map_err(|problem| world.fail(rule, "JSON with a `message` or `error`", problem))
}

#[when("the same client signs in again claiming another address in X-Forwarded-For")]
async fn sign_in_other_address(world: &mut AuthWorld) -> StepResult {
    probe_429(world)?;
    let stranger = world.random_user();
    // TEST-NET-3 (RFC 5737): no virtual client of the harness uses it.
    let claimed = format!("203.0.113.{}", 1 + rand::random::<u8>() % 254);
    let request = sign_in_request(&stranger.email, &stranger.password, None)
        .cookies(CookieChoice::None)
        .header("x-forwarded-for", &claimed)
        .seeing_limits();
    super::send(world, request).await
}

#[then("that sign-in is refused with 429 too")]
async fn still_limited(world: &mut AuthWorld) -> StepResult {
    let rule = "a client cannot escape the rate limit by claiming another address in \
                X-Forwarded-For: trust only the header your proxy sets (Better Auth \
                advanced.ipAddress.ipAddressHeaders)";
    let exchange = world.last_exchange()?;
    if exchange.status == 429 {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "HTTP 429: the limit follows the client, not a header it chose",
        format!(
            "HTTP {}: a new X-Forwarded-For value got a fresh budget",
            exchange.status
        ),
    ))
}
