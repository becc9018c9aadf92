//! Rate limiting: a burst of sign-ins beyond the limit gets 429 with a retry header.

use cucumber::{then, when};

use super::accounts::sign_in_request;
use crate::conform::world::{AuthWorld, StepResult};
use crate::http::{CookieChoice, Request};

#[when("the user signs in with a wrong password as often as the rate limit allows, and once more")]
async fn burst_of_sign_ins(world: &mut AuthWorld) -> StepResult {
    let Some(limit) = world.target().rate_limit_max else {
        return Err(world.fail(
            "scenario wiring",
            "a known rate limit (--rate-limit-max)",
            "none (this scenario needs @rate-limit)",
        ));
    };
    let user = world.user()?;
    world.burst.clear();
    for _ in 0..=limit {
        let request = sign_in_request(&user.email, &format!("{}-wrong", user.password), None)
            .cookies(CookieChoice::None);
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
        return Err(world.fail("scenario wiring", "a burst before this step", "none"));
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
        .send(Request::get("/get-session").cookies(CookieChoice::None))
        .await?;
    if exchange.status != 200 {
        return Err(world.fail(rule, "HTTP 200", format!("HTTP {}", exchange.status)));
    }
    Ok(())
}
