//! Dynamic client registration probes (RFC 7591 §2-§3, §5) and Better Auth's registration
//! switches (allowDynamicClientRegistration, allowUnauthenticatedClientRegistration).
//!
//! Every negative probe runs after a control: the second client's registration (once per
//! run, `clients::second_client_id`) shows that a valid registration without a session is
//! accepted, so a refusal of the probe is about the one thing the probe changed.

use super::*;
use crate::protocol::registration::{
    UNKNOWN_MEMBER, check_created, check_echoes, check_metadata_refused, check_nothing_registered,
    check_secret_expiry, probe_metadata, registered_client_id, with_member,
};
use crate::protocol::session::is_json_content_type;

const RULE_CREATED: &str = "a registration sent by POST with a JSON body is answered 201 Created with a JSON object holding the client_id (RFC 7591 §3, §3.2.1)";
const RULE_UNKNOWN_IGNORED: &str = "client metadata members the server does not understand are ignored: a registration that adds one is accepted like the same registration without it (RFC 7591 §2)";
const RULE_ECHO: &str = "the registration answer lists every metadata member registered for the client, with the server's value where it chose one (RFC 7591 §3.2.1)";
const RULE_SECRET_EXPIRY: &str = "a registration answer that issues a client_secret carries client_secret_expires_at (RFC 7591 §3.2.1)";
const RULE_BAD_REDIRECT: &str = "a redirect URI with a fragment, or one that is not absolute, is not registered: the registration is refused with 400 and a JSON error invalid_redirect_uri or invalid_client_metadata (RFC 7591 §2, §3.2.2)";
const RULE_SELF_ASSERTED: &str = "registered metadata is self-asserted: a client that registers skip_consent gets no code before the user consents (RFC 7591 §5)";
const RULE_SESSION_REQUIRED: &str = "unless allowUnauthenticatedClientRegistration is on, registering a client without a session is refused (Better Auth oauthProvider)";
const RULE_REGISTRATION_OFF: &str = "unless allowDynamicClientRegistration is on, the registration endpoint registers no client (Better Auth oauthProvider)";

/// Better Auth's registration endpoint under the issuer, for servers whose discovery names none.
const REGISTER_PATH: &str = "/oauth2/register";

/// Sends `metadata` to `endpoint` as a registration without a session (JSON POST, with
/// Origin, no cookies).
async fn register_at(
    world: &mut AuthWorld,
    endpoint: &str,
    metadata: Value,
) -> Result<Exchange, StepFailure> {
    let rule = precondition("the registration endpoint is on the target's origin");
    let mut request = request_to(world, endpoint, &rule)?;
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Json(metadata));
    request.cookies = CookieChoice::None;
    request.send_origin = true;
    send(world, request).await
}

/// Registers `metadata` without a session at the discovery registration_endpoint.
pub(super) async fn register(
    world: &mut AuthWorld,
    metadata: Value,
) -> Result<Exchange, StepFailure> {
    let endpoint = registration_endpoint(world).await?;
    register_at(world, &endpoint, metadata).await
}

async fn registration_endpoint(world: &mut AuthWorld) -> Result<String, StepFailure> {
    match discovery(world).await?.registration_endpoint {
        Some(endpoint) => Ok(endpoint),
        None => Err(world.skip(format!(
            "{} (no registration_endpoint)",
            clients::SECOND_CLIENT_SKIP
        ))),
    }
}

/// The probe metadata for the target's client's redirect_uri.
fn probe(world: &mut AuthWorld) -> Result<Value, StepFailure> {
    Ok(probe_metadata(&client_config(world)?.redirect_uri))
}

/// The last answer's status and JSON body (Null when it is not JSON).
fn last_answer(world: &mut AuthWorld) -> Result<(Exchange, Value), StepFailure> {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    Ok((exchange, body))
}

#[given("dynamic client registration without a session is open")]
async fn registration_open(world: &mut AuthWorld) -> StepResult {
    clients::second_client_id(world).await.map(|_| ())
}

#[when("a client registers with JSON metadata")]
async fn registers(world: &mut AuthWorld) -> StepResult {
    let metadata = probe(world)?;
    register(world, metadata).await.map(|_| ())
}

#[when("a client registers with JSON metadata that includes a member the server does not define")]
async fn registers_with_unknown(world: &mut AuthWorld) -> StepResult {
    let metadata = with_member(probe(world)?, UNKNOWN_MEMBER, json!("ignore me"));
    register(world, metadata).await.map(|_| ())
}

#[when("a client registers with a redirect URI that carries a fragment")]
async fn registers_fragment(world: &mut AuthWorld) -> StepResult {
    let uri = format!("{}#ba-harness-fragment", client_config(world)?.redirect_uri);
    register(world, probe_metadata(&uri)).await.map(|_| ())
}

#[when("a client registers with a redirect URI that is not absolute")]
async fn registers_relative(world: &mut AuthWorld) -> StepResult {
    register(world, probe_metadata("/ba-harness-relative-callback"))
        .await
        .map(|_| ())
}

#[when("a confidential client registers with client_secret_post")]
async fn registers_confidential(world: &mut AuthWorld) -> StepResult {
    let metadata = with_member(
        probe(world)?,
        "token_endpoint_auth_method",
        json!("client_secret_post"),
    );
    register(world, metadata).await.map(|_| ())
}

#[when("a client registers claiming it may skip consent")]
async fn registers_skip_consent(world: &mut AuthWorld) -> StepResult {
    let metadata = with_member(probe(world)?, "skip_consent", json!(true));
    register(world, metadata).await.map(|_| ())
}

#[then("the registration answers 201 with the client_id in a JSON body")]
async fn answers_created(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    let json = is_json_content_type(exchange.content_type());
    check_created(exchange.status, json, &body).map_err(|e| {
        world.fail(
            RULE_CREATED,
            "HTTP 201, Content-Type application/json, a non-empty client_id",
            e,
        )
    })
}

/// Fails the precondition `accepted` unless the registration answer (`status`, `body`) holds a
/// client_id.
fn require_registered(
    world: &mut AuthWorld,
    status: u16,
    body: &Value,
    accepted: &str,
) -> StepResult {
    if registered_client_id(status, body).is_some() {
        return Ok(());
    }
    Err(world.fail(
        &precondition(accepted),
        "HTTP 201 with a client_id",
        format!("HTTP {status}"),
    ))
}

#[then("the registration succeeds despite the member it does not define")]
async fn unknown_ignored(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    if registered_client_id(exchange.status, &body).is_some() {
        return Ok(());
    }
    // The control: the same metadata without the unknown member.
    let refused = format!(
        "with `{UNKNOWN_MEMBER}` the registration got HTTP {} ({})",
        exchange.status,
        body.get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error code")
    );
    let metadata = probe(world)?;
    let control = register(world, metadata).await?;
    let control_body = control.json().unwrap_or(Value::Null);
    require_registered(
        world,
        control.status,
        &control_body,
        "the same registration without the unknown member is accepted",
    )?;
    Err(world.fail_on(
        RULE_UNKNOWN_IGNORED,
        "the registration accepted, the unknown member ignored",
        format!("{refused}; without it the same registration was accepted"),
        Some(exchange.excerpt()),
    ))
}

#[then("the registration answer lists every metadata member registered")]
async fn answer_echoes(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    require_registered(
        world,
        exchange.status,
        &body,
        "the registration is accepted",
    )?;
    let sent = probe(world)?;
    check_echoes(&sent, &body).map_err(|e| {
        world.fail(
            RULE_ECHO,
            "client_name, redirect_uris, token_endpoint_auth_method, grant_types, response_types and contacts in the answer",
            e,
        )
    })
}

#[then("the registration answer says when the client_secret expires")]
async fn secret_expiry(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    if registered_client_id(exchange.status, &body).is_none() {
        return Err(world.skip(format!(
            "the server registers no confidential client without a session (HTTP {}): nothing \
             issues a client_secret to check",
            exchange.status
        )));
    }
    match check_secret_expiry(&body) {
        Ok(true) => Ok(()),
        Ok(false) => Err(world.skip(
            "the server issued no client_secret to a client_secret_post client: the rule binds \
             only answers that issue one",
        )),
        Err(e) => Err(world.fail(
            RULE_SECRET_EXPIRY,
            "client_secret_expires_at (0 for never) next to the client_secret",
            e,
        )),
    }
}

#[then("the registration is refused with 400 and a registration error")]
async fn refused_metadata(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    check_metadata_refused(exchange.status, &body).map_err(|e| {
        world.fail(
            RULE_BAD_REDIRECT,
            "HTTP 400 with error invalid_redirect_uri (or invalid_client_metadata), no client_id",
            e,
        )
    })
}

#[then("the client gets no code before the user consents")]
async fn no_trust_from_metadata(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    // Refusing the claim outright keeps the rule.
    let Some(client_id) = registered_client_id(exchange.status, &body) else {
        return Ok(());
    };
    let mut client = client_config(world)?;
    client.client_id = client_id;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    start_authorization(world, request, Some(pkce)).await?;
    let Some(hop) = last_hop(world) else {
        return Ok(());
    };
    let delivered = match &hop.hop {
        Some(AuthorizeHop::Client(params)) => delivered_credentials(params),
        _ => Vec::new(),
    };
    if delivered.is_empty() {
        return Ok(());
    }
    Err(world.fail(
        RULE_SELF_ASSERTED,
        "the consent page (or a refusal), never a code for a consent the user did not give",
        format!(
            "the client registered with skip_consent got {} at once: {}",
            delivered.join(", "),
            describe_hop(&hop)
        ),
    ))
}

/// The discovery registration_endpoint, else Better Auth's path under the issuer.
async fn registration_endpoint_or_path(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let d = discovery(world).await?;
    Ok(d.registration_endpoint
        .unwrap_or_else(|| format!("{}{REGISTER_PATH}", d.issuer.trim_end_matches('/'))))
}

#[when("a client registers without a session")]
async fn registers_without_session(world: &mut AuthWorld) -> StepResult {
    let endpoint = registration_endpoint_or_path(world).await?;
    let metadata = probe(world)?;
    register_at(world, &endpoint, metadata).await.map(|_| ())
}

#[when("a client registers at Better Auth's registration path")]
async fn registers_at_conventional_path(world: &mut AuthWorld) -> StepResult {
    let issuer = discovery(world).await?.issuer;
    let endpoint = format!("{}{REGISTER_PATH}", issuer.trim_end_matches('/'));
    let metadata = probe(world)?;
    register_at(world, &endpoint, metadata).await.map(|_| ())
}

#[then(
    "a registration without a session is accepted only where unauthenticated registration is on"
)]
async fn session_required(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    // Refused: the rule holds, whatever the setting.
    if check_nothing_registered(exchange.status, &body).is_ok() {
        return Ok(());
    }
    let doc = fetch_discovery(world).await?.json().unwrap_or(Value::Null);
    let methods = crate::protocol::promises::list_or_default(
        &doc,
        "token_endpoint_auth_methods_supported",
        &["client_secret_basic"],
    );
    let public_clients = methods.iter().any(|m| m == "none");
    // Better Auth lists "none" when unauthenticated registration is on, or when a client
    // discovery (Client ID Metadata Document) profile is configured: then the setting is unknown.
    let client_discovery = doc
        .get("client_id_metadata_document_supported")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match (public_clients, client_discovery) {
        // The setting is on: the rule binds only where it is off, so nothing was checked.
        (true, false) => Err(world.skip(
            "unauthenticated registration is on (token_endpoint_auth_methods_supported lists \
             none), and the rule binds only where it is off",
        )),
        (true, true) => Err(world.skip(
            "a client was registered without a session, and the discovery document lists              token_endpoint_auth_method none next to a Client ID Metadata Document profile, so              whether allowUnauthenticatedClientRegistration is on cannot be told from outside",
        )),
        (false, _) => Err(world.fail_on(
            RULE_SESSION_REQUIRED,
            "a refusal (HTTP 401): token_endpoint_auth_methods_supported leaves out none, which              Better Auth does when allowUnauthenticatedClientRegistration is off",
            format!("HTTP {} with a client_id: a client was registered", exchange.status),
            Some(exchange.excerpt()),
        )),
    }
}

#[then(
    "a client is registered there only where the discovery document names a registration endpoint"
)]
async fn registration_only_when_on(world: &mut AuthWorld) -> StepResult {
    let (exchange, body) = last_answer(world)?;
    if check_nothing_registered(exchange.status, &body).is_ok() {
        return Ok(());
    }
    if discovery(world).await?.registration_endpoint.is_some() {
        // Dynamic registration is on: the rule binds only where it is off.
        return Err(world.skip(
            "dynamic registration is on (the discovery document names a registration_endpoint), \
             and the rule binds only where it is off",
        ));
    }
    Err(world.fail_on(
        RULE_REGISTRATION_OFF,
        "a refusal, no client_id: the discovery document names no registration_endpoint, which \
         Better Auth does when allowDynamicClientRegistration is off",
        format!(
            "HTTP {} with a client_id: a client was registered",
            exchange.status
        ),
        Some(exchange.excerpt()),
    ))
}
