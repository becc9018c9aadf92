//! The token endpoint's request handling and error answers (RFC 6749 §3.2, §4.1.3, §4.4, §5,
//! §6), a wrong token_type_hint at revocation (RFC 7009 §2.1) and the userinfo challenge's
//! attributes (RFC 6750 §3). Every refusal that could be mistaken for a broken request is sent
//! right after the same request succeeded without the one thing that should make it fail.

use super::lifetimes::{require_revocation_ok, revoke_as};
use super::*;
use crate::protocol::token_errors::{
    check_challenge_attributes_once, check_scope_kept, check_scope_not_widened, check_token_error,
    check_tokens_issued, describe_content_type, is_json_media_type, scope_beyond,
};

pub(super) const RULE_UNSUPPORTED_GRANT: &str = "a token request with a grant_type the server does not support is refused with HTTP 400 and a JSON error unsupported_grant_type (RFC 6749 §5.2)";
const RULE_ERROR_JSON: &str = "token error answers are sent as application/json (RFC 6749 §5.2)";
const RULE_SUCCESS_JSON: &str =
    "a successful token response is sent as application/json (RFC 6749 §5.1)";
pub(super) const RULE_NEVER_ISSUED_CODE: &str = "a code the server never issued is refused with HTTP 400 invalid_grant (RFC 6749 §4.1.3, §5.2; OIDC Core §3.1.3.2)";
pub(super) const RULE_INVALID_REQUEST: &str = "a token request missing a required parameter, or repeating one, is refused with HTTP 400 invalid_request (RFC 6749 §5.2)";
pub(super) const RULE_PUBLIC_CLIENT_CREDENTIALS: &str = "the client_credentials grant is for confidential clients only: a public client asking for it is refused with an error and no token (RFC 6749 §4.4)";
pub(super) const RULE_UNKNOWN_PARAMETER: &str = "the token endpoint ignores a request parameter it does not know: a refresh carrying one still issues tokens (RFC 6749 §3.2)";
pub(super) const RULE_EMPTY_PARAMETER: &str = "the token endpoint treats a parameter sent with an empty value as absent: a refresh with an empty scope= issues tokens for the original scope (RFC 6749 §3.2, §6)";
pub(super) const RULE_REPEATED_PARAMETER: &str = "a token request that repeats a parameter is not accepted as if it were sent once: no tokens (RFC 6749 §3.2)";
const RULE_SCOPE_NOT_WIDENED: &str = "a refresh never grants a scope the resource owner did not grant: asking for more is refused, or answered without it (RFC 6749 §6)";
pub(super) const RULE_INVALID_SCOPE: &str = "a refresh asking for a scope beyond the grant is refused with HTTP 400 invalid_scope (RFC 6749 §5.2)";
const RULE_SCOPE_KEPT: &str = "a refresh token issued by a refresh carries the scope of the one it replaced: asking it for exactly the granted scope issues tokens (RFC 6749 §6)";
const RULE_REVOKE_WRONG_HINT: &str = "a wrong token_type_hint does not stop a revocation: revoking a refresh token hinted as an access token answers 200 and the refresh token is then refused with invalid_grant (RFC 7009 §2.1-2.2)";
const RULE_CHALLENGE_ONCE: &str = "a WWW-Authenticate challenge names error, error_description and error_uri at most once each (RFC 6750 §3)";

/// The scope of the narrow grant, which leaves room to ask for more.
const NARROW_SCOPE: &str = "openid offline_access";
/// A request parameter no server knows.
const UNKNOWN_PARAMETER: &str = "ba_harness_unknown_parameter";

/// Fails `rule` unless the last answer is `400 {"error": <error>}`.
pub(super) fn expect_token_error(world: &mut AuthWorld, rule: &str, error: &str) -> StepResult {
    let expected = format!("HTTP 400 with error {error}");
    judge_last_answer(world, rule, &expected, |status, body| {
        check_token_error(status, body, error)
    })
}

/// Asks the token endpoint for `grant` with the other `pairs` given.
pub(super) async fn grant_request(
    world: &mut AuthWorld,
    grant: &str,
    pairs: Vec<(String, String)>,
) -> StepResult {
    let mut form = vec![("grant_type".to_string(), grant.to_string())];
    form.extend(pairs);
    token_call(world, form).await.map(|_| ())
}

/// Fails `rule` unless the last answer is `application/json`.
fn expect_json_answer(world: &mut AuthWorld, rule: &str) -> StepResult {
    let exchange = world.last_exchange()?;
    let content_type = exchange.header("content-type");
    if is_json_media_type(content_type) {
        return Ok(());
    }
    let actual = format!(
        "HTTP {} with {}",
        exchange.status,
        describe_content_type(content_type)
    );
    Err(world.fail(rule, "Content-Type: application/json", actual))
}

/// The newest refresh token of the current token set.
pub(super) fn newest_refresh_token(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let (tokens, exchange) = current_tokens(world)?;
    match tokens.refresh_token {
        Some(refresh) => Ok(refresh),
        None => Err(world.fail_on(
            &precondition("the token response carries a refresh token (offline_access)"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        )),
    }
}

/// Refreshes with the newest refresh token as the public client, `extra` pairs added. The
/// answer is judged by a Then step; it becomes the current token set only when it is one.
async fn refresh_with(world: &mut AuthWorld, extra: Vec<(String, String)>) -> StepResult {
    let client = client_config(world)?;
    let refresh = newest_refresh_token(world)?;
    let mut form = refresh_form(&refresh, &client.client_id);
    form.extend(extra);
    let answer = token_call(world, form).await?;
    keep_tokens(world, &answer);
    Ok(())
}

#[when("the OAuth client asks the token endpoint for a grant_type it does not support")]
async fn unsupported_grant(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let grant = format!(
        "urn:ba-harness:unsupported-grant:{}",
        world.random_string(8)
    );
    grant_request(world, &grant, vec![("client_id".into(), client.client_id)]).await
}

#[then("the token endpoint's error answer is application/json")]
async fn error_answer_is_json(world: &mut AuthWorld) -> StepResult {
    expect_json_answer(world, RULE_ERROR_JSON)
}

#[then("the token response is application/json")]
async fn token_response_is_json(world: &mut AuthWorld) -> StepResult {
    require_tokens(world, RULE_SUCCESS_JSON)?;
    expect_json_answer(world, RULE_SUCCESS_JSON)
}

#[when("the OAuth client exchanges a code the server never issued")]
async fn exchanges_never_issued_code(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let code = format!("ba-harness-never-issued-{}", world.random_string(24));
    let verifier = PkcePair::generate().verifier;
    let form = code_exchange_form(&code, &client.redirect_uri, &client.client_id, &verifier);
    token_call(world, form).await.map(|_| ())
}

#[when("the OAuth client asks the token endpoint for a code exchange without the code")]
async fn exchange_without_code(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let verifier = PkcePair::generate().verifier;
    let mut form = code_exchange_form("", &client.redirect_uri, &client.client_id, &verifier);
    form.retain(|(name, _)| name != "code");
    token_call(world, form).await.map(|_| ())
}

#[when("the OAuth client asks the token endpoint for a client_credentials grant")]
async fn public_client_credentials(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pairs = vec![("client_id".into(), client.client_id)];
    grant_request(world, "client_credentials", pairs).await
}

#[given("the OAuth client has refreshed the tokens")]
async fn has_refreshed(world: &mut AuthWorld) -> StepResult {
    refresh_with(world, Vec::new()).await?;
    let rule = precondition("a refresh by the public client issues tokens");
    judge_last_answer(
        world,
        &rule,
        "HTTP 200 with a token response",
        check_tokens_issued,
    )
}

#[when("the OAuth client refreshes with a parameter the server does not know")]
async fn refreshes_with_unknown_parameter(world: &mut AuthWorld) -> StepResult {
    refresh_with(
        world,
        vec![(UNKNOWN_PARAMETER.into(), world.random_string(12))],
    )
    .await
}

#[when("the OAuth client refreshes with an empty scope parameter")]
async fn refreshes_with_empty_scope(world: &mut AuthWorld) -> StepResult {
    refresh_with(world, vec![("scope".into(), String::new())]).await
}

#[when("the OAuth client refreshes with the refresh_token parameter sent twice")]
async fn refreshes_with_repeated_parameter(world: &mut AuthWorld) -> StepResult {
    let refresh = newest_refresh_token(world)?;
    refresh_with(world, vec![("refresh_token".into(), refresh)]).await
}

/// Authorizes the signed-in user (PKCE S256, the first client's redirect_uri) for `client_id`
/// (the first client's when None) with `scope` (the standard one when None), and requires a
/// code; the code and verifier are kept in the OAuth state.
pub(super) async fn authorize_with(
    world: &mut AuthWorld,
    client_id: Option<&str>,
    scope: Option<&str>,
) -> StepResult {
    let mut client = client_config(world)?;
    if let Some(id) = client_id {
        client.client_id = id.to_string();
    }
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    if let Some(scope) = scope {
        request.scope = scope.to_string();
    }
    drive_authorization(world, request, Some(pkce)).await?;
    if world.oauth.code.is_some() {
        return Ok(());
    }
    let actual = last_hop(world)
        .map(|h| describe_hop(&h))
        .unwrap_or_default();
    Err(world.fail(
        &precondition("the authorization returns a code"),
        "a redirect to the redirect_uri with `code`",
        actual,
    ))
}

#[given("the user has authorized the OAuth client for openid and offline_access only")]
async fn authorized_narrowly(world: &mut AuthWorld) -> StepResult {
    authorize_with(world, None, Some(NARROW_SCOPE)).await
}

/// The scope the discovery document offers beyond the narrow grant; skips when there is none.
async fn wider_scope(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let exchange = fetch_discovery(world).await?;
    let doc = exchange.json().unwrap_or(Value::Null);
    match scope_beyond(doc.get("scopes_supported"), NARROW_SCOPE) {
        Some(scope) => Ok(scope),
        None => Err(world.skip(format!(
            "needs a scope beyond {NARROW_SCOPE:?} to ask for: the discovery document's \
             scopes_supported lists none"
        ))),
    }
}

#[when("the OAuth client refreshes asking for a scope beyond the grant")]
async fn refreshes_for_wider_scope(world: &mut AuthWorld) -> StepResult {
    let extra = wider_scope(world).await?;
    let client = client_config(world)?;
    let refresh = newest_refresh_token(world)?;
    let mut form = refresh_form(&refresh, &client.client_id);
    form.push(("scope".into(), format!("{NARROW_SCOPE} {extra}")));
    // Judged by the Then steps; a 200 here must not become the current token set.
    token_call(world, form).await.map(|_| ())
}

#[then("the token endpoint grants no scope beyond the grant")]
async fn grants_no_wider_scope(world: &mut AuthWorld) -> StepResult {
    // The scope asked for beyond the grant, read back from the request that was sent.
    let refresh = world.last_exchange()?;
    let asked = url::form_urlencoded::parse(
        refresh
            .request_body
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    )
    .find(|(name, _)| name == "scope")
    .map(|(_, value)| value.into_owned())
    .unwrap_or_default();
    let extra = scope_beyond(
        Some(&json!(asked.split_whitespace().collect::<Vec<_>>())),
        NARROW_SCOPE,
    )
    .unwrap_or_default();
    judge_last_answer(
        world,
        RULE_SCOPE_NOT_WIDENED,
        &format!("a 4xx error (invalid_scope), or tokens whose scope leaves out {extra:?}"),
        |status, body| check_scope_not_widened(status, body, &extra),
    )
}

#[when("the OAuth client refreshes asking for exactly the granted scope")]
async fn refreshes_for_granted_scope(world: &mut AuthWorld) -> StepResult {
    refresh_with(world, vec![("scope".into(), NARROW_SCOPE.into())]).await
}

#[then("the token endpoint issues tokens for the granted scope")]
async fn issues_granted_scope(world: &mut AuthWorld) -> StepResult {
    judge_last_answer(
        world,
        RULE_SCOPE_KEPT,
        &format!("HTTP 200 with tokens for {NARROW_SCOPE:?}"),
        |status, body| check_scope_kept(status, body, NARROW_SCOPE),
    )
}

#[when("the OAuth client revokes the refresh token with token_type_hint access_token")]
async fn revokes_refresh_with_wrong_hint(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let refresh = newest_refresh_token(world)?;
    revoke_as(world, &refresh, "access_token", &client.client_id).await?;
    world.oauth.revoked_refresh_token = Some(refresh);
    Ok(())
}

#[then("the wrongly hinted refresh token is revoked")]
async fn wrongly_hinted_token_revoked(world: &mut AuthWorld) -> StepResult {
    require_revocation_ok(world, RULE_REVOKE_WRONG_HINT)?;
    expect_invalid_grant(world, RULE_REVOKE_WRONG_HINT)
}

#[then("userinfo's challenge names error, error_description and error_uri at most once each")]
async fn challenge_attributes_once(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let values = exchange.headers_named("www-authenticate");
    if values.is_empty() {
        return Err(world.skip(format!(
            "userinfo answered HTTP {} without a WWW-Authenticate challenge: there are no \
             attributes to count (the challenge itself is another scenario's rule)",
            exchange.status
        )));
    }
    check_challenge_attributes_once(&values).map_err(|e| {
        world.fail(
            RULE_CHALLENGE_ONCE,
            "each of error, error_description, error_uri at most once",
            e,
        )
    })
}
