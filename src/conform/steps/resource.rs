//! Steps for a resource server that verifies the issuer's JWTs (features/resource-server.feature).
//! The issuer is the target, or the bundled issuer a bundled run starts for these scenarios
//! (`Target::resource_issuer`); users sign in there with clients of their own. Every JWT made
//! or received is registered as a secret; the checks are `protocol::resource::check_*`.

use std::time::{Duration, Instant};

use cucumber::{given, then, when};

use crate::conform::steps::accounts::{register_answer_secrets, sign_in_after, starting_user};
use crate::conform::world::state::{Call, IssuerUser};
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Endpoint, Exchange, Request};
use crate::protocol::jwt;
use crate::protocol::resource::{
    ExpectedUser, check_accepted, check_bearer_challenge, check_refused, token_from_answer,
};
use crate::resource_server;
use crate::target::{LONGEST_ROTATION_WAIT_SECS, ResourceIssuer};

const ISSUER_PRECONDITION: &str = "the issuer signs the user in and issues JWTs (precondition)";

fn issuer(world: &AuthWorld) -> ResourceIssuer {
    world.target().resource_issuer()
}

/// A failure of `rule` quoting `exchange`.
fn fail_with(
    world: &mut AuthWorld,
    rule: &str,
    expected: impl Into<String>,
    actual: impl Into<String>,
    exchange: Option<&Exchange>,
) -> StepFailure {
    world.fail_on(rule, expected, actual, exchange.map(Exchange::excerpt))
}

// --- Given: users at the issuer -------------------------------------------------------------

/// Signs a fresh user up at the issuer (or in, with `--user-email`), in a client of its own.
async fn sign_in_at_issuer(world: &mut AuthWorld) -> Result<IssuerUser, StepFailure> {
    let issuer = issuer(world);
    let mut endpoint = Endpoint::new(&issuer.base_url, &issuer.base_path, world.target().timeout);
    endpoint.client_ips = world.target().client_ips.clone();
    endpoint.secrets = world.secrets().clone();
    if issuer.base_url == world.target().base_url {
        endpoint.ca_pem = world.target().ca_pem.clone();
    }
    let mut client = Client::new(endpoint)
        .map_err(|e| world.fail_on(ISSUER_PRECONDITION, "an HTTP client", e.to_string(), None))?;
    // The --user-email account lives on the target; a separate issuer gets a fresh user.
    let account = world
        .account
        .clone()
        .filter(|_| issuer.base_url == world.target().base_url);
    let (mut user, request) = starting_user(world, account.as_ref());
    let incomplete = |world: &mut AuthWorld, e: crate::http::HttpError| {
        world.fail_on(
            ISSUER_PRECONDITION,
            "a complete HTTP response",
            e.to_string(),
            None,
        )
    };
    let mut exchange = match client.send(request).await {
        Ok(exchange) => exchange,
        Err(e) => return Err(incomplete(world, e)),
    };
    register_answer_secrets(&exchange);
    if let Some(sign_in) = sign_in_after(&exchange, &user) {
        exchange = match client.send(sign_in).await {
            Ok(exchange) => exchange,
            Err(e) => return Err(incomplete(world, e)),
        };
        register_answer_secrets(&exchange);
    }
    match super::accounts::auth_answer(&exchange) {
        Ok(answer) if exchange.status == 200 => {
            user.id = Some(answer.user.id);
            Ok(IssuerUser { user, client })
        }
        Ok(_) => Err(fail_with(
            world,
            ISSUER_PRECONDITION,
            "HTTP 200 with {token, user}",
            format!("HTTP {}", exchange.status),
            Some(&exchange),
        )),
        Err(e) => Err(fail_with(
            world,
            ISSUER_PRECONDITION,
            "HTTP 200 with {token, user}",
            format!("HTTP {}: {e}", exchange.status),
            Some(&exchange),
        )),
    }
}

#[given("a user signed in at the issuer")]
async fn a_user_at_the_issuer(world: &mut AuthWorld) -> StepResult {
    let user = sign_in_at_issuer(world).await?;
    world.resource.users.push(user);
    Ok(())
}

#[given("two users signed in at the issuer")]
async fn two_users_at_the_issuer(world: &mut AuthWorld) -> StepResult {
    for _ in 0..2 {
        let user = sign_in_at_issuer(world).await?;
        world.resource.users.push(user);
    }
    Ok(())
}

// --- getting JWTs from the issuer ------------------------------------------------------------

/// GET `<path>/token` at the issuer with user `index`'s session (`profile`: one of the bundled
/// reference's JWT_TEST_PROFILES, on the same session). Returns the JWT.
async fn fresh_jwt(
    world: &mut AuthWorld,
    index: usize,
    profile: Option<&str>,
) -> Result<String, StepFailure> {
    let issuer = issuer(world);
    let Some(mut holder) = world.resource.users.get(index).cloned() else {
        return Err(super::wiring(
            world,
            "a user signed in at the issuer by an earlier step",
            "none (the feature misses a Given step)",
        ));
    };
    let mut request = match profile {
        Some(name) => {
            let mut r = Request::get(&format!("{}/token", issuer.profile_base_path(name)));
            r.absolute = true;
            r
        }
        None => Request::get("/token"),
    };
    request.cookies = CookieChoice::Jar;
    let what = match profile {
        Some(name) => format!("GET /profiles/{name}{}/token", issuer.base_path),
        None => format!("GET {}/token", issuer.base_path),
    };
    let exchange = holder.client.send(request).await.map_err(|e| {
        world.fail_on(
            ISSUER_PRECONDITION,
            format!("a complete answer to {what}"),
            e.to_string(),
            None,
        )
    })?;
    world.resource.users[index].client = holder.client;
    let token = token_from_answer(exchange.status, exchange.body.as_bytes());
    match token {
        Ok(token) => {
            world.secrets().register(&token);
            Ok(token)
        }
        Err(reason) => Err(fail_with(
            world,
            ISSUER_PRECONDITION,
            format!("{what} answers 200 {{\"token\": \"<JWT>\"}}"),
            reason,
            Some(&exchange),
        )),
    }
}

// --- calling the resource server -------------------------------------------------------------

/// GET the resource server with `Authorization: Bearer <token>` (or none), recorded as a call.
async fn call(world: &mut AuthWorld, user: usize, what: &str, token: Option<&str>) -> StepResult {
    let url = world.target().resource_server.clone().ok_or_else(|| {
        super::wiring(
            world,
            "a resource server (--resource URL)",
            "none is configured",
        )
    })?;
    let mut endpoint = Endpoint::new(&url, "", world.target().timeout);
    endpoint.ca_pem = world.target().ca_pem.clone();
    endpoint.secrets = world.secrets().clone();
    let rule = "the resource server answers";
    let mut client = Client::new(endpoint)
        .map_err(|e| world.fail_on(rule, "an HTTP client", e.to_string(), None))?;
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path = format!("{path}?{query}");
    }
    let mut request = Request::get(&path).cookies(CookieChoice::None);
    request.absolute = true;
    if let Some(token) = token {
        world.secrets().register(token);
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    let exchange = client.send(request).await.map_err(|e| {
        world.fail_on(
            &format!("{rule} {what}"),
            "a complete HTTP response",
            e.to_string(),
            None,
        )
    })?;
    world.last = Some(exchange.clone());
    world.resource.calls.push(Call {
        user,
        what: what.to_string(),
        exchange,
    });
    Ok(())
}

/// A JWT made from the user's fresh one by `forge`; a failure to make it is the harness's.
async fn call_with_forged(
    world: &mut AuthWorld,
    what: &str,
    forge: fn(&str) -> Result<String, String>,
) -> StepResult {
    let token = fresh_jwt(world, 0, None).await?;
    let forged = forge(&token).map_err(|e| {
        world.fail_on(
            ISSUER_PRECONDITION,
            "a compact JWT from /token to derive the test JWT from",
            e,
            None,
        )
    })?;
    world.secrets().register(&forged);
    call(world, 0, what, Some(&forged)).await
}

#[when("the user calls the resource server with a fresh JWT from /token")]
async fn call_with_fresh(world: &mut AuthWorld) -> StepResult {
    let token = fresh_jwt(world, 0, None).await?;
    call(world, 0, "a fresh JWT from /token", Some(&token)).await
}

#[when("each user calls the resource server with a fresh JWT from /token")]
async fn each_calls_with_fresh(world: &mut AuthWorld) -> StepResult {
    let mut tokens = Vec::new();
    for index in 0..world.resource.users.len() {
        tokens.push(fresh_jwt(world, index, None).await?);
    }
    // Interleaved, twice: A, B, A, B.
    for _ in 0..2 {
        for (index, token) in tokens.iter().enumerate() {
            call(
                world,
                index,
                &format!("user {}'s fresh JWT", index + 1),
                Some(token),
            )
            .await?;
        }
    }
    Ok(())
}

/// The forged JWTs a user presents: what follows "the user calls the resource server with
/// their" → how the report names the JWT, and how it is made from the user's fresh one.
type Forgery = (&'static str, fn(&str) -> Result<String, String>);
const FORGERIES: &[(&str, Forgery)] = &[
    (
        "JWT with one bit of the signature flipped",
        (
            "a JWT whose signature was altered",
            crate::protocol::forge::with_signature_altered,
        ),
    ),
    (
        "JWT with its subject changed after signing",
        (
            "a JWT whose sub was changed after signing",
            crate::protocol::forge::with_subject_altered,
        ),
    ),
    (
        "JWT's claims in an unsigned JWT (alg none)",
        (
            "an unsigned JWT (alg none)",
            crate::protocol::forge::unsigned_copy,
        ),
    ),
    (
        "JWT's claims signed by a key of the harness's own, offered in the header",
        (
            "a JWT signed by a key the issuer's JWKS does not list",
            crate::protocol::forge::signed_by_own_key,
        ),
    ),
];

#[when(
    regex = r"^the user calls the resource server with their (JWT with one bit of the signature flipped|JWT with its subject changed after signing|JWT's claims in an unsigned JWT \(alg none\)|JWT's claims signed by a key of the harness's own, offered in the header)$"
)]
async fn call_with_forgery(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (what, forge) = *super::phrase_entry(world, FORGERIES, &phrase)?;
    call_with_forged(world, what, forge).await
}

#[when(expr = "the user calls the resource server with a JWT from the issuer's {word} profile")]
async fn call_with_profile(world: &mut AuthWorld, profile: String) -> StepResult {
    if !resource_server::ISSUER_PROFILES.contains(&profile.as_str()) {
        return Err(super::wiring(
            world,
            format!("one of the profiles {:?}", resource_server::ISSUER_PROFILES),
            format!("{profile:?}"),
        ));
    }
    let token = fresh_jwt(world, 0, Some(&profile)).await?;
    check_profile_token(world, &profile, &token)?;
    call(
        world,
        0,
        &format!("a JWT from the issuer's {profile} profile"),
        Some(&token),
    )
    .await
}

/// The profile's JWT is what it claims to be: signed by the issuer's key (same kid as its own
/// JWTs, verified against its JWKS by the harness), with exactly the one claim wrong.
fn check_profile_token(world: &mut AuthWorld, profile: &str, token: &str) -> StepResult {
    let issuer = issuer(world);
    let rule = "the issuer's test profile issues the JWT it is for (precondition)";
    let decoded =
        jwt::decode(token).map_err(|e| world.fail_on(rule, "a JWT", e.to_string(), None))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let origin = issuer.origin();
    let problem = match profile {
        "wrong-issuer" => jwt::check_issuer(&decoded.claims, &origin)
            .is_ok()
            .then(|| format!("its iss is the issuer's own, {origin}")),
        "wrong-audience" => jwt::check_audience(&decoded.claims, &origin)
            .is_ok()
            .then(|| format!("its aud is the issuer's own, {origin}")),
        _ => match jwt::numeric_date(&decoded.claims, "exp") {
            Ok(exp) if (exp as i64) < now - EXPIRED_BY_AT_LEAST_SECS => None,
            Ok(exp) => Some(format!(
                "exp {exp} is not at least {EXPIRED_BY_AT_LEAST_SECS} s in the past"
            )),
            Err(e) => Some(e),
        },
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(world.fail_on(
            rule,
            format!("a JWT from the {profile} profile"),
            problem,
            None,
        )),
    }
}

/// How long before now the expired profile's JWT must have expired: more than any clock-skew
/// leeway a verifier may reasonably allow (RFC 7519 §4.1.4: "a few minutes").
pub const EXPIRED_BY_AT_LEAST_SECS: i64 = 10 * 60;

#[when("a client calls the resource server without an Authorization header")]
async fn call_without_token(world: &mut AuthWorld) -> StepResult {
    call(world, 0, "no Authorization header", None).await
}

#[given("the resource server has accepted the user's JWT")]
async fn accepted_before(world: &mut AuthWorld) -> StepResult {
    let token = fresh_jwt(world, 0, None).await?;
    call(
        world,
        0,
        "a fresh JWT from /token, before the rotation",
        Some(&token),
    )
    .await?;
    check_last_accepted(
        world,
        "the resource server accepts a fresh JWT from the issuer (precondition of the rotation)",
    )?;
    world.resource.before_rotation = Some(token);
    Ok(())
}

#[when("the issuer rotates its signing key")]
async fn issuer_rotates(world: &mut AuthWorld) -> StepResult {
    let rule = "the issuer rotates its signing key within its rotation interval (precondition)";
    let before = world.resource.before_rotation.clone().ok_or_else(|| {
        super::wiring(
            world,
            "a JWT accepted before the rotation",
            "none (the feature misses a Given step)",
        )
    })?;
    let old_kid = jwt::decode(&before)
        .ok()
        .and_then(|d| d.kid().map(str::to_string));
    let interval = issuer(world)
        .rotation_interval_secs
        .unwrap_or(LONGEST_ROTATION_WAIT_SECS);
    let deadline = Instant::now() + Duration::from_secs(interval + 5);
    loop {
        let token = fresh_jwt(world, 0, None).await?;
        let kid = jwt::decode(&token)
            .ok()
            .and_then(|d| d.kid().map(str::to_string));
        if kid.is_some() && kid != old_kid {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(world.fail_on(
                rule,
                format!(
                    "a JWT with a kid other than {old_kid:?} within {} s",
                    interval + 5
                ),
                format!("every JWT still named kid {kid:?}"),
                None,
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// --- Then ------------------------------------------------------------------------------------

fn expected_user(holder: &IssuerUser) -> (String, Option<String>) {
    (
        holder.user.id.clone().unwrap_or_default(),
        Some(holder.user.email.clone()),
    )
}

fn last_call(world: &mut AuthWorld) -> Result<Call, StepFailure> {
    world.resource.calls.last().cloned().ok_or_else(|| {
        super::wiring(
            world,
            "a call to the resource server before this step",
            "none was made",
        )
    })
}

fn check_call_accepted(world: &mut AuthWorld, call: &Call, rule: &str) -> StepResult {
    let Some(holder) = world.resource.users.get(call.user).cloned() else {
        return Err(super::wiring(world, "a user for the call", "none"));
    };
    let (id, email) = expected_user(&holder);
    let expected = ExpectedUser {
        id: &id,
        email: email.as_deref(),
    };
    check_accepted(
        call.exchange.status,
        call.exchange.body.as_bytes(),
        &expected,
    )
    .map_err(|actual| {
        fail_with(
            world,
            rule,
            format!(
                "for {}: HTTP 200, JSON naming the user (`sub` = their id)",
                call.what
            ),
            actual,
            Some(&call.exchange),
        )
    })
}

fn check_last_accepted(world: &mut AuthWorld, rule: &str) -> StepResult {
    let call = last_call(world)?;
    check_call_accepted(world, &call, rule)
}

#[then("the resource server answers 200 naming the user")]
async fn answers_the_user(world: &mut AuthWorld) -> StepResult {
    let rule = if world.resource.before_rotation.is_some() {
        "after a key rotation the resource server accepts JWTs signed with the new key (it refetches the JWKS on an unknown kid)"
    } else {
        "the resource server accepts a fresh JWT from the issuer and answers its subject"
    };
    check_last_accepted(world, rule)
}

#[then("the resource server names each user, never the other")]
async fn names_each_user(world: &mut AuthWorld) -> StepResult {
    let rule = "the resource server answers each JWT with that JWT's own subject";
    for call in world.resource.calls.clone() {
        check_call_accepted(world, &call, rule)?;
    }
    Ok(())
}

#[then("the resource server refuses it with 401")]
async fn refuses(world: &mut AuthWorld) -> StepResult {
    let call = last_call(world)?;
    let rule = format!("the resource server refuses {} with 401", call.what);
    check_refused(call.exchange.status, call.exchange.body.as_bytes()).map_err(|actual| {
        fail_with(
            world,
            &rule,
            "HTTP 401 with a JSON error",
            actual,
            Some(&call.exchange),
        )
    })
}

#[then(r#"the refusal carries WWW-Authenticate: Bearer with error="invalid_token""#)]
async fn refusal_challenges(world: &mut AuthWorld) -> StepResult {
    let call = last_call(world)?;
    let rule = "a refused bearer JWT is answered with WWW-Authenticate: Bearer error=\"invalid_token\" (RFC 6750 §3, §3.1)";
    let headers: Vec<&str> = call.exchange.headers_named("www-authenticate");
    check_bearer_challenge(&headers).map_err(|actual| {
        fail_with(
            world,
            rule,
            "WWW-Authenticate: Bearer error=\"invalid_token\"",
            actual,
            Some(&call.exchange),
        )
    })
}

#[then("the JWT from before the rotation is still accepted")]
async fn old_key_still_accepted(world: &mut AuthWorld) -> StepResult {
    let token = world
        .resource
        .before_rotation
        .clone()
        .ok_or_else(|| super::wiring(world, "a JWT accepted before the rotation", "none"))?;
    call(world, 0, "the JWT from before the rotation", Some(&token)).await?;
    check_last_accepted(
        world,
        "after a key rotation the resource server still accepts unexpired JWTs signed with the previous key (it is still in the JWKS)",
    )
}
