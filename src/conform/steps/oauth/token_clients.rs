//! Client authentication where a client holds a password (RFC 6749 §2.3.1, §3.2.1, §4.1.3,
//! §4.4, §5.2, §6; OIDC Core §3.1.3.2), at the revocation endpoint (RFC 7009 §2.1, §2.2.1) and
//! at introspection (RFC 7662 §2.1). Every refusal follows a request that succeeded with the
//! right credentials, so the missing or wrong credentials are what was refused.

use super::confidential::{confidential_client, register_confidential_client};
use super::revocation::client_form_call;
use super::token_errors::{authorize_with, grant_request, newest_refresh_token as newest_refresh};
use super::*;
use crate::protocol::oauth::{check_grant_refused, introspection_active};
use crate::protocol::token_errors::{
    basic_authorization, basic_client_registration, check_error_format, check_failed_basic_answer,
    check_tokens_issued, grant_type_listed,
};

pub(super) const RULE_CLIENT_MUST_AUTHENTICATE: &str = "a client that was issued credentials must authenticate at the token endpoint: its code exchange or refresh without its client_secret is refused with an error and no tokens (RFC 6749 §3.2.1, §4.1.3, §6; OIDC Core §3.1.3.2)";
pub(super) const RULE_BASIC_SUPPORTED: &str = "the token endpoint accepts HTTP Basic authentication from a client it issued a password (RFC 6749 §2.3.1)";
const RULE_BASIC_FAILURE_CHALLENGE: &str = "a failed HTTP Basic client authentication is answered 401 with a WWW-Authenticate challenge for Basic (RFC 6749 §5.2 invalid_client)";
pub(super) const RULE_REVOCATION_AUTHENTICATED: &str = "a confidential client's revocation request is authenticated: a wrong client_secret is refused with a 4xx error (RFC 7009 §2.1)";
const RULE_REVOCATION_ERROR_FORMAT: &str = "a revocation error answer uses the RFC 6749 §5.2 format: a JSON object with an error member, sent as application/json (RFC 7009 §2.2.1)";
const RULE_INTROSPECTION_FORM_POST: &str = "introspection takes an HTTP POST with a form-encoded token parameter: a live access token is reported active: true (RFC 7662 §2.1-2.2)";
const RULE_INTROSPECTION_WRONG_HINT: &str = "a wrong token_type_hint does not hide a token from introspection: a live access token hinted as a refresh token is still reported active: true (RFC 7662 §2.1)";
pub(super) const RULE_UNAUTHORIZED_CLIENT: &str = "a client asking for a grant type it is not registered for is refused with HTTP 400 unauthorized_client (RFC 6749 §5.2): the confidential client registered for authorization_code and refresh_token asks for client_credentials";

const RULE_NO_PKCE_DOWNGRADE: &str = "PKCE cannot be downgraded: a code issued without a code_challenge (to a confidential client, where the server issues one at all) cannot be exchanged with a code_verifier: an error and no tokens (OAuth 2.1 §4.1.3)";

/// Why the HTTP Basic checks cannot run without registering a client.
const BASIC_CLIENT_SKIP: &str = "needs an OAuth client registered for client_secret_basic, \
     registered through dynamic client registration, which the target does not allow \
     (oauthProvider allowDynamicClientRegistration)";

/// Registers a client_secret_basic client for this scenario (its id and secret).
async fn register_basic_client(world: &mut AuthWorld) -> Result<(String, String), StepFailure> {
    let rule = precondition("an OAuth client registered for client_secret_basic can be registered");
    let first = client_config(world)?;
    let d = discovery(world).await?;
    let Some(endpoint) = d.registration_endpoint.clone() else {
        return Err(world.skip(format!("{BASIC_CLIENT_SKIP} (no registration_endpoint)")));
    };
    let mut request = request_to(world, &endpoint, &rule)?;
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Json(basic_client_registration(
        "ba-harness client_secret_basic client",
        &first.redirect_uri,
    )));
    request.cookies = CookieChoice::None;
    request.send_origin = true;
    match register_confidential_client(world.target().endpoint(), request).await {
        Ok(pair) => Ok(pair),
        Err((_, _, _, Some(status))) if (400..500).contains(&status) && status != 429 => Err(world
            .skip(format!(
                "{BASIC_CLIENT_SKIP} (registration refused: HTTP {status})"
            ))),
        Err((expected, actual, exchange, _)) => {
            Err(world.fail_on(&rule, expected, actual, exchange))
        }
    }
}

/// The code exchange form for the current code and verifier, as `client_id`.
fn current_exchange_form(
    world: &mut AuthWorld,
    client_id: &str,
) -> Result<Vec<(String, String)>, StepFailure> {
    let code = world.oauth.code.clone().ok_or_else(|| {
        world.fail(
            &precondition("an authorization code was issued"),
            "a code from an earlier step",
            "none",
        )
    })?;
    let pkce = world.oauth.pkce.clone().unwrap_or_else(PkcePair::generate);
    let redirect_uri = redirect_uri_sent(world);
    Ok(code_exchange_form(
        &code,
        &redirect_uri,
        client_id,
        &pkce.verifier,
    ))
}

/// Posts `form` (whose `token` is a secret) to the discovery endpoint `(name, pick)` as the
/// confidential client, authenticated with `secret`, or with its own when None.
async fn confidential_post(
    world: &mut AuthWorld,
    (name, pick): (&str, fn(&Discovery) -> Option<String>),
    mut form: Vec<(String, String)>,
    secret: Option<String>,
) -> StepResult {
    let (id, own) = confidential_client(world).await?;
    for (field, value) in &form {
        if field == "token" {
            world.secrets().register_with_form_encoding(value);
        }
    }
    // A wrong secret is kept out of reports like a right one.
    let secret = secret.unwrap_or(own);
    world.secrets().register_with_form_encoding(&secret);
    form.push(("client_id".into(), id));
    form.push(("client_secret".into(), secret));
    client_form_call(world, name, pick, form).await.map(|_| ())
}

/// Posts `form` to the token endpoint with `Authorization: <authorization>`.
async fn token_call_with_authorization(
    world: &mut AuthWorld,
    form: Vec<(String, String)>,
    authorization: &str,
) -> Result<Exchange, StepFailure> {
    world.secrets().register(authorization);
    if let Some((_, credentials)) = authorization.split_once(' ') {
        world.secrets().register(credentials);
    }
    for (name, value) in &form {
        if matches!(name.as_str(), "code" | "code_verifier" | "refresh_token") {
            world.secrets().register_with_form_encoding(value);
        }
    }
    let base = endpoint_request(world, "token_endpoint", |d| d.token_endpoint.clone()).await?;
    send(
        world,
        form_post(base, form).header("authorization", authorization),
    )
    .await
}

#[given("the user has authorized the confidential OAuth client again")]
async fn confidential_authorized_again(world: &mut AuthWorld) -> StepResult {
    let (id, _) = confidential_client(world).await?;
    authorize_with(world, Some(&id), None).await
}

#[when("the confidential client exchanges the code without its client_secret")]
async fn confidential_exchange_without_secret(world: &mut AuthWorld) -> StepResult {
    let (id, _) = confidential_client(world).await?;
    let form = current_exchange_form(world, &id)?;
    token_call(world, form).await.map(|_| ())
}

#[given("the confidential client has refreshed its tokens with its client_secret")]
async fn confidential_refreshed(world: &mut AuthWorld) -> StepResult {
    let (id, secret) = confidential_client(world).await?;
    let refresh = newest_refresh(world)?;
    let mut form = refresh_form(&refresh, &id);
    form.push(("client_secret".into(), secret));
    let answer = token_call(world, form).await?;
    keep_tokens(world, &answer);
    let rule =
        precondition("a refresh by the confidential client with its client_secret issues tokens");
    judge_last_answer(
        world,
        &rule,
        "HTTP 200 with a token response",
        check_tokens_issued,
    )
}

#[when("the confidential client refreshes without its client_secret")]
async fn confidential_refresh_without_secret(world: &mut AuthWorld) -> StepResult {
    let (id, _) = confidential_client(world).await?;
    let refresh = newest_refresh(world)?;
    token_call(world, refresh_form(&refresh, &id))
        .await
        .map(|_| ())
}

#[when("an OAuth client registered for client_secret_basic exchanges its code with HTTP Basic")]
async fn basic_client_exchange(world: &mut AuthWorld) -> StepResult {
    let (id, secret) = register_basic_client(world).await?;
    world.secrets().register_with_form_encoding(&secret);
    authorize_with(world, Some(&id), None).await?;
    let mut form = current_exchange_form(world, &id)?;
    // Authenticated through the header, the client leaves client_id out of the body (§4.1.3).
    form.retain(|(name, _)| name != "client_id");
    let answer =
        token_call_with_authorization(world, form, &basic_authorization(&id, &secret)).await?;
    keep_tokens(world, &answer);
    Ok(())
}

#[when("the client_secret_basic client refreshes with a wrong password in HTTP Basic")]
async fn basic_client_wrong_password(world: &mut AuthWorld) -> StepResult {
    let id = world
        .oauth
        .request
        .as_ref()
        .map(|r| r.client_id.clone())
        .unwrap_or_default();
    let refresh = newest_refresh(world)?;
    let wrong = format!("wrong-{}", world.random_string(24));
    world.secrets().register_with_form_encoding(&wrong);
    let mut form = refresh_form(&refresh, &id);
    form.retain(|(name, _)| name != "client_id");
    token_call_with_authorization(world, form, &basic_authorization(&id, &wrong))
        .await
        .map(|_| ())
}

#[then(
    "the token endpoint answers the failed HTTP Basic authentication with 401 and a Basic challenge"
)]
async fn basic_failure_challenged(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    let challenges = exchange.headers_named("www-authenticate");
    check_failed_basic_answer(exchange.status, &body, &challenges).map_err(|e| {
        world.fail(
            RULE_BASIC_FAILURE_CHALLENGE,
            "HTTP 401 with error invalid_client and WWW-Authenticate: Basic",
            e,
        )
    })
}

#[when("the confidential client revokes its access token with a wrong client_secret")]
async fn revokes_with_wrong_secret(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let wrong = format!("wrong-{}", world.random_string(24));
    let form = vec![
        ("token".into(), tokens.access_token),
        ("token_type_hint".into(), "access_token".into()),
    ];
    let pick: fn(&Discovery) -> Option<String> = |d| d.revocation_endpoint.clone();
    confidential_post(world, ("revocation_endpoint", pick), form, Some(wrong)).await
}

#[then("the revocation error answer uses the OAuth error format")]
async fn revocation_error_format(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    check_error_format(exchange.header("content-type"), &body).map_err(|e| {
        world.fail(
            RULE_REVOCATION_ERROR_FORMAT,
            "Content-Type: application/json and a JSON object with `error`",
            e,
        )
    })
}

#[when(expr = "the confidential client introspects its access token with token_type_hint {word}")]
async fn introspects_with_hint(world: &mut AuthWorld, hint: String) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let form = vec![
        ("token".into(), tokens.access_token),
        ("token_type_hint".into(), hint),
    ];
    let pick: fn(&Discovery) -> Option<String> = |d| d.introspection_endpoint.clone();
    confidential_post(world, ("introspection_endpoint", pick), form, None).await
}

fn expect_active(world: &mut AuthWorld, rule: &str) -> StepResult {
    judge_last_answer(world, rule, "HTTP 200 with active: true", |status, body| {
        match introspection_active(status, body) {
            Ok(true) => Ok(()),
            Ok(false) => Err("HTTP 200 with active: false".into()),
            Err(e) => Err(e),
        }
    })
}

#[then("introspection reports the live access token active")]
async fn introspection_reports_active(world: &mut AuthWorld) -> StepResult {
    expect_active(world, RULE_INTROSPECTION_FORM_POST)
}

#[then("introspection still reports the live access token active")]
async fn introspection_still_active(world: &mut AuthWorld) -> StepResult {
    expect_active(world, RULE_INTROSPECTION_WRONG_HINT)
}

#[when("the confidential client asks the token endpoint for a client_credentials grant")]
async fn confidential_client_credentials(world: &mut AuthWorld) -> StepResult {
    let discovery_answer = fetch_discovery(world).await?;
    let doc = discovery_answer.json().unwrap_or(Value::Null);
    if !grant_type_listed(&doc, "client_credentials") {
        return Err(world.skip(
            "the discovery document does not list client_credentials in grant_types_supported: \
             the server may answer unsupported_grant_type, so unauthorized_client cannot be \
             asked of it",
        ));
    }
    let (id, secret) = confidential_client(world).await?;
    let pairs = vec![("client_id".into(), id), ("client_secret".into(), secret)];
    grant_request(world, "client_credentials", pairs).await
}

#[when("the confidential client asks for a code without a code_challenge")]
async fn confidential_code_without_challenge(world: &mut AuthWorld) -> StepResult {
    let (id, _) = confidential_client(world).await?;
    let mut client = client_config(world)?;
    client.client_id = id;
    let request = standard_request(world, &client, None);
    drive_authorization(world, request, None).await?;
    if world.oauth.code.is_some() {
        return Ok(());
    }
    // OAuth 2.1 lets a server require PKCE of every client: a refused request (an error at
    // the redirect_uri or on the server's error page) leaves nothing to downgrade, which the
    // Then step accepts; anything else is not an answer to the request.
    let last = last_hop(world);
    let refused = matches!(
        last.as_ref().and_then(|h| h.hop.as_ref()),
        Some(AuthorizeHop::Client(p)) if p.error().is_some()
    ) || matches!(
        last.as_ref().and_then(|h| h.hop.as_ref()),
        Some(AuthorizeHop::ServerError(_))
    );
    if refused {
        return Ok(());
    }
    let hop = last.map(|h| describe_hop(&h)).unwrap_or_default();
    Err(world.fail(
        &precondition("an authorization without a code_challenge ends with a code or an error"),
        "a redirect to the redirect_uri with `code` or `error`",
        hop,
    ))
}

#[when("the confidential client exchanges that code with a code_verifier and its client_secret")]
async fn confidential_exchange_with_stray_verifier(world: &mut AuthWorld) -> StepResult {
    if world.oauth.code.is_none() {
        // No code was issued without a challenge: there is nothing to exchange.
        return Ok(());
    }
    let (id, secret) = confidential_client(world).await?;
    let mut form = current_exchange_form(world, &id)?;
    form.push(("client_secret".into(), secret));
    token_call(world, form).await.map(|_| ())
}

#[then("the token endpoint refuses the code_verifier of a code issued without a challenge")]
async fn refuses_stray_verifier(world: &mut AuthWorld) -> StepResult {
    if world.oauth.code.is_none() {
        // The server refused to issue a code without a challenge (seen by the When step).
        return Ok(());
    }
    judge_last_answer(
        world,
        RULE_NO_PKCE_DOWNGRADE,
        "a 4xx JSON error (invalid_grant), and no tokens",
        check_grant_refused,
    )
}
