//! A second client, registered once per run through the discovery registration_endpoint (RFC 7591), for the isolation rules between clients.

use super::*;

/// Why a registration did not give a client: (expected, actual, exchange excerpt, status).
pub(super) type Refusal = (String, String, Option<String>, Option<u16>);

/// Sends a registration request (RFC 7591 §3) and returns the answer with its JSON body, its
/// secrets (client_secret included) registered for redaction.
pub(super) async fn send_registration(
    endpoint: crate::http::Endpoint,
    request: Request,
) -> Result<(Exchange, Value), Refusal> {
    let unanswered = |expected: &str, e: String| (expected.to_string(), e, None::<String>, None);
    let mut client =
        Client::new(endpoint).map_err(|e| unanswered("an HTTP client", e.to_string()))?;
    let exchange = client
        .send(request)
        .await
        .map_err(|e| unanswered("an answer from the registration_endpoint", e.to_string()))?;
    register_exchange_secrets(&exchange);
    let body = exchange.json().unwrap_or(Value::Null);
    if let Some(secret) = body.get("client_secret").and_then(Value::as_str) {
        exchange.secrets.register_with_form_encoding(secret);
    }
    Ok((exchange, body))
}

/// Registers a public client with the same redirect_uri as the first one (RFC 7591 §3).
pub(super) async fn register_public_client(
    endpoint: crate::http::Endpoint,
    request: Request,
) -> Result<String, Refusal> {
    let (exchange, body) = send_registration(endpoint, request).await?;
    let client_id = body.get("client_id").and_then(Value::as_str);
    match client_id {
        Some(id) if matches!(exchange.status, 200 | 201) && !id.is_empty() => Ok(id.to_string()),
        _ => Err((
            "HTTP 201 with a client_id (dynamic client registration open)".into(),
            describe_token_answer(exchange.status, &body),
            Some(exchange.excerpt()),
            Some(exchange.status),
        )),
    }
}

/// Why the client-binding check is skipped when no second client can be registered.
pub(super) const SECOND_CLIENT_SKIP: &str = "needs a second OAuth client, registered through \
     dynamic client registration, which the target does not allow (oauthProvider \
     allowDynamicClientRegistration)";

/// Registers, once per run (in the run context's cell that `cell` picks), the client
/// `registration(redirect_uri)` describes, with the first client's redirect_uri, and returns
/// what `register` makes of the answer. Dynamic registration is optional (RFC 7591, OAuth 2.1):
/// without it, or when the target refuses it, the scenario is skipped with `skip`.
pub(super) async fn registered_once<T, Fut>(
    world: &mut AuthWorld,
    rule: &str,
    skip: &str,
    cell: impl FnOnce(&crate::conform::world::RunContext) -> &tokio::sync::OnceCell<T>,
    registration: impl FnOnce(&str) -> Value,
    register: impl FnOnce(crate::http::Endpoint, Request) -> Fut,
) -> Result<T, StepFailure>
where
    T: Clone,
    Fut: std::future::Future<Output = Result<T, Refusal>>,
{
    let first = client_config(world)?;
    let d = discovery(world).await?;
    let Some(endpoint) = d.registration_endpoint.clone() else {
        return Err(world.skip(format!("{skip} (no registration_endpoint)")));
    };
    let mut request = request_to(world, &endpoint, rule)?;
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Json(registration(&first.redirect_uri)));
    request.cookies = CookieChoice::None;
    request.send_origin = true;
    let run = world.run_context();
    let target = world.target().endpoint();
    match cell(&run)
        .get_or_try_init(|| register(target, request))
        .await
    {
        Ok(registered) => Ok(registered.clone()),
        Err((_, _, _, Some(status))) if (400..500).contains(&status) && status != 429 => {
            Err(world.skip(format!("{skip} (registration refused: HTTP {status})")))
        }
        Err((expected, actual, exchange, _)) => {
            Err(world.fail_on(rule, expected, actual, exchange))
        }
    }
}

/// The client_id of a second public client with the first one's redirect_uri.
pub(super) async fn second_client_id(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let rule =
        precondition("a second OAuth client can be registered (dynamic client registration)");
    registered_once(
        world,
        &rule,
        SECOND_CLIENT_SKIP,
        |run| &run.clients.second,
        |redirect_uri| public_client_registration("ba-harness second client", redirect_uri),
        register_public_client,
    )
    .await
}

#[when("another OAuth client exchanges the code")]
async fn other_client_exchanges(world: &mut AuthWorld) -> StepResult {
    let other = second_client_id(world).await?;
    // Everything right but the client.
    let form = current_code_form(world, &other, None, None)?;
    token_call_judged_later(world, form).await
}

// Isolation between clients: what one client was issued, another cannot use or end.

pub(super) const RULE_REFRESH_BOUND_TO_CLIENT: &str = "a refresh token is bound to the client it was issued to: a refresh by another client is refused with invalid_grant or invalid_client (RFC 6749 §6, §10.4; OIDC Core §12.2)";
const RULE_FOREIGN_REFRESH_REVOCATION: &str = "a client cannot revoke a refresh token issued to another client: after such a request the owner's refresh still succeeds (RFC 7009 §2.1)";
const RULE_FOREIGN_ACCESS_REVOCATION: &str = "a client cannot revoke an access token issued to another client: after such a request userinfo still accepts it (RFC 7009 §2.1)";

#[when("another OAuth client refreshes with the client's refresh token")]
async fn other_client_refreshes(world: &mut AuthWorld) -> StepResult {
    let other = second_client_id(world).await?;
    let refresh = current_refresh_token(world, OFFLINE_ACCESS)?;
    token_call_judged_later(world, refresh_form(&refresh, &other)).await
}

#[when("another OAuth client revokes the client's refresh token")]
async fn other_client_revokes_refresh(world: &mut AuthWorld) -> StepResult {
    let other = second_client_id(world).await?;
    let refresh = current_refresh_token(world, OFFLINE_ACCESS)?;
    super::lifetimes::revoke_as(world, &refresh, "refresh_token", &other)
        .await
        .map(|_| ())
}

#[when("another OAuth client revokes the client's access token")]
async fn other_client_revokes_access(world: &mut AuthWorld) -> StepResult {
    let other = second_client_id(world).await?;
    let (tokens, _) = current_tokens(world)?;
    super::lifetimes::revoke_as(world, &tokens.access_token, "access_token", &other)
        .await
        .map(|_| ())
}

/// What the foreign revocation answered, for failure reports (any answer is allowed: RFC 7009
/// §2.1 only says the token must survive).
fn foreign_revocation_answer(world: &AuthWorld) -> String {
    match &world.oauth.revocation {
        Some(r) => format!("the other client's revocation answered HTTP {}", r.status),
        None => "no revocation answer".into(),
    }
}

/// Passes when the client's token `survived` the other client's revocation; else fails `rule`
/// with `expected`, naming what that revocation answered and what `then` came.
fn require_survived(
    world: &mut AuthWorld,
    rule: &str,
    survived: bool,
    expected: &str,
    then: String,
) -> StepResult {
    if survived {
        return Ok(());
    }
    let revocation = foreign_revocation_answer(world);
    Err(world.fail(rule, expected, format!("{revocation}; {then}")))
}

#[then("the client's refresh token still works")]
async fn own_refresh_still_works(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_FOREIGN_REFRESH_REVOCATION;
    let client = client_config(world)?;
    let refresh = current_refresh_token(world, OFFLINE_ACCESS)?;
    let answer = token_call(world, refresh_form(&refresh, &client.client_id)).await?;
    let body = answer.json().unwrap_or(Value::Null);
    let survived = answer.status == 200 && parse_token_response(&body).is_ok();
    if survived {
        keep_tokens(world, &answer);
    }
    let then = format!(
        "the owner's refresh then got {}",
        describe_token_answer(answer.status, &body)
    );
    let expected =
        "HTTP 200 with new tokens: the refresh token survived the other client's revocation";
    require_survived(world, rule, survived, expected, then)
}

#[then("the client's access token still works at userinfo")]
async fn own_access_still_works(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_FOREIGN_ACCESS_REVOCATION;
    let (tokens, _) = current_tokens(world)?;
    let answer = userinfo_call(world, Some(&tokens.access_token)).await?;
    let then = format!("userinfo then answered HTTP {}", answer.status);
    let expected =
        "HTTP 200 from userinfo: the access token survived the other client's revocation";
    require_survived(world, rule, answer.status == 200, expected, then)
}
