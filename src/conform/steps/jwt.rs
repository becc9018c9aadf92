//! Steps for the JWT plugin: GET /token, GET /jwks, the `set-auth-jwt` header, verification and
//! claims. Thin glue over `protocol::jwt`; every JWT received is registered as a secret.

use cucumber::{given, then, when};
use serde_json::Value;
use time::OffsetDateTime;

use super::json_body;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{CookieChoice, Exchange, Request};
use crate::protocol::jwt::{
    self, Alg, CLOCK_SKEW_SECS, ConfigurableClaim, DEFAULT_LIFETIME_SECS, DecodedJwt, Jwks,
    JwksCache, JwtError,
};
use crate::protocol::session::kind;

const TOKEN_PRECONDITION: &str = "GET /token issues a JWT for a signed-in session (precondition)";
const JWKS_PRECONDITION: &str = "GET /jwks serves a JWKS (precondition)";

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The base URL's origin (`http://127.0.0.1:3000`): the jwt plugin's default iss and aud.
fn origin(world: &AuthWorld) -> String {
    world.target().base_url.origin().ascii_serialization()
}

// --- When: asking for tokens and keys -------------------------------------------------------

async fn ask_token_endpoint(world: &mut AuthWorld, cookies: CookieChoice) -> StepResult {
    let exchange = world.send(Request::get("/token").cookies(cookies)).await?;
    let token = exchange
        .json()
        .ok()
        .and_then(|b| b.get("token").and_then(Value::as_str).map(str::to_string));
    if let Some(token) = &token {
        world.secrets().register(token);
    }
    world.jwt.token = token;
    world.jwt.token_exchange = Some(exchange);
    Ok(())
}

#[when("the user asks GET /token for a JWT")]
async fn token_with_session(world: &mut AuthWorld) -> StepResult {
    ask_token_endpoint(world, CookieChoice::Jar).await
}

#[when("a client without a session asks GET /token for a JWT")]
async fn token_without_session(world: &mut AuthWorld) -> StepResult {
    ask_token_endpoint(world, CookieChoice::None).await
}

/// GET /jwks (no cookies: it is public). Judged by the Then steps, so never fails here.
#[given("the JWKS is fetched")]
#[when("the JWKS is fetched")]
async fn fetch_jwks(world: &mut AuthWorld) -> StepResult {
    let exchange = world
        .send(Request::get("/jwks").cookies(CookieChoice::None))
        .await?;
    let parsed = match exchange.json() {
        Ok(body) if exchange.status == 200 => jwt::parse_jwks(&body).ok(),
        _ => None,
    };
    if let Some(jwks) = &parsed {
        // A broken server's leaked private key stays out of the report.
        for key in &jwks.keys {
            for member in key.private_members() {
                if let Some(value) = key.member(member) {
                    world.secrets().register(value);
                }
            }
        }
        world.jwt.keys.replace(jwks);
    }
    world.jwt.jwks = parsed;
    world.jwt.jwks_exchange = Some(exchange);
    Ok(())
}

// --- helpers for the Then steps -------------------------------------------------------------

/// The stored answer a failure quotes: GET /token's or GET /jwks's.
#[derive(Clone, Copy)]
enum Answer {
    Token,
    Jwks,
}

impl Answer {
    /// The request that an earlier step asked, for wiring errors.
    fn asked(self) -> &'static str {
        match self {
            Answer::Token => "GET /token",
            Answer::Jwks => "GET /jwks",
        }
    }

    fn exchange(self, world: &AuthWorld) -> Option<&Exchange> {
        match self {
            Answer::Token => world.jwt.token_exchange.as_ref(),
            Answer::Jwks => world.jwt.jwks_exchange.as_ref(),
        }
    }

    /// Fails `rule` quoting this answer (a JWT inside it is masked).
    fn fail(
        self,
        world: &mut AuthWorld,
        rule: &str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> StepFailure {
        let excerpt = self.exchange(world).map(Exchange::excerpt);
        world.fail_on(rule, expected, actual, excerpt)
    }

    /// This answer; a wiring error when no earlier step asked for it.
    fn stored(self, world: &mut AuthWorld) -> Result<Exchange, StepFailure> {
        self.exchange(world).cloned().ok_or_else(|| {
            let step = format!("a {} step before this one", self.asked());
            super::wiring(world, step, "none ran")
        })
    }

    /// The JSON body of this answer (a wiring error when no earlier step asked for it); unless
    /// it is HTTP 200, a failure of `rule` saying `expected`.
    fn ok_json_body(
        self,
        world: &mut AuthWorld,
        rule: &str,
        expected: &str,
    ) -> Result<Value, StepFailure> {
        let exchange = self.stored(world)?;
        if exchange.status != 200 {
            let actual = format!("HTTP {}", exchange.status);
            return Err(self.fail(world, rule, expected, actual));
        }
        json_body(world, &exchange, rule)
    }
}

/// Fails `rule` with `expected`, quoting the JWKS answer, unless `problems` is empty.
fn require_no_problems(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
    problems: Vec<String>,
) -> StepResult {
    if problems.is_empty() {
        return Ok(());
    }
    Err(Answer::Jwks.fail(world, rule, expected, problems.join("; ")))
}

/// The JWT from /token, decoded (not verified); a failed precondition when there is none.
fn token_jwt(world: &mut AuthWorld) -> Result<(String, DecodedJwt), StepFailure> {
    let Some(token) = world.jwt.token.clone() else {
        let actual = match &world.jwt.token_exchange {
            Some(e) => format!("HTTP {} without a `token` string", e.status),
            None => "GET /token was not asked (the feature misses a When step)".into(),
        };
        return Err(Answer::Token.fail(
            world,
            TOKEN_PRECONDITION,
            "HTTP 200 {\"token\": \"<JWT>\"}",
            actual,
        ));
    };
    match jwt::decode(&token) {
        Ok(decoded) => Ok((token, decoded)),
        Err(e) => {
            Err(Answer::Token.fail(world, TOKEN_PRECONDITION, "a compact JWT", e.to_string()))
        }
    }
}

/// The keys to verify a JWT naming `kid`: the JWKS fetched earlier, fetched again once when it
/// does not hold that kid (a verifier following key rotation), or fetched now if none was.
async fn keys_for(world: &mut AuthWorld, kid: Option<&str>) -> Result<JwksCache, StepFailure> {
    let stale = kid.is_some_and(|k| !world.jwt.keys.contains(k));
    if world.jwt.jwks.is_none() || stale {
        fetch_jwks(world).await?;
    }
    if world.jwt.jwks.is_none() {
        let actual = match &world.jwt.jwks_exchange {
            Some(e) => format!("HTTP {}: not a JWKS", e.status),
            None => "no answer".into(),
        };
        return Err(Answer::Jwks.fail(
            world,
            JWKS_PRECONDITION,
            "HTTP 200 {\"keys\": [...]}",
            actual,
        ));
    }
    Ok(world.jwt.keys.clone())
}

// --- Then: the token endpoint ---------------------------------------------------------------

#[then("GET /token answers 200 with a JWT")]
async fn token_answer_is_jwt(world: &mut AuthWorld) -> StepResult {
    let rule = "GET /token with a valid session answers 200 {\"token\": \"<compact JWT>\"}";
    let body = Answer::Token.ok_json_body(world, rule, "HTTP 200")?;
    let token = match body.get("token") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            return Err(Answer::Token.fail(
                world,
                rule,
                "`token`: a string",
                format!("`token` is {}", kind(other)),
            ));
        }
        None => return Err(Answer::Token.fail(world, rule, "a `token` member", "no `token`")),
    };
    if let Err(e) = jwt::decode(&token) {
        return Err(Answer::Token.fail(
            world,
            rule,
            "a compact JWT (base64url JSON header and payload, and a signature)",
            e.to_string(),
        ));
    }
    Ok(())
}

#[then("GET /token refuses it with 401 and issues no JWT")]
async fn token_refused(world: &mut AuthWorld) -> StepResult {
    let rule = "GET /token without a session is refused with 401 and issues no JWT";
    let exchange = Answer::Token.stored(world)?;
    let issued = world
        .jwt
        .token
        .as_deref()
        .is_some_and(|t| jwt::decode(t).is_ok());
    if exchange.status != 401 || issued {
        return Err(Answer::Token.fail(
            world,
            rule,
            "HTTP 401 without a token",
            format!(
                "HTTP {}{}",
                exchange.status,
                if issued { " with a JWT" } else { "" }
            ),
        ));
    }
    Ok(())
}

// --- Then: the JWKS -------------------------------------------------------------------------

/// The fetched JWKS, or a failure of `rule` saying why there is none.
fn require_jwks(world: &mut AuthWorld, rule: &str) -> Result<Jwks, StepFailure> {
    let body = Answer::Jwks.ok_json_body(world, rule, "HTTP 200 {\"keys\": [...]}")?;
    match jwt::parse_jwks(&body) {
        Ok(jwks) => Ok(jwks),
        Err(e) => Err(Answer::Jwks.fail(world, rule, "{\"keys\": [...]}", e)),
    }
}

#[then("the JWKS lists keys that each have kty, kid, alg and the key material for their kty")]
async fn jwks_well_formed(world: &mut AuthWorld) -> StepResult {
    let rule = "GET /jwks lists at least one key, each with kty, kid, alg and the public key material for its kty (OKP: crv, x; EC: crv, x, y; RSA: n, e)";
    let jwks = require_jwks(world, rule)?;
    if jwks.keys.is_empty() {
        return Err(Answer::Jwks.fail(world, rule, "at least one key", "\"keys\": []"));
    }
    let problems: Vec<String> = jwks
        .keys
        .iter()
        .enumerate()
        .flat_map(|(i, key)| {
            key.shape_problems()
                .into_iter()
                .map(move |p| format!("keys[{i}] ({}): {p}", key.describe()))
        })
        .collect();
    require_no_problems(world, rule, "every key complete", problems)
}

#[then("the JWKS publishes no private or symmetric key material")]
async fn jwks_public_only(world: &mut AuthWorld) -> StepResult {
    let rule = "GET /jwks publishes public keys only: no private or symmetric members (d, p, q, dp, dq, qi, oth, k)";
    let jwks = require_jwks(world, rule)?;
    let leaks: Vec<String> = jwks
        .keys
        .iter()
        .filter(|k| !k.private_members().is_empty())
        .map(|k| {
            format!(
                "{} publishes {}",
                k.describe(),
                k.private_members().join(", ")
            )
        })
        .collect();
    require_no_problems(world, rule, "public members only", leaks)
}

// --- Then: the JWT against the JWKS ---------------------------------------------------------

#[then("the JWT header has a kid that the JWKS lists")]
async fn kid_in_jwks(world: &mut AuthWorld) -> StepResult {
    let rule = "the JWT names its signing key: its header has a kid, and GET /jwks lists that kid";
    let (_, decoded) = token_jwt(world)?;
    let kid = match decoded.header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        Some(other) => {
            return Err(Answer::Token.fail(
                world,
                rule,
                "a non-empty string kid",
                format!("kid {other}"),
            ));
        }
        None => return Err(Answer::Token.fail(world, rule, "a kid", "no kid in the header")),
    };
    let keys = keys_for(world, Some(&kid)).await?;
    if !keys.contains(&kid) {
        return Err(Answer::Token.fail(
            world,
            rule,
            format!("kid {kid:?} among the JWKS's kids"),
            format!(
                "the JWKS lists {} (fetched twice)",
                if keys.is_empty() {
                    "no keys".to_string()
                } else {
                    keys.kids().join(", ")
                }
            ),
        ));
    }
    Ok(())
}

#[then("the JWT header's alg is the alg its JWKS key declares")]
async fn alg_matches_key(world: &mut AuthWorld) -> StepResult {
    let rule =
        "the JWT header's alg is the alg its JWKS key declares, and suits that key's kty and crv";
    let (_, decoded) = token_jwt(world)?;
    let Some(kid) = decoded.kid().map(str::to_string) else {
        return Err(Answer::Token.fail(
            world,
            "the JWT header has a kid (precondition)",
            "a kid",
            "none",
        ));
    };
    let keys = keys_for(world, Some(&kid)).await?;
    let Some(key) = keys.get(&kid).first().cloned() else {
        return Err(Answer::Token.fail(
            world,
            "the JWT's kid is in the JWKS (precondition)",
            format!("a key with kid {kid:?}"),
            format!("the JWKS lists {}", keys.kids().join(", ")),
        ));
    };
    let header_alg = decoded.alg().unwrap_or_default().to_string();
    let alg = Alg::parse(&header_alg).map_err(|e| {
        Answer::Token.fail(
            world,
            rule,
            format!("alg {}", key.alg.as_deref().unwrap_or("(none declared)")),
            e.to_string(),
        )
    })?;
    if key.alg.is_none() {
        return Err(Answer::Token.fail(
            world,
            rule,
            format!("JWKS key {kid} declaring alg {alg}"),
            format!("{} declares no alg", key.describe()),
        ));
    }
    if let Err(e) = jwt::check_key_for(alg, &key) {
        return Err(Answer::Token.fail(
            world,
            rule,
            format!("header alg {alg} on a key that declares it"),
            e.to_string(),
        ));
    }
    Ok(())
}

#[then("the JWT verifies against the JWKS")]
async fn jwt_verifies(world: &mut AuthWorld) -> StepResult {
    let rule = "the JWT's signature verifies with the JWKS key its header names";
    let (token, decoded) = token_jwt(world)?;
    let keys = keys_for(world, decoded.kid()).await?;
    if let Err(e) = jwt::verify(&token, &keys) {
        return Err(Answer::Token.fail(world, rule, "a signature that verifies", e.to_string()));
    }
    Ok(())
}

#[then("the JWT with an altered claim does not verify against the JWKS")]
async fn altered_jwt_rejected(world: &mut AuthWorld) -> StepResult {
    let rule = "a JWT whose claims were altered does not verify against the JWKS: not with its original signature, not unsigned (alg none), not re-signed with anything the JWKS publishes";
    let (token, decoded) = token_jwt(world)?;
    let keys = keys_for(world, decoded.kid()).await?;
    // Without a verifying original the negative check proves nothing.
    let verified = jwt::verify(&token, &keys).map_err(|e| {
        Answer::Token.fail(
            world,
            "the JWT's signature verifies with the JWKS key its header names (precondition)",
            "a signature that verifies",
            e.to_string(),
        )
    })?;
    let altered = jwt::altered_claims(&decoded.claims);
    let attempts = [
        (
            "the altered claims with the original signature",
            jwt::with_claims_kept_signature(&decoded, &altered),
        ),
        (
            "the altered claims unsigned (alg none)",
            jwt::unsecured_copy(&decoded, &altered),
        ),
    ];
    for (what, forged) in attempts {
        if jwt::verify(&forged, &keys).is_ok() {
            return Err(Answer::Token.fail(
                world,
                rule,
                format!("{what} to be rejected"),
                "it verifies",
            ));
        }
    }
    let jwks = world.jwt.jwks.clone().unwrap_or_default();
    for key in &jwks.keys {
        let members = key.private_members();
        if members.is_empty() {
            continue;
        }
        if let Some(Ok(forged)) = jwt::sign_with_published_private_key(key, verified.alg, &altered)
            && jwt::verify(&forged, &keys).is_ok()
        {
            return Err(Answer::Token.fail(
                world,
                rule,
                "no way to sign altered claims from what the JWKS publishes",
                format!(
                    "the altered claims re-signed with the `{}` that {} publishes verify: anyone can mint this server's JWTs",
                    members.join(", "),
                    key.describe()
                ),
            ));
        }
    }
    Ok(())
}

// --- Then: claims ---------------------------------------------------------------------------

/// Runs a claim check on the /token JWT, failing `rule` with what the JWT carries instead.
fn check_token_claim(
    world: &mut AuthWorld,
    rule: &str,
    expected: String,
    check: impl FnOnce(&serde_json::Map<String, Value>) -> Result<(), String>,
) -> StepResult {
    let (_, decoded) = token_jwt(world)?;
    check(&decoded.claims).map_err(|actual| Answer::Token.fail(world, rule, expected, actual))
}

#[then("the JWT's iss is the deployment's issuer, by default the base URL's origin")]
async fn iss_is_declared_or_origin(world: &mut AuthWorld) -> StepResult {
    let declared = world.target().jwt_issuer.clone();
    check_configurable_claim(world, ("iss", "issuer"), declared, jwt::check_issuer).await
}

#[then("the JWT's aud is the deployment's audience, by default the base URL's origin")]
async fn aud_is_declared_or_origin(world: &mut AuthWorld) -> StepResult {
    let declared = world.target().jwt_audience.clone();
    check_configurable_claim(world, ("aud", "audience"), declared, jwt::check_audience).await
}

/// Checks `iss` or `aud` of the token endpoint's JWT against the value the deployment declares
/// (`--jwt-issuer`, `--jwt-audience`), else Better Auth's default, the base URL's origin. A
/// well-formed other value with nothing declared is the deployment's choice as far as the
/// harness can tell: skipped, naming the flag that would let it judge.
async fn check_configurable_claim(
    world: &mut AuthWorld,
    (claim, option): (&str, &str),
    declared: Option<String>,
    check: fn(&serde_json::Map<String, Value>, &str) -> Result<(), String>,
) -> StepResult {
    let origin = origin(world);
    let rule = format!(
        "the JWT's {claim} is the jwt.{option} the deployment declares (--jwt-{option}), by default the base URL's origin (no base path)"
    );
    let (_, decoded) = token_jwt(world)?;
    let expected = declared.clone().unwrap_or_else(|| origin.clone());
    match jwt::judge_configurable_claim(&decoded.claims, claim, declared.as_deref(), &origin, check)
    {
        ConfigurableClaim::Matches => Ok(()),
        ConfigurableClaim::Wrong(actual) => Err(Answer::Token.fail(
            world,
            &rule,
            format!("{claim} {expected:?}"),
            actual,
        )),
        ConfigurableClaim::Undeclared(actual) => Err(world.skip(format!(
            "the JWT's {actual} is not the base URL's origin {origin:?} (Better Auth's default): \
             the deployment may set jwt.{option}; give --jwt-{option} VALUE to check the one it declares"
        ))),
    }
}

/// The signed-in user's id, from sign-up or sign-in.
fn user_id(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let user = world.user()?;
    user.id.ok_or_else(|| {
        super::wiring(
            world,
            "a user whose id the server gave at sign-up or sign-in",
            "no id known",
        )
    })
}

#[then("the JWT's sub is the signed-in user's id")]
async fn sub_is_user(world: &mut AuthWorld) -> StepResult {
    let id = user_id(world)?;
    check_token_claim(
        world,
        "the JWT's sub is the id of the user whose session asked for it",
        format!("sub {id:?}"),
        |c| jwt::check_subject(c, &id),
    )
}

#[then("the JWT carries the user's email")]
async fn carries_email(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let (_, decoded) = token_jwt(world)?;
    // The default payload is the user's record; jwt.definePayload may leave the email out, which
    // is the deployment's choice. An email that is there must be the user's.
    if !decoded.claims.contains_key("email") {
        return Err(world.skip(
            "the JWT carries no email claim: the deployment's jwt.definePayload may leave it out \
             (the default payload, the user's record, has it)",
        ));
    }
    check_token_claim(
        world,
        "the JWT carries the user's record, including the email (the jwt plugin's default payload)",
        format!("email {:?}", user.email),
        |c| jwt::check_email(c, &user.email),
    )
}

#[then("the JWT's exp is in the future")]
async fn exp_in_future(world: &mut AuthWorld) -> StepResult {
    let now = now();
    check_token_claim(
        world,
        "a freshly issued JWT has not expired: its exp is in the future",
        format!("exp after now ({now})"),
        |c| jwt::check_not_expired(c, now),
    )
}

#[then("the JWT's iat is not in the future")]
async fn iat_not_future(world: &mut AuthWorld) -> StepResult {
    let now = now();
    check_token_claim(
        world,
        &format!("the JWT's iat is not in the future (beyond {CLOCK_SKEW_SECS} s of clock skew)"),
        format!(
            "iat at most now + {CLOCK_SKEW_SECS} s ({})",
            now + CLOCK_SKEW_SECS
        ),
        |c| jwt::check_issued_at(c, now, CLOCK_SKEW_SECS),
    )
}

#[then("the JWT lives for Better Auth's default 15 minutes")]
async fn default_lifetime(world: &mut AuthWorld) -> StepResult {
    check_token_claim(
        world,
        &format!(
            "the JWT lives for the jwt plugin's default expirationTime: exp - iat = {DEFAULT_LIFETIME_SECS} s (15 min)"
        ),
        format!("exp - iat = {DEFAULT_LIFETIME_SECS} s"),
        |c| jwt::check_lifetime(c, DEFAULT_LIFETIME_SECS),
    )
}

// --- Then: set-auth-jwt on get-session ------------------------------------------------------

#[then("the set-auth-jwt header holds a JWT that verifies against the JWKS and names the user")]
async fn set_auth_jwt(world: &mut AuthWorld) -> StepResult {
    let rule = "get-session with a valid session sends `set-auth-jwt`: a JWT that verifies against the JWKS and whose sub is the user's id";
    let exchange = world.last_exchange()?;
    let id = user_id(world)?;
    let Some(token) = exchange.header("set-auth-jwt").map(str::to_string) else {
        return Err(world.fail_on(
            rule,
            "a set-auth-jwt header",
            format!("HTTP {} without set-auth-jwt", exchange.status),
            Some(exchange.excerpt()),
        ));
    };
    world.secrets().register(&token);
    let decoded = jwt::decode(&token).map_err(|e| {
        world.fail_on(
            rule,
            "a compact JWT",
            e.to_string(),
            Some(exchange.excerpt()),
        )
    })?;
    let keys = keys_for(world, decoded.kid()).await?;
    let verified = jwt::verify(&token, &keys).map_err(|e: JwtError| {
        world.fail_on(
            rule,
            "a signature that verifies",
            e.to_string(),
            Some(exchange.excerpt()),
        )
    })?;
    jwt::check_subject(&verified.jwt.claims, &id).map_err(|actual| {
        world.fail_on(
            rule,
            format!("sub {id:?}"),
            actual,
            Some(exchange.excerpt()),
        )
    })
}
