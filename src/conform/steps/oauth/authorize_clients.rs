//! Clients registered for less than everything: one created for the openid scope only (Better
//! Auth's create-client, with the user's session) cannot obtain more (Better Auth oauth-provider
//! scopes), and one registered without the authorization_code grant (RFC 7591) is told so at its
//! redirect URI (RFC 6749 §4.1.2.1 unauthorized_client). Each scenario makes its own client;
//! without the endpoint (or open dynamic registration) it is skipped.

use super::authorization::{check_error_at_client, check_scope_left_out};
use super::requests::follow_to_the_end;
use super::*;

const RULE_REGISTERED_SCOPES: &str = "a client cannot obtain scopes beyond the ones it was registered for: a client registered for openid only that asks for openid profile gets error=invalid_scope at its redirect_uri with the state, or a grant whose stated scope leaves profile out (Better Auth oauth-provider scopes; RFC 6749 §3.3)";
pub(super) const RULE_UNAUTHORIZED_CLIENT: &str = "an authorization request from a registered client that may not use the authorization code grant, with its registered redirect_uri, is answered at that redirect_uri with error=unauthorized_client and the state (RFC 6749 §4.1.2.1)";

/// The scope a restricted client is registered for, and the one it asks beyond it.
const REGISTERED_SCOPE: &str = "openid";
const BEYOND_SCOPE: &str = "profile";

const REGISTRATION_SKIP: &str = "needs a client registered with restricted metadata through \
     dynamic client registration, which the target does not allow (oauthProvider \
     allowDynamicClientRegistration)";

/// Registers a client with `metadata` (the first client's redirect_uri) and returns its
/// client_id and the registration's JSON answer; skips when registration is closed.
pub(super) async fn register_restricted(
    world: &mut AuthWorld,
    metadata: Value,
) -> Result<(String, Value), StepFailure> {
    let rule = precondition("a client can be registered (dynamic client registration)");
    let d = discovery(world).await?;
    let Some(endpoint) = d.registration_endpoint.clone() else {
        return Err(world.skip(format!("{REGISTRATION_SKIP} (no registration_endpoint)")));
    };
    let mut request = request_to(world, &endpoint, &rule)?;
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Json(metadata));
    request.cookies = CookieChoice::None;
    let target = world.target().endpoint();
    let (exchange, body) = super::clients::send_registration(target, request)
        .await
        .map_err(|(expected, actual, excerpt, _)| {
            world.fail_on(&rule, expected, actual, excerpt)
        })?;
    match body.get("client_id").and_then(Value::as_str) {
        Some(id) if matches!(exchange.status, 200 | 201) => Ok((id.to_string(), body.clone())),
        _ if (400..500).contains(&exchange.status) && exchange.status != 429 => {
            Err(world.skip(format!(
                "{REGISTRATION_SKIP} (registration refused: HTTP {})",
                exchange.status
            )))
        }
        _ => Err(world.fail_on(
            &rule,
            "HTTP 201 with a client_id",
            describe_token_answer(exchange.status, &body),
            Some(exchange.excerpt()),
        )),
    }
}

/// Better Auth's client-management endpoint (oauth-provider `createOAuthClient`), which takes
/// the signed-in user's session: unlike dynamic registration it keeps a requested `scope` as
/// the client's allowed scopes.
const CREATE_CLIENT_PATH: &str = "/oauth2/create-client";

#[when(
    "a client registered for the openid scope only asks to authorize the user with openid and profile, and the user consents wherever asked"
)]
async fn restricted_client_asks_more(world: &mut AuthWorld) -> StepResult {
    let mut client = client_config(world)?;
    let mut metadata =
        public_client_registration("ba-harness openid-only client", &client.redirect_uri);
    metadata["scope"] = json!(REGISTERED_SCOPE);
    let answer = send(world, Request::post_json(CREATE_CLIENT_PATH, metadata)).await?;
    let body = answer.json().unwrap_or(Value::Null);
    let id = body
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // The answer states the scope the client was registered for; only a client that is really
    // restricted can be checked.
    let registered = body
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(answer.status, 200 | 201)
        || id.is_empty()
        || registered.is_empty()
        || registered.split(' ').any(|s| s == BEYOND_SCOPE)
    {
        return Err(world.skip(format!(
            "needs a client restricted to the {REGISTERED_SCOPE} scope, made through Better              Auth's {CREATE_CLIENT_PATH} with the user's session; the target answered HTTP {}              with scope {registered:?}",
            answer.status
        )));
    }
    client.client_id = id.to_string();
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    request.scope = format!("{REGISTERED_SCOPE} {BEYOND_SCOPE}");
    start_authorization(world, request, Some(pkce)).await?;
    follow_to_the_end(world).await
}

#[then(
    "the authorization server answers invalid_scope at the redirect URI with the state, or grants without the unregistered scope"
)]
async fn no_scope_beyond_registration(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_REGISTERED_SCOPES;
    let Some(code) = world.oauth.code.clone() else {
        return check_error_at_client(world, rule, "invalid_scope");
    };
    // The restricted client's own code: exchanged with the request it was issued for.
    let sent = world.oauth.request.clone().unwrap_or_default();
    let verifier = world
        .oauth
        .pkce
        .as_ref()
        .map_or(String::new(), |p| p.verifier.clone());
    let form = code_exchange_form(&code, &sent.redirect_uri, &sent.client_id, &verifier);
    let exchange = token_call(world, form).await?;
    let body = exchange.json().unwrap_or(Value::Null);
    let tokens = match parse_token_response(&body) {
        Ok(t) if exchange.status == 200 => t,
        _ => return Ok(()),
    };
    check_scope_left_out(world, rule, tokens.scope.as_deref(), BEYOND_SCOPE)
}

#[when(
    "a client registered without the authorization_code grant sends the user to the authorization endpoint"
)]
async fn client_without_code_grant(world: &mut AuthWorld) -> StepResult {
    let mut client = client_config(world)?;
    // A public client that may only refresh: what an unauthenticated registration allows
    // (a client_credentials client needs an authenticated one on Better Auth).
    let metadata = json!({
        "client_name": "ba-harness refresh-only client",
        "redirect_uris": [client.redirect_uri],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "grant_types": ["refresh_token"],
        "response_types": [],
    });
    let (id, answer) = register_restricted(world, metadata).await?;
    let grants = answer.get("grant_types").cloned().unwrap_or(Value::Null);
    if grants
        .as_array()
        .is_some_and(|g| g.iter().any(|v| v == "authorization_code"))
    {
        return Err(world.skip(format!(
            "the target registered the refresh-only client with grant_types {grants}: \
             there is no client that may not use the authorization code grant"
        )));
    }
    client.client_id = id;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    start_authorization(world, request, Some(pkce)).await
}
