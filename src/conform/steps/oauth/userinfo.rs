//! userinfo (OIDC Core §5.3, RFC 6750 §3).

use super::*;

#[when("userinfo is asked with the access token")]
async fn userinfo_with_token(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    userinfo_call(world, Some(&tokens.access_token))
        .await
        .map(|_| ())
}

#[when("userinfo is asked without an access token")]
async fn userinfo_without_token(world: &mut AuthWorld) -> StepResult {
    userinfo_call(world, None).await.map(|_| ())
}

#[when("userinfo is asked with an unknown access token")]
async fn userinfo_unknown_token(world: &mut AuthWorld) -> StepResult {
    let token = format!("unknown{}", world.random_string(25));
    userinfo_call(world, Some(&token)).await.map(|_| ())
}

/// Claims of an access token as a JWT-issuing provider would mint one for userinfo (iss, the
/// userinfo audience, a subject, a live exp), for the forged-token scenarios.
pub(super) async fn forged_access_token_claims(
    world: &mut AuthWorld,
) -> Result<serde_json::Map<String, Value>, StepFailure> {
    let discovery = discovery(world).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), Value::String(discovery.issuer.clone()));
    claims.insert(
        "sub".into(),
        Value::String("ba-harness-forged-subject".into()),
    );
    claims.insert(
        "aud".into(),
        Value::String(
            discovery
                .userinfo_endpoint
                .clone()
                .unwrap_or(discovery.issuer),
        ),
    );
    claims.insert("scope".into(), Value::String("openid email".into()));
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + 600));
    Ok(claims)
}

#[when(
    "userinfo is asked with a JWT access token that names a published key but carries a forged signature"
)]
async fn userinfo_forged_signature(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_USERINFO_BAD_TOKEN;
    let claims = forged_access_token_claims(world).await?;
    let jwks_request = endpoint_request(world, "jwks_uri", |d| d.jwks_uri.clone()).await?;
    let jwks_exchange = send(world, jwks_request.cookies(CookieChoice::None)).await?;
    let jwks = json_body(world, &jwks_exchange, rule)?;
    let key = crate::protocol::jwt::parse_jwks(&jwks)
        .ok()
        .and_then(|jwks| jwks.keys.into_iter().find(|k| k.kid.is_some()));
    let Some(key) = key else {
        return Err(world.fail_on(
            &precondition("the JWKS at jwks_uri lists a key with a kid"),
            "a key with a kid",
            "none",
            Some(jwks_exchange.excerpt()),
        ));
    };
    let token = crate::protocol::jwt::with_forged_signature(
        key.alg.as_deref().unwrap_or("EdDSA"),
        key.kid.as_deref().unwrap_or_default(),
        &claims,
        64,
    );
    userinfo_call(world, Some(&token)).await.map(|_| ())
}

#[when(
    "userinfo is asked with a JWT access token signed by a key the authorization server does not publish"
)]
async fn userinfo_foreign_key(world: &mut AuthWorld) -> StepResult {
    let claims = forged_access_token_claims(world).await?;
    let unsigned = crate::protocol::jwt::unsecured(&claims);
    let token = match crate::protocol::forge::signed_by_own_key(&unsigned) {
        Ok(t) => t,
        Err(e) => {
            return Err(world.fail(
                &precondition("the harness can sign with a key of its own"),
                "an Ed25519 key",
                e,
            ));
        }
    };
    userinfo_call(world, Some(&token)).await.map(|_| ())
}

#[then("userinfo returns the ID token's sub and the user's email")]
async fn userinfo_claims(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_USERINFO;
    let user = world.user()?;
    let (_, _, claims, _, _) = current_id_token(world, rule)?;
    let exchange = world.last_exchange()?;
    let expected = "HTTP 200 with the user's claims";
    crate::conform::steps::require_status(world, &exchange, 200, rule, expected)?;
    let body = json_body(world, &exchange, rule)?;
    let sub = body.get("sub").and_then(Value::as_str);
    if sub.is_none() || sub != claims.sub.as_deref() {
        return Err(world.fail(
            rule,
            format!("sub {:?} (the ID token's)", claims.sub.unwrap_or_default()),
            format!("sub {:?}", sub.unwrap_or("(absent)")),
        ));
    }
    let email = body.get("email").and_then(Value::as_str);
    if !email.is_some_and(|e| e.eq_ignore_ascii_case(&user.email)) {
        return Err(world.fail(
            rule,
            format!("email {:?}", user.email),
            format!("email {:?}", email.unwrap_or("(absent)")),
        ));
    }
    Ok(())
}

#[then("userinfo refuses the request with 401")]
async fn userinfo_refuses(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    crate::conform::steps::require_status(world, &exchange, 401, RULE_USERINFO_NO_TOKEN, "HTTP 401")
}

#[then("userinfo challenges the client with WWW-Authenticate: Bearer")]
async fn userinfo_challenges(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    match exchange.header("www-authenticate") {
        Some(value)
            if parse_www_authenticate(value)
                .0
                .eq_ignore_ascii_case("bearer") =>
        {
            Ok(())
        }
        Some(value) => Err(world.fail(
            RULE_USERINFO_CHALLENGE,
            "WWW-Authenticate: Bearer …",
            format!("WWW-Authenticate: {value}"),
        )),
        None => Err(world.fail(
            RULE_USERINFO_CHALLENGE,
            "a WWW-Authenticate: Bearer header",
            format!("HTTP {} without WWW-Authenticate", exchange.status),
        )),
    }
}

#[then("userinfo refuses the unknown token with 401 invalid_token")]
async fn userinfo_refuses_unknown(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_USERINFO_BAD_TOKEN;
    let exchange = world.last_exchange()?;
    let challenge = exchange
        .header("www-authenticate")
        .map(parse_www_authenticate);
    match (&challenge, exchange.status) {
        (Some((scheme, Some(error))), 401)
            if scheme.eq_ignore_ascii_case("bearer") && error == "invalid_token" =>
        {
            Ok(())
        }
        _ => Err(world.fail(
            rule,
            "HTTP 401 with WWW-Authenticate: Bearer error=\"invalid_token\"",
            format!(
                "HTTP {}{}",
                exchange.status,
                match exchange.header("www-authenticate") {
                    Some(v) => format!(", WWW-Authenticate: {v}"),
                    None => ", no WWW-Authenticate".into(),
                }
            ),
        )),
    }
}

#[then("userinfo refuses the access token issued from the reused code")]
async fn userinfo_refuses_revoked(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_CODE_REUSE_REVOKES;
    let Some((first, _)) = world.oauth.first_tokens.clone() else {
        return Err(world.fail(
            &precondition("the first exchange issued tokens"),
            "an access token",
            "none",
        ));
    };
    let exchange = userinfo_call(world, Some(&first.access_token)).await?;
    if exchange.status == 401 {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "HTTP 401: the access token is revoked",
        format!("HTTP {}: the access token still works", exchange.status),
    ))
}

const RULE_USERS_ISOLATED: &str = "each user's tokens describe that user: two users' ID tokens carry different subs, and userinfo answers each access token with the sub of its own ID token (OIDC Core §2, §5.3.2)";

/// The sub of a token set's ID token.
fn id_token_sub(tokens: &TokenResponse) -> Result<String, String> {
    let id_token = tokens.id_token.as_deref().ok_or("no id_token")?;
    let (_, claims) = decode_id_token(id_token)?;
    claims
        .sub
        .ok_or_else(|| "an ID token without sub".to_string())
}

#[then("each user's tokens describe their own user")]
async fn each_users_tokens_describe_their_user(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_USERS_ISOLATED;
    let (second, _) = current_tokens(world)?;
    let Some((first, _)) = world.oauth.first_tokens.clone() else {
        return Err(world.fail(
            &precondition("the first user's authorization issued tokens"),
            "a first token set",
            "none",
        ));
    };
    let subs = id_token_sub(&first).and_then(|a| id_token_sub(&second).map(|b| (a, b)));
    let (first_sub, second_sub) = match subs {
        Ok(s) => s,
        Err(e) => return Err(world.fail(rule, "an ID token with a sub for each user", e)),
    };
    if first_sub == second_sub {
        return Err(world.fail(
            rule,
            "different subs for two different users",
            format!("both ID tokens carry sub {first_sub:?}"),
        ));
    }
    for (who, tokens, sub) in [
        ("the first user's", &first, &first_sub),
        ("the second user's", &second, &second_sub),
    ] {
        let exchange = userinfo_call(world, Some(&tokens.access_token)).await?;
        let body = exchange.json().unwrap_or(Value::Null);
        let found = body.get("sub").and_then(Value::as_str);
        if exchange.status != 200 || found != Some(sub.as_str()) {
            return Err(world.fail(
                rule,
                format!("HTTP 200 with sub {sub:?} for {who} access token"),
                format!(
                    "HTTP {} with sub {:?}",
                    exchange.status,
                    found.unwrap_or("(absent)")
                ),
            ));
        }
    }
    Ok(())
}
