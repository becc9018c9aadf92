//! SHOULD rules a security reviewer expects of the provider (features/oauth-should.feature):
//! an inactive token's introspection answer says no more than `active: false` (RFC 7662 §2.2)
//! a public client is issued no secret (RFC 7591 §2), and a grant of scope openid alone
//! releases no email or profile claim (OIDC Core §5.4); prompt=consent asks again (OIDC Core
//! §3.1.2.1); a challenge to a request without credentials names no error (RFC 6750 §3).
//! An Access-Control-Allow-Origin that follows the Origin comes with Vary: Origin (Fetch
//! §3.2.5). Their failures are warnings.

use super::*;
use crate::protocol::oauth::{introspection_active, public_client_registration};
use crate::protocol::should::{
    CorsAnswer, check_challenge_names_no_error, check_inactive_answer_bare,
    check_public_client_has_no_secret, check_vary_origin, claims_beyond_scopes,
};

const RULE_INACTIVE_BARE: &str = "an introspection answer for an inactive token says nothing more than active: false (RFC 7662 §2.2 SHOULD NOT)";
const RULE_SCOPE_CLAIMS: &str = "claims of a scope that was not granted (email, profile) are released neither at userinfo nor in the ID token (OIDC Core §5.4 SHOULD NOT)";
/// The scope the narrow authorization asks for: no claim scope at all.
const OPENID_ONLY: &str = "openid";
pub(super) const RULE_PROMPT_CONSENT: &str = "an authorization request with prompt=consent asks the End-User for consent again even when it was given before, or answers consent_required at the redirect URI: never a code without the consent step (OIDC Core §3.1.2.1 SHOULD)";
const RULE_BARE_CHALLENGE: &str = "a Bearer challenge to a request that carried no credentials at all names no error code (RFC 6750 §3 SHOULD NOT)";
const RULE_VARY_ORIGIN: &str = "an answer whose Access-Control-Allow-Origin follows the request's Origin says Vary: Origin (Fetch §3.2.5 SHOULD)";
/// An origin the target does not serve: the second Origin get-session is asked from.
const OTHER_ORIGIN: &str = "http://cors-probe.ba-harness.test";
pub(super) const RULE_OTHER_HINT: &str = "an authorization request with prompt=none and an id_token_hint naming another user than the signed-in one is answered with an error such as login_required, never a code for the signed-in user (OIDC Core §3.1.2.1 SHOULD)";
/// What the two prompt checks expect to see.
pub(super) const ASKS_AGAIN: &str = "a consent page, or error=consent_required at the redirect URI";
pub(super) const AN_ERROR: &str = "error=login_required (or another error) at the redirect URI";
const RULE_PUBLIC_NO_SECRET: &str = "a client registered with token_endpoint_auth_method none is issued no client_secret (RFC 7591 §2 SHOULD NOT)";

#[then(
    "introspection of the revoked token and of a never-issued token says nothing more than active false"
)]
async fn inactive_answers_bare(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let never_issued = format!("ba-harness-never-issued-{}", world.random_string(16));
    for (which, token) in [
        ("the revoked access token", tokens.access_token),
        ("a token the server never issued", never_issued),
    ] {
        let answer = confidential::introspect(world, &token).await?;
        let body = answer.json().unwrap_or(Value::Null);
        // Only an answer that reports the token inactive is judged here; one that does not
        // breaks a MUST judged by the revocation scenario.
        if introspection_active(answer.status, &body) != Ok(false) {
            return Err(world.fail(
                &precondition(&format!("introspection reports {which} inactive")),
                "HTTP 200 with active: false",
                describe_token_answer(answer.status, &body),
            ));
        }
        if let Err(actual) = check_inactive_answer_bare(&body) {
            return Err(world.fail(
                RULE_INACTIVE_BARE,
                format!("{{\"active\": false}} and nothing else for {which}"),
                actual,
            ));
        }
    }
    Ok(())
}

#[when("a public client registers with token_endpoint_auth_method none")]
async fn public_client_registers(world: &mut AuthWorld) -> StepResult {
    let redirect_uri = client_config(world)?.redirect_uri;
    let metadata = public_client_registration("ba-harness public probe", &redirect_uri);
    registration_probes::register(world, metadata).await?;
    Ok(())
}

#[then("the public client's registration answer carries no client_secret")]
async fn public_client_has_no_secret(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    if !matches!(exchange.status, 200 | 201) {
        return Err(world.fail(
            &precondition("the public client's registration is accepted"),
            "HTTP 201 with a client_id",
            describe_token_answer(exchange.status, &body),
        ));
    }
    check_public_client_has_no_secret(&body)
        .map_err(|actual| world.fail(RULE_PUBLIC_NO_SECRET, "no client_secret member", actual))
}

#[when("the OAuth client obtains tokens for the scope openid alone")]
async fn tokens_for_openid_alone(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.scope = OPENID_ONLY.into();
    drive_authorization(world, request, Some(pkce)).await?;
    require_code(world, "the authorization for scope openid returns a code")?;
    let exchange = exchange_code_with(world, None, None).await?;
    require_issued_tokens(
        world,
        &exchange,
        "the code exchange for scope openid issues tokens",
    )
}

#[then("neither userinfo nor the ID token releases a claim of the email or profile scope")]
async fn no_claims_beyond_openid(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_SCOPE_CLAIMS;
    let (id_token, _, _, tokens, _) = current_id_token(world, rule)?;
    // The scope the token answer says was granted (RFC 6749 §5.1), else the one asked for.
    let granted = tokens.scope.clone().unwrap_or_else(|| OPENID_ONLY.into());
    let id_token_claims = crate::protocol::jwt::decode(&id_token)
        .map(|jwt| Value::Object(jwt.claims))
        .unwrap_or(Value::Null);
    let userinfo = userinfo_call(world, Some(&tokens.access_token)).await?;
    let answer = userinfo.json().unwrap_or(Value::Null);
    for (place, found) in [("the ID token", &id_token_claims), ("userinfo", &answer)] {
        let extra = claims_beyond_scopes(found, &granted);
        if !extra.is_empty() {
            return Err(world.fail(
                rule,
                format!("no claim beyond the granted scope `{granted}` in {place}"),
                format!("{place} releases {}", extra.join(", ")),
            ));
        }
    }
    Ok(())
}

#[when("the OAuth client asks the signed-in user to authorize it again with prompt=consent")]
async fn authorize_again_prompt_consent(world: &mut AuthWorld) -> StepResult {
    let (_, request, pkce) = pkce_request(world)?;
    let prompt = ("prompt".to_string(), "consent".to_string());
    let request = AuthorizeRequest {
        extra: vec![prompt],
        ..request
    };
    start_authorization(world, request, Some(pkce)).await
}

/// Judges where the last authorization request sent the user-agent with `check`.
pub(super) fn judge_last_hop(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
    check: fn(Option<&AuthorizeHop>) -> Result<(), String>,
) -> StepResult {
    let verdict = check(last_hop(world).and_then(|h| h.hop).as_ref());
    verdict.map_err(|actual| world.fail(rule, expected, actual))
}

#[then("userinfo's Bearer challenge, if it sends one, names no error code")]
async fn challenge_names_no_error(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    check_challenge_names_no_error(exchange.headers_named("www-authenticate"))
        .map_err(|actual| world.fail(RULE_BARE_CHALLENGE, "no error attribute", actual))
}

/// get-session asked from the target's own origin and from one it does not serve: the
/// Access-Control-Allow-Origin and Vary of each answer.
async fn cors_answers(world: &mut AuthWorld) -> Result<Vec<CorsAnswer>, StepFailure> {
    let own = world.target().endpoint().origin.clone();
    let mut answers = Vec::new();
    for origin in [own.as_str(), OTHER_ORIGIN] {
        let exchange = send(world, Request::get("/get-session").header("origin", origin)).await?;
        let vary = exchange.headers_named("vary");
        answers.push(CorsAnswer {
            origin: origin.to_string(),
            allow_origin: exchange
                .header("access-control-allow-origin")
                .map(str::to_string),
            vary: vary.into_iter().map(str::to_string).collect(),
        });
    }
    Ok(answers)
}

#[then(
    "get-session asked from two origins says Vary: Origin wherever its Access-Control-Allow-Origin follows the Origin"
)]
async fn vary_origin(world: &mut AuthWorld) -> StepResult {
    let answers = cors_answers(world).await?;
    check_vary_origin(&answers).map_err(|actual| {
        let expected = "Vary: Origin on each answer with Access-Control-Allow-Origin";
        world.fail(RULE_VARY_ORIGIN, expected, actual)
    })
}

#[when("the OAuth client asks with prompt=none and the first user's ID token as id_token_hint")]
async fn authorize_with_first_users_hint(world: &mut AuthWorld) -> StepResult {
    let first_tokens = world.oauth.first_tokens.as_ref();
    let hint = first_tokens.and_then(|(tokens, _)| tokens.id_token.clone());
    let Some(hint) = hint else {
        let first = precondition("the first user's authorization issued an ID token");
        return Err(world.fail(&first, "an ID token", "none"));
    };
    world.secrets().register(&hint);
    let (_, request, pkce) = pkce_request(world)?;
    let extra = vec![
        ("prompt".to_string(), "none".to_string()),
        ("id_token_hint".to_string(), hint),
    ];
    let request = AuthorizeRequest { extra, ..request };
    start_authorization(world, request, Some(pkce)).await
}
