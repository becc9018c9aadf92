//! The origin (CSRF) check: state-changing requests that carry cookies, or that say where they
//! come from, must come from a trusted origin; callback URLs must point to one.

use cucumber::{then, when};
use serde_json::json;

use super::accounts::sign_in_request;
use crate::conform::world::{AuthWorld, StepResult};
use crate::http::{Client, CookieChoice, Request};
use crate::protocol::origin::{
    Lookalike, grants_credentialed_access, lookalike_origins, lookalike_redirects,
};

/// The user's sign-in with no cookie and no Origin of the harness's own: the step adds what the
/// browser would say about where it comes from.
fn bare_sign_in(world: &mut AuthWorld) -> Result<Request, crate::conform::world::StepFailure> {
    let user = world.user()?;
    let mut request =
        sign_in_request(&user.email, &user.password, None).cookies(CookieChoice::None);
    request.send_origin = false;
    Ok(request)
}

#[when(expr = "the user signs out sending Origin {string}")]
async fn sign_out_with_origin(world: &mut AuthWorld, origin: String) -> StepResult {
    let mut request = Request::post_json("/sign-out", json!({}));
    request.send_origin = false;
    super::send(world, request.header("origin", &origin)).await
}

#[when("the user signs out without an Origin header")]
async fn sign_out_without_origin(world: &mut AuthWorld) -> StepResult {
    let mut request = Request::post_json("/sign-out", json!({}));
    request.send_origin = false;
    super::send(world, request).await
}

#[when(expr = "the user signs in from Origin {string}")]
async fn sign_in_from_origin(world: &mut AuthWorld, origin: String) -> StepResult {
    let request = bare_sign_in(world)?.header("origin", &origin);
    super::send(world, request).await
}

#[when(expr = "the user signs in with Referer {string} and no Origin")]
async fn sign_in_with_referer(world: &mut AuthWorld, referer: String) -> StepResult {
    let request = bare_sign_in(world)?.header("referer", &referer);
    super::send(world, request).await
}

#[when("the user signs in from a cross-site form navigation")]
async fn sign_in_cross_site_navigation(world: &mut AuthWorld) -> StepResult {
    let request = bare_sign_in(world)?
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document");
    super::send(world, request).await
}

#[when(expr = "the user signs in asking to be sent to callbackURL {string}")]
async fn sign_in_with_callback(world: &mut AuthWorld, callback: String) -> StepResult {
    let user = world.user()?;
    let request = Request::post_json(
        "/sign-in/email",
        json!({"email": user.email, "password": user.password, "callbackURL": callback}),
    )
    .cookies(CookieChoice::None);
    super::send(world, request).await
}

#[then("the user's session is still valid")]
async fn session_still_valid(world: &mut AuthWorld) -> StepResult {
    let rule = "the user's session stays valid on the server";
    // The session cookie alone: with the cookie cache on, session_data would vouch for a session
    // the server has already deleted, until the cache's maxAge (see cookie-cache.feature).
    let cookie = super::session::started_session_cookie(world)?;
    super::require_user_session(
        world,
        rule,
        vec![(cookie.name, cookie.value)],
        "get-session with the session cookie still returns the session of",
        "no session: the session was ended on the server",
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Origins and redirect targets that only look like the target's (protocol::origin)

/// The lookalikes of the target's own origin (the one origin the harness knows is trusted).
fn lookalikes(
    world: &mut AuthWorld,
    redirects: bool,
) -> Result<Vec<Lookalike>, crate::conform::world::StepFailure> {
    let origin = world.target().endpoint().origin;
    let all = if redirects {
        lookalike_redirects(&origin)
    } else {
        lookalike_origins(&origin)
    };
    all.ok_or_else(|| super::wiring(world, "the target's origin as scheme://host:port", origin))
}

#[when("the user signs out from each origin that only looks like the target's")]
async fn sign_out_from_lookalikes(world: &mut AuthWorld) -> StepResult {
    let mut burst = Vec::new();
    for lookalike in lookalikes(world, false)? {
        let mut request = Request::post_json("/sign-out", json!({}));
        request.send_origin = false;
        let exchange = world
            .send(request.header("origin", &lookalike.value))
            .await?;
        burst.push((lookalike, exchange));
    }
    world.lookalike_answers = burst;
    Ok(())
}

/// Where a sign-in attempt puts the lookalike.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    Origin,
    /// A Referer (a page on the lookalike origin) and no Origin header.
    Referer,
    CallbackUrl,
}

/// Each attempt from its own client (own address): Better Auth's sign-in rate limit counts
/// refused requests too.
async fn sign_in_attempts(world: &mut AuthWorld, placement: Placement) -> StepResult {
    let redirects = placement == Placement::CallbackUrl;
    let user = world.user()?;
    let mut burst = Vec::new();
    for lookalike in lookalikes(world, redirects)? {
        let mut client = Client::new(world.target().endpoint())
            .map_err(|e| world.fail("an HTTP client can be built", "a client", e.to_string()))?;
        let mut body = json!({"email": user.email, "password": user.password});
        let mut request;
        match placement {
            Placement::CallbackUrl => {
                body["callbackURL"] = json!(lookalike.value);
                request = Request::post_json("/sign-in/email", body);
            }
            Placement::Origin => {
                request = Request::post_json("/sign-in/email", body);
                request.send_origin = false;
                request = request.header("origin", &lookalike.value);
            }
            Placement::Referer => {
                request = Request::post_json("/sign-in/email", body);
                request.send_origin = false;
                request = request.header("referer", &format!("{}/login", lookalike.value));
            }
        }
        let exchange = client
            .send(request.cookies(CookieChoice::None))
            .await
            .map_err(|e| world.fail("the server answers sign-in", "an answer", e.to_string()))?;
        super::accounts::register_answer_secrets(&exchange);
        world.last = Some(exchange.clone());
        crate::conform::world::passive::observe(world, &exchange)?;
        burst.push((lookalike, exchange));
    }
    world.lookalike_answers = burst;
    Ok(())
}

#[when("the user signs in from each origin that only looks like the target's")]
async fn sign_in_from_lookalikes(world: &mut AuthWorld) -> StepResult {
    sign_in_attempts(world, Placement::Origin).await
}

#[when(
    "the user signs in with a Referer on each origin that only looks like the target's and no Origin"
)]
async fn sign_in_with_lookalike_referers(world: &mut AuthWorld) -> StepResult {
    sign_in_attempts(world, Placement::Referer).await
}

#[when(
    "the user signs in asking to be sent to each redirect target that only looks like the target's"
)]
async fn sign_in_with_lookalike_callbacks(world: &mut AuthWorld) -> StepResult {
    sign_in_attempts(world, Placement::CallbackUrl).await
}

#[then(expr = "every one of those requests was refused with 403 {string}")]
async fn all_refused(world: &mut AuthWorld, what: String) -> StepResult {
    let rule = format!(
        "{what} that only looks like the target's (same prefix, suffix, other scheme or port, userinfo) is not trusted: 403"
    );
    let session_name = world.session_cookie_name();
    let answers = std::mem::take(&mut world.lookalike_answers);
    for (lookalike, exchange) in &answers {
        let sets_session = exchange
            .set_cookies()
            .iter()
            .any(|c| c.name == session_name && !c.value.is_empty());
        if exchange.status != 403 || sets_session {
            return Err(world.fail_on(
                &rule,
                format!("403 for `{}` ({})", lookalike.value, lookalike.trick),
                format!(
                    "HTTP {}{}",
                    exchange.status,
                    if sets_session {
                        " setting a session cookie"
                    } else {
                        ""
                    }
                ),
                Some(exchange.excerpt()),
            ));
        }
    }
    Ok(())
}

#[when("a page on another origin sends CORS preflights and a credentialed get-session")]
async fn cors_probes(world: &mut AuthWorld) -> StepResult {
    let mut origins = vec![Lookalike {
        trick: "an unrelated site",
        value: "http://evil.ba-harness.test".into(),
    }];
    origins.extend(lookalikes(world, false)?);
    let mut burst = Vec::new();
    for lookalike in origins {
        for path in ["/sign-out", "/get-session"] {
            let mut preflight = Request::get(path)
                .cookies(CookieChoice::None)
                .header("origin", &lookalike.value)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type");
            preflight.method = reqwest::Method::OPTIONS;
            let exchange = world.send(preflight).await?;
            burst.push((lookalike.clone(), exchange));
        }
        let read = Request::get("/get-session").header("origin", &lookalike.value);
        let exchange = world.send(read).await?;
        burst.push((lookalike, exchange));
    }
    world.lookalike_answers = burst;
    Ok(())
}

#[then("no answer grants that origin credentialed access")]
async fn no_credentialed_cors(world: &mut AuthWorld) -> StepResult {
    let rule = "CORS: an untrusted origin is never granted credentialed access (Access-Control-Allow-Origin naming it with Allow-Credentials: true)";
    let answers = std::mem::take(&mut world.lookalike_answers);
    for (lookalike, exchange) in &answers {
        if grants_credentialed_access(
            exchange.header("access-control-allow-origin"),
            exchange.header("access-control-allow-credentials"),
            &lookalike.value,
        ) {
            return Err(world.fail_on(
                rule,
                format!(
                    "no Access-Control-Allow-Origin: {} with credentials ({})",
                    lookalike.value, lookalike.trick
                ),
                format!(
                    "{} {} answered Access-Control-Allow-Origin: {} and Access-Control-Allow-Credentials: true",
                    exchange.method,
                    super::responses::path_of(&exchange.url),
                    lookalike.value
                ),
                Some(exchange.excerpt()),
            ));
        }
    }
    Ok(())
}
