//! Steps for the OAuth 2.1 / OIDC provider: discovery, authorize + PKCE, consent, tokens, the
//! ID token, userinfo, refresh rotation, revocation, introspection, end session.
//!
//! The client-binding scenario needs a second client: it is registered once per run through
//! the discovery registration_endpoint (RFC 7591), never per scenario.
//!
//! Endpoints come from the discovery document (never hard-coded), except Better Auth's consent
//! endpoint (`/oauth2/consent`), which discovery does not name. The client is the public PKCE
//! client the target was given (`Target.oauth`). Every code, verifier, token and ID token is
//! registered with the redaction registry before anything can print it.

use cucumber::{given, then, when};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::json_body;
use crate::conform::world::{AuthWorld, StepFailure, StepResult, random_string};
use crate::http::{Body, Client, CookieChoice, Exchange, Request};
use crate::protocol::cookie::SetCookie;
use crate::protocol::oauth::{
    AuthorizeHop, AuthorizeRequest, Discovery, IdTokenClaims, RedirectParams, TokenResponse,
    cache_control_has_no_store, check_at_hash, check_endpoints, check_error_response,
    check_foreign_code_refused, check_id_token_aud, check_id_token_iss, check_id_token_nonce,
    check_id_token_times, check_introspection_refused, check_issuer, check_pkce_methods,
    check_response_types, classify_hop, code_exchange_form, describe_token_answer, end_session_url,
    expected_issuer, introspection_form, parse_discovery, parse_id_token_claims,
    parse_json_redirect, parse_oauth_error, parse_token_response, parse_www_authenticate,
    path_on_origin, public_client_registration, refresh_form, revocation_form,
};
use crate::protocol::pkce::PkcePair;
use crate::redact::{SecretRegistry, redact_set_cookie};

/// What the harness asks for: an ID token, profile and email for userinfo, a refresh token.
const SCOPE: &str = "openid profile email offline_access";
/// Better Auth's consent endpoint (under the auth base path); discovery does not name it.
const CONSENT_PATH: &str = "/oauth2/consent";
/// The discovery document under the auth base path (the issuer's path).
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

// Rule names: what a security reviewer reads in the report. Tests match on fragments of them.
const RULE_DISCOVERY_ISSUER: &str = "the OpenID discovery document is served at <auth base URL>/.well-known/openid-configuration and names the auth base URL as its issuer (OIDC Discovery §4)";
const RULE_DISCOVERY_ENDPOINTS: &str = "the discovery document lists authorization_endpoint, token_endpoint, userinfo_endpoint and jwks_uri as absolute URLs (OIDC Discovery §3)";
const RULE_DISCOVERY_PKCE: &str = "the discovery document offers PKCE S256 and never plain in code_challenge_methods_supported (documented: S256 only; RFC 7636 §4.2, RFC 9700 §2.1.1)";
const RULE_DISCOVERY_CODE: &str = "the discovery document lists the code response type in response_types_supported (OIDC Discovery §3)";
const RULE_DISCOVERY_ISS_PARAM: &str = "the discovery document advertises authorization_response_iss_parameter_supported: true (RFC 9207 §3)";
const RULE_CONSENT_REDIRECT: &str = "authorize with a signed-in user and no stored consent redirects to the consent page with a signed copy of the request";
const RULE_LOGIN_REDIRECT: &str =
    "authorize without a session redirects to the login page with a signed copy of the request";
const RULE_LOGIN_CONTINUES: &str = "signing in with the login page's signed oauth_query continues the authorization (the answer redirects onward and sets the session cookie)";
const RULE_CODE_REDIRECT: &str = "after consent the user is redirected to the registered redirect_uri with an authorization code (RFC 6749 §4.1.2)";
const RULE_STATE: &str =
    "the authorization response returns the client's state exactly as sent (RFC 6749 §4.1.2)";
const RULE_ISS: &str =
    "the authorization response carries iss equal to the discovery issuer (RFC 9207 §2)";
const RULE_NO_PKCE: &str = "an authorization request from a public client without code_challenge is refused: an error, never a code (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1)";
const RULE_PLAIN_PKCE: &str = "an authorization request with code_challenge_method=plain is refused: an error, never a code (documented: S256 only; RFC 9700 §2.1.1)";
const RULE_UNREGISTERED_REDIRECT: &str = "an authorization request with an unregistered redirect_uri is never redirected to that URI (RFC 6749 §3.1.2.4, §4.1.2.1)";
const RULE_TOKEN_RESPONSE: &str = "a code exchange answers 200 with token_type Bearer, an access_token and, for the openid scope, an id_token (RFC 6749 §5.1, OIDC Core §3.1.3.3)";
const RULE_EXPIRES_IN: &str = "the token response says when the access token expires with a positive expires_in (RFC 6749 §5.1 RECOMMENDED)";
const RULE_REFRESH_ISSUED: &str =
    "a code exchange for a grant with offline_access returns a refresh_token (OIDC Core §11)";
const RULE_NO_STORE: &str = "token responses carry Cache-Control: no-store (RFC 6749 §5.1)";
const RULE_WRONG_VERIFIER: &str = "a code exchange with a code_verifier that does not match the code_challenge is refused with 400 invalid_grant (RFC 7636 §4.6)";
const RULE_CODE_REUSE: &str = "an authorization code is single-use: a second exchange is refused with 400 invalid_grant (OAuth 2.1 §4.1.3)";
const RULE_CODE_REUSE_REVOKES: &str = "replaying an authorization code revokes the access token issued from it (OAuth 2.1 §4.1.3 SHOULD)";
const RULE_TOKEN_REDIRECT_MISMATCH: &str = "a code exchange whose redirect_uri differs from the authorization request's is refused with 400 invalid_grant (RFC 6749 §4.1.3)";
const RULE_ID_SIGNATURE: &str = "the ID token's signature verifies with a key from the discovery jwks_uri (OIDC Core §3.1.3.7 step 6)";
const RULE_ID_ISS: &str =
    "the ID token's iss equals the discovery issuer (OIDC Core §3.1.3.7 step 2)";
const RULE_ID_AUD: &str = "the ID token's aud contains the client_id, with azp when there are several audiences (OIDC Core §3.1.3.7 steps 3-5)";
const RULE_ID_TIMES: &str = "the ID token is current: exp in the future, iat not in the future (OIDC Core §3.1.3.7 steps 9-10)";
const RULE_ID_NONCE: &str =
    "the ID token echoes the nonce sent to the authorization endpoint (OIDC Core §3.1.3.7 step 11)";
const RULE_ID_AT_HASH: &str = "the ID token's at_hash, when present, is the hash of the access token for the token's alg (OIDC Core §3.1.3.8)";
const RULE_ID_SUB_STABLE: &str = "the ID token's sub is stable: two authorizations of the same user carry the same sub (OIDC Core §2)";
const RULE_USERINFO: &str = "userinfo with the access token returns the ID token's sub and the user's email (OIDC Core §5.3.2)";
const RULE_USERINFO_NO_TOKEN: &str =
    "userinfo without an access token is refused with 401 (RFC 6750 §3.1)";
const RULE_USERINFO_CHALLENGE: &str = "userinfo without an access token answers with a WWW-Authenticate: Bearer challenge (RFC 6750 §3)";
const RULE_USERINFO_BAD_TOKEN: &str = "userinfo with an unknown access token is refused with 401 and WWW-Authenticate error=\"invalid_token\" (RFC 6750 §3.1)";
const RULE_REFRESH_ROTATES: &str = "a refresh grant by a public client rotates the refresh token: the answer carries a new one (OAuth 2.1 §4.3.1)";
const RULE_ROTATED_REFUSED: &str =
    "a refresh token that was already rotated is refused with 400 invalid_grant (OAuth 2.1 §4.3.1)";
const RULE_FAMILY_REVOKED: &str = "replaying a rotated refresh token revokes its family: the newest refresh token is refused too (RFC 9700 §4.14.2)";
const RULE_END_SESSION_REDIRECT: &str = "end session with a valid id_token_hint redirects to the registered post_logout_redirect_uri with the same state (OIDC RP-Initiated Logout §2-3)";
const RULE_END_SESSION_COOKIES: &str = "end session clears every cookie of the session (Max-Age=0)";
const RULE_END_SESSION_ENDS: &str =
    "after end session, get-session with the old session cookie answers null";
const RULE_END_SESSION_FORGED_HINT: &str = "end session acts only on an id_token_hint whose signature verifies with the OP's keys: a forged hint (alg none, or an altered signature) neither ends the session nor redirects (OIDC RP-Initiated Logout §2)";
const RULE_END_SESSION_UNREGISTERED: &str = "end session never redirects to a post_logout_redirect_uri that is not registered (OIDC RP-Initiated Logout §3)";
const RULE_PROMPT_NONE: &str = "an authorization request with prompt=none and no session is answered at the redirect_uri with error=login_required and the state, never with a login page (OIDC Core §3.1.2.1, §3.1.2.6; RFC 6749 §4.1.2.1)";
const RULE_CONSENT_DENIED: &str = "when the user denies consent, the authorization server redirects to the redirect_uri with error=access_denied and the state, and issues no code (RFC 6749 §4.1.2.1)";
const RULE_REVOKED_REFRESH: &str = "revoking a refresh token answers 200 and invalidates it at once: a refresh with it is then refused with 400 invalid_grant (RFC 7009 §2.1-2.2)";
const RULE_INTROSPECTION_AUTH: &str = "introspection requires client authentication: a client that sends only its client_id is refused with 401 invalid_client and learns nothing about the token (RFC 7662 §2.1, §2.3)";
const RULE_CODE_BOUND_TO_CLIENT: &str = "an authorization code is bound to the client it was issued to: an exchange by another client is refused with invalid_grant or invalid_client (RFC 6749 §4.1.3, §5.2)";
const RULE_END_SESSION_CONFIRM: &str = "end session with an id_token_hint from a request that carries no session of the user asks the End-User to confirm before logging out: the session survives the request (OIDC RP-Initiated Logout 1.0 §2)";
/// Fragment of the failure's `actual` when the OP logs out without asking (known-deviations.toml).
const ENDED_WITHOUT_ASKING: &str = "the session was ended without asking the End-User";

/// One hop of an authorization: the exchange and where it led (None: it led nowhere).
#[derive(Clone)]
struct Hop {
    exchange: Exchange,
    hop: Option<AuthorizeHop>,
}

/// Per-scenario OAuth state, kept in the World. Holds secrets: Debug shows none of them.
#[derive(Clone, Default)]
pub struct OAuthState {
    discovery: Option<Discovery>,
    /// The last authorization request sent, and its PKCE pair (if it had one).
    request: Option<AuthorizeRequest>,
    pkce: Option<PkcePair>,
    /// The hops of the current authorization, in order.
    hops: Vec<Hop>,
    /// The code the current authorization ended with.
    code: Option<String>,
    /// The current token set and the exchange that issued it.
    tokens: Option<(TokenResponse, Exchange)>,
    /// The first token set of the scenario (for replays and stability checks).
    first_tokens: Option<(TokenResponse, Exchange)>,
    /// The refresh token presented to the last successful refresh (now rotated).
    rotated_refresh_token: Option<String>,
    /// The unregistered URI an end-session request named.
    unregistered_logout_uri: Option<String>,
    /// The unregistered redirect_uri an authorization request named.
    unregistered_redirect_uri: Option<String>,
    /// The state sent with end session.
    logout_state: Option<String>,
    /// The refresh token the client revoked, and the revocation endpoint's answer.
    revoked_refresh_token: Option<String>,
    revocation: Option<Exchange>,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field(
                "discovery",
                &self.discovery.as_ref().map(|d| d.issuer.clone()),
            )
            .field("hops", &self.hops.len())
            .field("has_code", &self.code.is_some())
            .field("has_tokens", &self.tokens.is_some())
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Plumbing

fn precondition(what: &str) -> String {
    format!("{what} (precondition)")
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The OAuth client the target was given.
struct ClientConfig {
    client_id: String,
    redirect_uri: String,
    post_logout_redirect_uri: Option<String>,
}

fn client_config(world: &mut AuthWorld) -> Result<ClientConfig, StepFailure> {
    let oauth = world.target().oauth.clone();
    match (oauth.client_id, oauth.redirect_uri) {
        (Some(client_id), Some(redirect_uri)) => Ok(ClientConfig {
            client_id,
            redirect_uri,
            post_logout_redirect_uri: oauth.post_logout_redirect_uri,
        }),
        _ => Err(world.fail_on(
            &precondition("an OAuth client is registered on the target"),
            "a public PKCE client: --client-id and --redirect-uri",
            "none was given",
            None,
        )),
    }
}

/// Registers the values of `code=` query parameters found in `text` (Location headers, JSON
/// `url`s), raw and decoded.
fn register_codes_in(text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find("code=") {
        let boundary_before = at == 0 || matches!(rest.as_bytes()[at - 1], b'?' | b'&');
        let after = &rest[at + "code=".len()..];
        if boundary_before {
            let end = after
                .find(|c: char| matches!(c, '&' | '"' | '#' | '\'' | '<') || c.is_whitespace())
                .unwrap_or(after.len());
            let value = &after[..end];
            SecretRegistry::global().register(value);
            let decoded = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            SecretRegistry::global().register(&decoded);
        }
        rest = after;
    }
}

/// Registers a secret as sent in a form body too (`~` becomes `%7E` there, which the
/// registry's cookie encoding leaves alone).
fn register_with_form_encoding(secret: &str) {
    SecretRegistry::global().register(secret);
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    SecretRegistry::global().register(&encoded);
}

/// Registers every credential an answer can carry: codes in redirects, tokens in JSON bodies,
/// cookie values and the bearer plugin's header.
pub(crate) fn register_exchange_secrets(exchange: &Exchange) {
    if let Some(location) = exchange.header("location") {
        register_codes_in(location);
    }
    register_codes_in(&exchange.body);
    if let Ok(body) = exchange.json() {
        for field in ["access_token", "refresh_token", "id_token", "token"] {
            if let Some(value) = body.get(field).and_then(Value::as_str) {
                SecretRegistry::global().register(value);
            }
        }
    }
    for cookie in exchange.set_cookies() {
        SecretRegistry::global().register(&cookie.value);
        SecretRegistry::global().register(&cookie.decoded_value());
    }
    for header in ["set-auth-token", "set-auth-jwt"] {
        if let Some(value) = exchange.header(header) {
            SecretRegistry::global().register(value);
        }
    }
}

/// Sends a request and registers the answer's secrets before anything can report on it.
async fn send(world: &mut AuthWorld, request: Request) -> Result<Exchange, StepFailure> {
    let exchange = world.send(request).await?;
    register_exchange_secrets(&exchange);
    Ok(exchange)
}

/// A request to an absolute URL the server named (discovery endpoints), which must be on the
/// target's origin: the harness's client talks to one origin.
fn request_to(world: &mut AuthWorld, url: &str, rule: &str) -> Result<Request, StepFailure> {
    let origin = world.target().endpoint().origin;
    match path_on_origin(url, &origin) {
        Ok(path) => {
            let mut request = Request::get(&path);
            request.absolute = true;
            Ok(request)
        }
        Err(e) => Err(world.fail_on(rule, "an endpoint on the target's origin", e, None)),
    }
}

fn form_post(mut request: Request, form: Vec<(String, String)>) -> Request {
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Form(form));
    // A client-to-server call: no browser cookies, no Origin.
    request.cookies = CookieChoice::None;
    request.send_origin = false;
    request
}

async fn fetch_discovery(world: &mut AuthWorld) -> Result<Exchange, StepFailure> {
    send(
        world,
        Request::get(DISCOVERY_PATH).cookies(CookieChoice::None),
    )
    .await
}

/// Judges a discovery answer's transport: 200 and a JSON object with an issuer.
fn discovery_in(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<Discovery, StepFailure> {
    if exchange.status != 200 {
        return Err(world.fail_on(
            rule,
            "HTTP 200 with the discovery document",
            format!("HTTP {}", exchange.status),
            Some(exchange.excerpt()),
        ));
    }
    let body = match exchange.json() {
        Ok(b) => b,
        Err(e) => {
            return Err(world.fail_on(
                rule,
                "a JSON discovery document",
                format!("a body that is not JSON ({e})"),
                Some(exchange.excerpt()),
            ));
        }
    };
    parse_discovery(&body).map_err(|e| {
        world.fail_on(
            rule,
            "an OpenID Provider Metadata document",
            e,
            Some(exchange.excerpt()),
        )
    })
}

/// The discovery document, fetched once per scenario.
async fn discovery(world: &mut AuthWorld) -> Result<Discovery, StepFailure> {
    if let Some(d) = &world.oauth.discovery {
        return Ok(d.clone());
    }
    let exchange = fetch_discovery(world).await?;
    let d = discovery_in(
        world,
        &exchange,
        &precondition(
            "the discovery document is served at <auth base URL>/.well-known/openid-configuration",
        ),
    )?;
    world.oauth.discovery = Some(d.clone());
    Ok(d)
}

/// A GET of the discovery endpoint `name`, its URL first passed through `build` (which adds
/// the query), failing a precondition when the endpoint is missing or off the target.
async fn endpoint_get(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
    build: impl FnOnce(&str) -> Result<url::Url, String>,
) -> Result<Request, StepFailure> {
    let d = discovery(world).await?;
    let rule = precondition(&format!("the discovery document names the {name}"));
    let Some(endpoint) = pick(&d) else {
        return Err(world.fail_on(
            &rule,
            format!("`{name}` in the discovery document"),
            "absent",
            None,
        ));
    };
    let url = build(&endpoint).map_err(|e| world.fail_on(&rule, "a URL", e, None))?;
    request_to(world, url.as_str(), &rule)
}

/// A GET of the discovery endpoint `name` as it is.
async fn endpoint_request(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
) -> Result<Request, StepFailure> {
    endpoint_get(world, name, pick, |e| {
        url::Url::parse(e).map_err(|err| format!("{e:?}: {err}"))
    })
    .await
}

/// Where an answer redirects: a 3xx Location, or Better Auth's JSON `{redirect: true, url}`.
fn redirect_of(exchange: &Exchange) -> Option<Result<RedirectParams, String>> {
    if (300..400).contains(&exchange.status) {
        let location = exchange.header("location")?;
        return Some(RedirectParams::parse(location, &exchange.url));
    }
    if exchange.status == 200
        && let Ok(body) = exchange.json()
        && let Ok(url) = parse_json_redirect(&body)
    {
        return Some(RedirectParams::parse(&url, &exchange.url));
    }
    None
}

fn record_hop(world: &mut AuthWorld, exchange: Exchange, redirect_uri: &str) {
    let hop = redirect_of(&exchange)
        .and_then(Result::ok)
        .map(|p| classify_hop(p, redirect_uri));
    if let Some(AuthorizeHop::Client(p)) = &hop
        && let Some(code) = p.code()
    {
        SecretRegistry::global().register(code);
        world.oauth.code = Some(code.to_string());
    }
    world.oauth.hops.push(Hop { exchange, hop });
}

fn last_hop(world: &AuthWorld) -> Option<Hop> {
    world.oauth.hops.last().cloned()
}

/// What the user-agent saw at the end of a hop, for failure reports.
fn describe_hop(hop: &Hop) -> String {
    match &hop.hop {
        Some(AuthorizeHop::Client(p)) => format!(
            "HTTP {} to the client: {}",
            hop.exchange.status,
            p.describe()
        ),
        Some(AuthorizeHop::Interaction(p)) => {
            format!(
                "HTTP {} to a signed interaction page: {}",
                hop.exchange.status,
                p.without_query()
            )
        }
        Some(AuthorizeHop::ServerError(p)) => format!(
            "HTTP {} to an error page: {}",
            hop.exchange.status,
            p.describe()
        ),
        Some(AuthorizeHop::Other(p)) => format!("HTTP {} to {}", hop.exchange.status, p.describe()),
        None => format!("HTTP {} without a redirect", hop.exchange.status),
    }
}

fn standard_request(client: &ClientConfig, pkce: Option<&PkcePair>) -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: client.redirect_uri.clone(),
        scope: SCOPE.into(),
        state: Some(format!("st-{}", random_string(16))),
        nonce: Some(format!("n-{}", random_string(16))),
        code_challenge: pkce.map(|p| p.challenge.clone()),
        code_challenge_method: pkce.map(|p| p.method().to_string()),
        extra: Vec::new(),
    }
}

/// Sends the user-agent to the authorization endpoint (with the jar's cookies) and records
/// where it was sent.
async fn start_authorization(
    world: &mut AuthWorld,
    request: AuthorizeRequest,
    pkce: Option<PkcePair>,
) -> StepResult {
    if let Some(p) = &pkce {
        register_with_form_encoding(&p.verifier);
    }
    let get = endpoint_get(
        world,
        "authorization_endpoint",
        |d| d.authorization_endpoint.clone(),
        |endpoint| request.url(endpoint),
    )
    .await?;
    let redirect_uri = request.redirect_uri.clone();
    world.oauth.hops.clear();
    world.oauth.code = None;
    world.oauth.request = Some(request);
    world.oauth.pkce = pkce;
    let exchange = send(world, get).await?;
    record_hop(world, exchange, &redirect_uri);
    Ok(())
}

fn has_session_cookie(world: &AuthWorld) -> bool {
    let name = world.session_cookie_name();
    world.client.cookie(&name).is_some()
}

/// Posts the consent page's signed query back with accept:true (the session cookie and
/// Origin go along).
async fn grant_consent(world: &mut AuthWorld) -> StepResult {
    answer_consent(world, true).await
}

/// Why a consent check cannot run: a given account (`--user-email`, `--users-file`) that was
/// sent straight back to the client with a code has consented to this client before (Better
/// Auth stores consent per user and client, across runs); a fresh account never has.
fn consent_already_given(world: &AuthWorld, hop: Option<&Hop>) -> Option<String> {
    let straight_back = matches!(
        hop.and_then(|h| h.hop.as_ref()),
        Some(AuthorizeHop::Client(params)) if params.get("code").is_some()
    );
    (straight_back && world.account.is_some()).then(|| {
        "the given account has consented to this OAuth client before (consent is stored per \
         user and client), so no consent page is shown: needs a fresh account (open sign-up) \
         or a --users-file account that never consented to --client-id"
            .to_string()
    })
}

/// Posts the consent page's signed query back with the user's answer.
async fn answer_consent(world: &mut AuthWorld, accept: bool) -> StepResult {
    if let Some(reason) = consent_already_given(world, last_hop(world).as_ref()) {
        return Err(world.skip(reason));
    }
    let Some(Hop {
        hop: Some(AuthorizeHop::Interaction(page)),
        ..
    }) = last_hop(world)
    else {
        let actual = last_hop(world)
            .map(|h| describe_hop(&h))
            .unwrap_or_else(|| "no authorization request yet".into());
        return Err(world.fail(
            &precondition("the authorization server shows the consent page with a signed query"),
            "a redirect to the consent page carrying `sig`",
            actual,
        ));
    };
    let redirect_uri = redirect_uri_sent(world);
    let exchange = send(
        world,
        Request::post_json(
            CONSENT_PATH,
            json!({"accept": accept, "oauth_query": page.raw_query()}),
        ),
    )
    .await?;
    record_hop(world, exchange, &redirect_uri);
    Ok(())
}

fn redirect_uri_sent(world: &AuthWorld) -> String {
    world
        .oauth
        .request
        .as_ref()
        .map(|r| r.redirect_uri.clone())
        .unwrap_or_default()
}

/// Authorizes as a browser would: to the authorization endpoint, then through consent when the
/// user has a session and the server asks for it.
async fn drive_authorization(
    world: &mut AuthWorld,
    request: AuthorizeRequest,
    pkce: Option<PkcePair>,
) -> StepResult {
    start_authorization(world, request, pkce).await?;
    let asks_consent = matches!(
        last_hop(world).and_then(|h| h.hop),
        Some(AuthorizeHop::Interaction(_))
    );
    if asks_consent && has_session_cookie(world) {
        grant_consent(world).await?;
    }
    Ok(())
}

/// Runs the full authorization (PKCE S256) and requires a code at the end.
async fn authorize_for_code(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(&client, Some(&pkce));
    drive_authorization(world, request, Some(pkce)).await?;
    if world.oauth.code.is_none() {
        let actual = last_hop(world)
            .map(|h| describe_hop(&h))
            .unwrap_or_default();
        return Err(world.fail(
            &precondition("the authorization code flow with PKCE S256 returns a code"),
            "a redirect to the redirect_uri with `code`",
            actual,
        ));
    }
    Ok(())
}

/// Posts a form to the token endpoint (secrets in it are registered first).
async fn token_call(
    world: &mut AuthWorld,
    form: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    for (name, value) in &form {
        if matches!(name.as_str(), "code" | "code_verifier" | "refresh_token") {
            register_with_form_encoding(value);
        }
    }
    let base = endpoint_request(world, "token_endpoint", |d| d.token_endpoint.clone()).await?;
    send(world, form_post(base, form)).await
}

/// Stores a successful token answer as the current token set (and the first, if none yet).
fn keep_tokens(world: &mut AuthWorld, exchange: &Exchange) {
    if exchange.status != 200 {
        return;
    }
    if let Ok(tokens) = exchange
        .json()
        .map_err(|e| e.to_string())
        .and_then(|b| parse_token_response(&b))
    {
        if world.oauth.first_tokens.is_none() {
            world.oauth.first_tokens = Some((tokens.clone(), exchange.clone()));
        }
        world.oauth.tokens = Some((tokens, exchange.clone()));
    }
}

/// Exchanges the current code with the current verifier; `redirect_uri` as given.
async fn exchange_code_with(
    world: &mut AuthWorld,
    redirect_uri: Option<String>,
    verifier: Option<String>,
) -> Result<Exchange, StepFailure> {
    let client = client_config(world)?;
    let Some(code) = world.oauth.code.clone() else {
        return Err(world.fail(
            &precondition("an authorization code was issued"),
            "a code from an earlier step",
            "none",
        ));
    };
    let verifier = verifier
        .or_else(|| world.oauth.pkce.as_ref().map(|p| p.verifier.clone()))
        .unwrap_or_default();
    let redirect_uri = redirect_uri.unwrap_or_else(|| redirect_uri_sent(world));
    let exchange = token_call(
        world,
        code_exchange_form(&code, &redirect_uri, &client.client_id, &verifier),
    )
    .await?;
    keep_tokens(world, &exchange);
    Ok(exchange)
}

/// Requires the last token answer to be a usable token set.
fn require_tokens(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(TokenResponse, Exchange), StepFailure> {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    if exchange.status == 200
        && let Ok(tokens) = parse_token_response(&body)
    {
        return Ok((tokens, exchange));
    }
    let actual = match parse_token_response(&body) {
        Err(e) if exchange.status == 200 => format!("HTTP 200, but {e}"),
        _ => describe_token_answer(exchange.status, &body),
    };
    Err(world.fail(rule, "HTTP 200 with a token response", actual))
}

/// The current token set, for steps that come after other requests.
fn current_tokens(world: &mut AuthWorld) -> Result<(TokenResponse, Exchange), StepFailure> {
    match world.oauth.tokens.clone() {
        Some(t) => Ok(t),
        None => Err(world.fail(
            &precondition("the code exchange issued tokens"),
            "a token response from an earlier step",
            "none",
        )),
    }
}

/// The ID token of the current token set, decoded (not verified).
fn current_id_token(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(String, Value, IdTokenClaims, TokenResponse, Exchange), StepFailure> {
    let (tokens, exchange) = current_tokens(world)?;
    let Some(id_token) = tokens.id_token.clone() else {
        return Err(world.fail_on(
            rule,
            "an id_token in the token response",
            "no id_token",
            Some(exchange.excerpt()),
        ));
    };
    let decoded = decode_id_token(&id_token);
    match decoded {
        Ok((header, claims)) => Ok((id_token, header, claims, tokens, exchange)),
        Err(e) => Err(world.fail_on(
            rule,
            "a compact JWS with a JSON claims set",
            e,
            Some(exchange.excerpt()),
        )),
    }
}

/// An ID token's header and claims, decoded through `protocol::jwt` (not verified).
fn decode_id_token(id_token: &str) -> Result<(Value, IdTokenClaims), String> {
    let jwt = crate::protocol::jwt::decode(id_token).map_err(|e| e.to_string())?;
    let claims = parse_id_token_claims(&Value::Object(jwt.claims.clone()))?;
    Ok((Value::Object(jwt.header), claims))
}

/// Fails `rule` unless the last answer is `400 {"error": "invalid_grant"}`.
fn expect_invalid_grant(world: &mut AuthWorld, rule: &str) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    match parse_oauth_error(&body) {
        Ok(e) if exchange.status == 400 && e.error == "invalid_grant" => Ok(()),
        _ => Err(world.fail(
            rule,
            "HTTP 400 with error invalid_grant",
            describe_token_answer(exchange.status, &body),
        )),
    }
}

/// A URI on the registered one's origin that no client registered.
fn unregistered_variant(uri: &str, path: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            u.set_path(path);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => format!("http://127.0.0.1:4000{path}"),
    }
}

async fn userinfo_call(
    world: &mut AuthWorld,
    bearer: Option<&str>,
) -> Result<Exchange, StepFailure> {
    let mut request =
        endpoint_request(world, "userinfo_endpoint", |d| d.userinfo_endpoint.clone()).await?;
    request.cookies = CookieChoice::None;
    if let Some(token) = bearer {
        SecretRegistry::global().register(token);
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    send(world, request).await
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[given("the authorization server publishes its discovery document")]
async fn discovery_published(world: &mut AuthWorld) -> StepResult {
    discovery(world).await.map(|_| ())
}

#[when("the OAuth client fetches the discovery document")]
async fn fetch_discovery_step(world: &mut AuthWorld) -> StepResult {
    fetch_discovery(world).await.map(|_| ())
}

#[then("the discovery document names the auth base URL as its issuer")]
async fn discovery_issuer(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_ISSUER)?;
    let endpoint = world.target().endpoint();
    let expected = expected_issuer(&endpoint.origin, &endpoint.base_path);
    check_issuer(&d, &expected)
        .map_err(|e| world.fail(RULE_DISCOVERY_ISSUER, format!("issuer {expected:?}"), e))
}

#[then("the discovery document lists the authorization, token, userinfo and JWKS endpoints")]
async fn discovery_endpoints(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_ENDPOINTS)?;
    check_endpoints(&d).map_err(|e| {
        world.fail(
            RULE_DISCOVERY_ENDPOINTS,
            "authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri: absolute http(s) URLs",
            e,
        )
    })
}

#[then("the discovery document offers PKCE S256 and not plain")]
async fn discovery_pkce(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_PKCE)?;
    check_pkce_methods(&d).map_err(|e| {
        world.fail(
            RULE_DISCOVERY_PKCE,
            "code_challenge_methods_supported with \"S256\" and without \"plain\"",
            e,
        )
    })
}

#[then("the discovery document lists the code response type")]
async fn discovery_code(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_CODE)?;
    check_response_types(&d).map_err(|e| {
        world.fail(
            RULE_DISCOVERY_CODE,
            "response_types_supported containing \"code\"",
            e,
        )
    })
}

#[then("the discovery document advertises the iss authorization response parameter")]
async fn discovery_iss_param(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_ISS_PARAM)?;
    if d.authorization_response_iss_parameter_supported {
        return Ok(());
    }
    let raw = exchange.json().ok().and_then(|b| {
        b.get("authorization_response_iss_parameter_supported")
            .cloned()
    });
    Err(world.fail(
        RULE_DISCOVERY_ISS_PARAM,
        "authorization_response_iss_parameter_supported: true",
        match raw {
            Some(v) => format!("authorization_response_iss_parameter_supported: {v}"),
            None => "the field is absent".into(),
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Authorization

#[when("the OAuth client sends the user to the authorization endpoint with PKCE S256")]
async fn authorize_s256(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(&client, Some(&pkce));
    start_authorization(world, request, Some(pkce)).await
}

#[when(
    "the OAuth client sends the user to the authorization endpoint with a state of reserved characters"
)]
async fn authorize_tricky_state(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(&client, Some(&pkce));
    // Every character that needs percent-encoding in a query, plus non-ASCII.
    request.state = Some(format!("st {} +/=&?#%é~", random_string(8)));
    start_authorization(world, request, Some(pkce)).await
}

#[when("the OAuth client asks to authorize the user without a code_challenge")]
async fn authorize_without_pkce(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let request = standard_request(&client, None);
    drive_authorization(world, request, None).await
}

#[when("the OAuth client asks to authorize the user with code_challenge_method plain")]
async fn authorize_plain(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(&client, None);
    // plain: the challenge is the verifier itself.
    request.code_challenge = Some(pkce.verifier.clone());
    request.code_challenge_method = Some("plain".into());
    drive_authorization(world, request, Some(pkce)).await
}

#[when("the OAuth client asks to authorize the user with an unregistered redirect_uri")]
async fn authorize_unregistered(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(&client, Some(&pkce));
    let unregistered =
        unregistered_variant(&client.redirect_uri, "/ba-harness-unregistered-callback");
    request.redirect_uri = unregistered.clone();
    world.oauth.unregistered_redirect_uri = Some(unregistered);
    drive_authorization(world, request, Some(pkce)).await
}

#[when("the user signs in on the login page with the signed query")]
async fn sign_in_with_oauth_query(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let Some(Hop {
        hop: Some(AuthorizeHop::Interaction(page)),
        ..
    }) = last_hop(world)
    else {
        return Err(world.fail(
            &precondition("the authorization server sent the user to the login page"),
            "a redirect to the login page carrying `sig`",
            last_hop(world)
                .map(|h| describe_hop(&h))
                .unwrap_or_default(),
        ));
    };
    let redirect_uri = redirect_uri_sent(world);
    let exchange = send(
        world,
        Request::post_json(
            "/sign-in/email",
            json!({"email": user.email, "password": user.password, "oauth_query": page.raw_query()}),
        ),
    )
    .await?;
    if exchange.status == 200 {
        world.session_start = Some(exchange.clone());
    }
    record_hop(world, exchange, &redirect_uri);
    Ok(())
}

#[when("the user grants consent on the consent page")]
async fn consent_step(world: &mut AuthWorld) -> StepResult {
    grant_consent(world).await
}

#[given("the user has authorized the OAuth client")]
async fn user_has_authorized(world: &mut AuthWorld) -> StepResult {
    authorize_for_code(world).await
}

/// Checks that an interaction hop carries the request's parameters and Better Auth's signature.
fn check_signed_copy(world: &mut AuthWorld, rule: &str) -> StepResult {
    let Some(hop) = world.oauth.hops.first().cloned() else {
        return Err(world.fail(rule, "an authorization request before this step", "none"));
    };
    world.last = Some(hop.exchange.clone());
    let Some(AuthorizeHop::Interaction(page)) = &hop.hop else {
        return Err(world.fail(
            rule,
            "a redirect to a page carrying the signed request (`sig`)",
            describe_hop(&hop),
        ));
    };
    if !(300..400).contains(&hop.exchange.status) {
        return Err(world.fail(
            rule,
            "an HTTP redirect (302)",
            format!("HTTP {}", hop.exchange.status),
        ));
    }
    let sent = world.oauth.request.clone().unwrap_or_default();
    let expected = [
        ("client_id", Some(sent.client_id.clone())),
        ("redirect_uri", Some(sent.redirect_uri.clone())),
        ("state", sent.state.clone()),
        ("code_challenge", sent.code_challenge.clone()),
    ];
    for (name, value) in expected {
        if page.get(name).map(str::to_string) != value {
            return Err(world.fail(
                rule,
                format!(
                    "the page's query repeating {name}={}",
                    value.unwrap_or_default()
                ),
                format!("{name}={}", page.get(name).unwrap_or("(absent)")),
            ));
        }
    }
    Ok(())
}

#[then("the authorization server asks for consent with a signed query")]
async fn asks_consent(world: &mut AuthWorld) -> StepResult {
    if let Some(reason) = consent_already_given(world, world.oauth.hops.first()) {
        return Err(world.skip(reason));
    }
    check_signed_copy(world, RULE_CONSENT_REDIRECT)
}

#[then("the authorization server sends the user to the login page with a signed query")]
async fn sends_to_login(world: &mut AuthWorld) -> StepResult {
    check_signed_copy(world, RULE_LOGIN_REDIRECT)
}

#[then("the authorization server continues the authorization after sign-in")]
async fn continues_after_sign_in(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_LOGIN_CONTINUES;
    let Some(hop) = last_hop(world) else {
        return Err(world.fail(rule, "a sign-in before this step", "none"));
    };
    world.last = Some(hop.exchange.clone());
    let onward = match &hop.hop {
        Some(AuthorizeHop::Interaction(_)) => true,
        Some(AuthorizeHop::Client(p)) => p.code().is_some(),
        _ => false,
    };
    if !onward {
        let actual = match hop.exchange.json() {
            Ok(body)
                if body.get("token").is_some()
                    || body.get("redirect") == Some(&Value::Bool(false)) =>
            {
                format!(
                    "HTTP {}: a plain sign-in answer (redirect: false); the authorization was dropped",
                    hop.exchange.status
                )
            }
            _ => describe_hop(&hop),
        };
        return Err(world.fail(
            rule,
            "{\"redirect\": true, \"url\": <the consent page or the redirect_uri with a code>}",
            actual,
        ));
    }
    let name = world.session_cookie_name();
    if !hop
        .exchange
        .set_cookies()
        .iter()
        .any(|c| c.name == name && !c.value.is_empty())
    {
        return Err(world.fail(
            rule,
            format!("the `{name}` cookie set by the sign-in"),
            "no session cookie",
        ));
    }
    Ok(())
}

#[then("the authorization server redirects to the redirect URI with a code")]
async fn redirects_with_code(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_CODE_REDIRECT;
    let Some(hop) = last_hop(world) else {
        return Err(world.fail(rule, "an authorization before this step", "none"));
    };
    world.last = Some(hop.exchange.clone());
    let redirect_uri = redirect_uri_sent(world);
    match &hop.hop {
        Some(AuthorizeHop::Client(p)) if p.code().is_some() && p.error().is_none() => Ok(()),
        Some(AuthorizeHop::Client(p)) if p.error().is_some() => Err(world.fail(
            rule,
            format!("{redirect_uri}?code=…"),
            format!(
                "an error: {} {}",
                p.error().unwrap_or_default(),
                p.error_description().unwrap_or_default()
            ),
        )),
        _ => Err(world.fail(
            rule,
            format!("a redirect to {redirect_uri}?code=…"),
            describe_hop(&hop),
        )),
    }
}

/// The client redirect the authorization ended with, for the state and iss rules.
fn client_redirect(world: &mut AuthWorld, rule: &str) -> Result<RedirectParams, StepFailure> {
    let hop = last_hop(world);
    if let Some(h) = &hop {
        world.last = Some(h.exchange.clone());
    }
    match hop {
        Some(Hop {
            hop: Some(AuthorizeHop::Client(p)),
            ..
        }) => Ok(p),
        Some(h) => Err(world.fail(rule, "a redirect to the redirect_uri", describe_hop(&h))),
        None => Err(world.fail(rule, "an authorization before this step", "none")),
    }
}

#[then("the authorization response carries the state unchanged")]
async fn state_unchanged(world: &mut AuthWorld) -> StepResult {
    let redirect = client_redirect(world, RULE_STATE)?;
    let sent = world
        .oauth
        .request
        .as_ref()
        .and_then(|r| r.state.clone())
        .unwrap_or_default();
    let found = redirect.all("state");
    if found.len() == 1 && found[0] == sent {
        return Ok(());
    }
    Err(world.fail(
        RULE_STATE,
        format!("state={sent:?} (once)"),
        match found.as_slice() {
            [] => "no state parameter".to_string(),
            [one] => format!("state={one:?}"),
            many => format!("state {} times: {many:?}", many.len()),
        },
    ))
}

#[then("the authorization response names the issuer")]
async fn response_names_issuer(world: &mut AuthWorld) -> StepResult {
    let redirect = client_redirect(world, RULE_ISS)?;
    let issuer = discovery(world).await?.issuer;
    match redirect.all("iss").as_slice() {
        [one] if *one == issuer => Ok(()),
        [] => Err(world.fail(RULE_ISS, format!("iss={issuer:?}"), "no iss parameter")),
        found => Err(world.fail(
            RULE_ISS,
            format!("iss={issuer:?} (once)"),
            format!("iss {found:?}"),
        )),
    }
}

/// A refused authorization: no hop delivered a code, and the request ended in an error (at the
/// client, on an error page, or as an HTTP error).
fn check_refused(world: &mut AuthWorld, rule: &str) -> StepResult {
    let hops = world.oauth.hops.clone();
    let Some(last) = hops.last() else {
        return Err(world.fail(rule, "an authorization request before this step", "none"));
    };
    for hop in &hops {
        if let Some(AuthorizeHop::Client(p)) = &hop.hop
            && p.code().is_some()
        {
            world.last = Some(hop.exchange.clone());
            return Err(world.fail(
                rule,
                "an error, and no code",
                format!("a code was issued: {}", describe_hop(hop)),
            ));
        }
    }
    world.last = Some(last.exchange.clone());
    let refused = match &last.hop {
        Some(AuthorizeHop::Client(p)) | Some(AuthorizeHop::ServerError(p)) => p.error().is_some(),
        None => last.exchange.status >= 400,
        _ => false,
    };
    if refused {
        Ok(())
    } else {
        Err(world.fail(
            rule,
            "an error redirect (e.g. error=invalid_request) or an error page",
            describe_hop(last),
        ))
    }
}

#[then("the authorization server refuses the authorization request without PKCE")]
async fn refuses_without_pkce(world: &mut AuthWorld) -> StepResult {
    check_refused(world, RULE_NO_PKCE)
}

#[then("the authorization server refuses the plain code_challenge_method")]
async fn refuses_plain(world: &mut AuthWorld) -> StepResult {
    check_refused(world, RULE_PLAIN_PKCE)
}

#[then("the authorization server never redirects to the unregistered redirect_uri")]
async fn never_redirects_unregistered(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_UNREGISTERED_REDIRECT;
    let Some(unregistered) = world.oauth.unregistered_redirect_uri.clone() else {
        return Err(world.fail(
            rule,
            "an authorization request with an unregistered redirect_uri",
            "none",
        ));
    };
    let hops = world.oauth.hops.clone();
    for hop in &hops {
        if let Some(Ok(target)) = redirect_of(&hop.exchange)
            && target.is_at(&unregistered)
        {
            world.last = Some(hop.exchange.clone());
            return Err(world.fail(
                rule,
                format!("no redirect to {unregistered} (an error page of the server instead)"),
                format!("a redirect to it: {}", target.describe()),
            ));
        }
    }
    if hops.is_empty() {
        return Err(world.fail(rule, "an authorization request before this step", "none"));
    }
    Ok(())
}

#[when(
    "the OAuth client sends a user without a session to the authorization endpoint with prompt=none"
)]
async fn authorize_prompt_none(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(&client, Some(&pkce));
    request.extra.push(("prompt".into(), "none".into()));
    // A user-agent with no session: nothing in the jar, nothing sent.
    world.client.clear_cookies();
    start_authorization(world, request, Some(pkce)).await
}

#[when("the user denies consent on the consent page")]
async fn deny_consent(world: &mut AuthWorld) -> StepResult {
    answer_consent(world, false).await
}

/// The authorization ended at the client with `error` and the state that was sent, and no hop
/// issued a code.
fn check_error_at_client(world: &mut AuthWorld, rule: &str, error: &str) -> StepResult {
    let hops = world.oauth.hops.clone();
    let Some(last) = hops.last() else {
        return Err(world.fail(rule, "an authorization request before this step", "none"));
    };
    let redirect_uri = redirect_uri_sent(world);
    let sent_state = world.oauth.request.as_ref().and_then(|r| r.state.clone());
    let expected = format!(
        "a redirect to {redirect_uri}?error={error}&state={}, and no code",
        sent_state.as_deref().unwrap_or_default()
    );
    for hop in &hops {
        if let Some(AuthorizeHop::Client(p)) = &hop.hop
            && p.code().is_some()
        {
            world.last = Some(hop.exchange.clone());
            return Err(world.fail(
                rule,
                expected,
                format!("a code was issued: {}", describe_hop(hop)),
            ));
        }
    }
    world.last = Some(last.exchange.clone());
    let Some(AuthorizeHop::Client(params)) = &last.hop else {
        return Err(world.fail(rule, expected, describe_hop(last)));
    };
    check_error_response(params, error, sent_state.as_deref()).map_err(|e| {
        world.fail(
            rule,
            expected,
            format!("HTTP {} to the client with {e}", last.exchange.status),
        )
    })
}

#[then("the authorization server answers login_required at the redirect URI with the state")]
async fn answers_login_required(world: &mut AuthWorld) -> StepResult {
    check_error_at_client(world, RULE_PROMPT_NONE, "login_required")
}

#[then(
    "the authorization server answers access_denied at the redirect URI with the state and no code"
)]
async fn answers_access_denied(world: &mut AuthWorld) -> StepResult {
    check_error_at_client(world, RULE_CONSENT_DENIED, "access_denied")
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

#[given("the OAuth client has exchanged the code for tokens")]
async fn has_exchanged(world: &mut AuthWorld) -> StepResult {
    let exchange = exchange_code_with(world, None, None).await?;
    if world.oauth.tokens.is_none() || exchange.status != 200 {
        let body = exchange.json().unwrap_or(Value::Null);
        return Err(world.fail(
            &precondition("the code exchange with the right code_verifier issues tokens"),
            "HTTP 200 with a token response",
            describe_token_answer(exchange.status, &body),
        ));
    }
    Ok(())
}

#[when("the OAuth client exchanges the code for tokens")]
async fn exchanges_code(world: &mut AuthWorld) -> StepResult {
    exchange_code_with(world, None, None).await.map(|_| ())
}

#[when("the OAuth client exchanges the code with a wrong code_verifier")]
async fn exchanges_wrong_verifier(world: &mut AuthWorld) -> StepResult {
    let wrong = PkcePair::generate().verifier;
    exchange_code_with(world, None, Some(wrong))
        .await
        .map(|_| ())
}

#[when("the OAuth client exchanges the same code again")]
async fn exchanges_again(world: &mut AuthWorld) -> StepResult {
    exchange_code_with(world, None, None).await.map(|_| ())
}

#[when("the OAuth client exchanges the code with a different redirect_uri")]
async fn exchanges_other_redirect(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let other = unregistered_variant(&client.redirect_uri, "/ba-harness-unregistered-callback");
    exchange_code_with(world, Some(other), None)
        .await
        .map(|_| ())
}

#[when("the user authorizes the OAuth client again")]
async fn authorizes_again(world: &mut AuthWorld) -> StepResult {
    authorize_for_code(world).await?;
    has_exchanged(world).await
}

#[then("the token endpoint answers with a Bearer access token and an ID token")]
async fn bearer_and_id_token(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_TOKEN_RESPONSE)?;
    if !tokens.is_bearer() {
        return Err(world.fail(
            RULE_TOKEN_RESPONSE,
            "token_type \"Bearer\"",
            format!("token_type {:?}", tokens.token_type),
        ));
    }
    if tokens.id_token.is_none() {
        return Err(world.fail(
            RULE_TOKEN_RESPONSE,
            "an id_token (the openid scope was granted)",
            "no id_token",
        ));
    }
    Ok(())
}

#[then("the token endpoint says when the access token expires")]
async fn says_expiry(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_EXPIRES_IN)?;
    match tokens.expires_in {
        Some(n) if n > 0 => Ok(()),
        Some(n) => Err(world.fail(RULE_EXPIRES_IN, "expires_in > 0", format!("expires_in {n}"))),
        None => Err(world.fail(RULE_EXPIRES_IN, "expires_in (seconds)", "no expires_in")),
    }
}

#[then("the token endpoint issues a refresh token for offline_access")]
async fn issues_refresh(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_REFRESH_ISSUED)?;
    if tokens.refresh_token.is_some() {
        return Ok(());
    }
    Err(world.fail(
        RULE_REFRESH_ISSUED,
        "a refresh_token",
        format!(
            "no refresh_token (scope granted: {:?})",
            tokens.scope.unwrap_or_default()
        ),
    ))
}

#[then("the token endpoint forbids caching of the token response")]
async fn forbids_caching(world: &mut AuthWorld) -> StepResult {
    let (_, exchange) = require_tokens(world, RULE_NO_STORE)?;
    let value = exchange.header("cache-control").map(str::to_string);
    if cache_control_has_no_store(value.as_deref()) {
        return Ok(());
    }
    Err(world.fail(
        RULE_NO_STORE,
        "Cache-Control: no-store",
        match value {
            Some(v) => format!("Cache-Control: {v}"),
            None => "no Cache-Control header".into(),
        },
    ))
}

#[then("the token endpoint refuses the wrong code_verifier with invalid_grant")]
async fn refuses_wrong_verifier(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_WRONG_VERIFIER)
}

#[then("the token endpoint refuses the reused code with invalid_grant")]
async fn refuses_reused_code(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_CODE_REUSE)
}

#[then("the token endpoint refuses the mismatched redirect_uri with invalid_grant")]
async fn refuses_redirect_mismatch(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_TOKEN_REDIRECT_MISMATCH)
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens

#[when("the OAuth client refreshes the tokens")]
async fn refreshes(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, exchange) = current_tokens(world)?;
    let Some(refresh) = tokens.refresh_token.clone() else {
        return Err(world.fail_on(
            &precondition("the code exchange issued a refresh token (offline_access)"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    let answer = token_call(world, refresh_form(&refresh, &client.client_id)).await?;
    world.oauth.rotated_refresh_token = Some(refresh);
    keep_tokens(world, &answer);
    Ok(())
}

#[when("the OAuth client presents the rotated refresh token again")]
async fn presents_rotated(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let Some(old) = world.oauth.rotated_refresh_token.clone() else {
        return Err(world.fail(
            &precondition("a refresh happened"),
            "a rotated refresh token",
            "none",
        ));
    };
    // The answer is judged by the Then step; a 200 here must not become the current token set.
    token_call(world, refresh_form(&old, &client.client_id))
        .await
        .map(|_| ())
}

#[when("the OAuth client refreshes with the newest refresh token")]
async fn refreshes_with_newest(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, exchange) = current_tokens(world)?;
    let Some(newest) = tokens.refresh_token.clone() else {
        return Err(world.fail_on(
            &precondition("the refresh returned a new refresh token"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    token_call(world, refresh_form(&newest, &client.client_id))
        .await
        .map(|_| ())
}

#[then("the token endpoint returns a new refresh token")]
async fn returns_new_refresh(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = require_tokens(world, RULE_REFRESH_ROTATES)?;
    let old = world
        .oauth
        .rotated_refresh_token
        .clone()
        .unwrap_or_default();
    match tokens.refresh_token {
        Some(new) if new != old => Ok(()),
        Some(_) => Err(world.fail(
            RULE_REFRESH_ROTATES,
            "a refresh_token different from the one presented",
            "the same refresh_token again",
        )),
        None => Err(world.fail(
            RULE_REFRESH_ROTATES,
            "a new refresh_token",
            "no refresh_token",
        )),
    }
}

#[then("the token endpoint refuses the rotated refresh token with invalid_grant")]
async fn refuses_rotated(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_ROTATED_REFUSED)
}

#[then("the token endpoint refuses the newest refresh token of the replayed family")]
async fn refuses_newest(world: &mut AuthWorld) -> StepResult {
    expect_invalid_grant(world, RULE_FAMILY_REVOKED)
}

// ---------------------------------------------------------------------------------------------
// Revocation and introspection

/// Posts a form to the discovery endpoint `name` as a client-to-server call.
async fn client_form_call(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
    form: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    let base = endpoint_request(world, name, pick).await?;
    send(world, form_post(base, form)).await
}

#[when("the OAuth client revokes the refresh token")]
async fn revokes_refresh(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, exchange) = current_tokens(world)?;
    let Some(refresh) = tokens.refresh_token.clone() else {
        return Err(world.fail_on(
            &precondition("the code exchange issued a refresh token (offline_access)"),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    register_with_form_encoding(&refresh);
    let answer = client_form_call(
        world,
        "revocation_endpoint",
        |d| d.revocation_endpoint.clone(),
        revocation_form(&refresh, "refresh_token", &client.client_id),
    )
    .await?;
    world.oauth.revoked_refresh_token = Some(refresh);
    world.oauth.revocation = Some(answer);
    Ok(())
}

#[when("the OAuth client refreshes with the revoked refresh token")]
async fn refreshes_with_revoked(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let Some(revoked) = world.oauth.revoked_refresh_token.clone() else {
        return Err(world.fail(
            &precondition("the client revoked its refresh token"),
            "a revoked refresh token",
            "none",
        ));
    };
    // Judged by the Then step; a 200 here must not become the current token set.
    token_call(world, refresh_form(&revoked, &client.client_id))
        .await
        .map(|_| ())
}

#[then("the token endpoint refuses the revoked refresh token with invalid_grant")]
async fn refuses_revoked(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_REVOKED_REFRESH;
    let Some(revocation) = world.oauth.revocation.clone() else {
        return Err(world.fail(rule, "a revocation request before this step", "none"));
    };
    if revocation.status != 200 {
        let body = revocation.json().unwrap_or(Value::Null);
        return Err(world.fail_on(
            rule,
            "HTTP 200 from the revocation endpoint",
            format!(
                "the revocation answered {}",
                describe_token_answer(revocation.status, &body)
            ),
            Some(revocation.excerpt()),
        ));
    }
    expect_invalid_grant(world, rule)
}

#[when("the OAuth client introspects the access token with only its client_id")]
async fn introspects_without_credentials(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, _) = current_tokens(world)?;
    register_with_form_encoding(&tokens.access_token);
    client_form_call(
        world,
        "introspection_endpoint",
        |d| d.introspection_endpoint.clone(),
        introspection_form(&tokens.access_token, &client.client_id),
    )
    .await
    .map(|_| ())
}

#[then("the introspection endpoint refuses the client without credentials with 401 invalid_client")]
async fn introspection_refused(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    check_introspection_refused(exchange.status, &body).map_err(|e| {
        world.fail(
            RULE_INTROSPECTION_AUTH,
            "HTTP 401 with error invalid_client, and no token information",
            e,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// A second client

/// Second clients registered in this process, by target and first client: registration is
/// rate-limited and leaves a client behind, so it happens once per run, not per scenario.
static SECOND_CLIENTS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, SecondClient>>,
> = std::sync::LazyLock::new(Default::default);

type SecondClient = std::sync::Arc<tokio::sync::OnceCell<String>>;

/// Why a registration did not give a client: (expected, actual, exchange excerpt, status).
type Refusal = (String, String, Option<String>, Option<u16>);

/// Registers a public client with the same redirect_uri as the first one (RFC 7591 §3).
async fn register_public_client(
    endpoint: crate::http::Endpoint,
    request: Request,
) -> Result<String, Refusal> {
    let mut client = Client::new(endpoint).map_err(|e| {
        (
            "an HTTP client".to_string(),
            e.to_string(),
            None::<String>,
            None,
        )
    })?;
    let exchange = client.send(request).await.map_err(|e| {
        (
            "an answer from the registration_endpoint".to_string(),
            e.to_string(),
            None,
            None,
        )
    })?;
    register_exchange_secrets(&exchange);
    let body = exchange.json().unwrap_or(Value::Null);
    if let Some(secret) = body.get("client_secret").and_then(Value::as_str) {
        register_with_form_encoding(secret);
    }
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
const SECOND_CLIENT_SKIP: &str = "needs a second OAuth client, registered through dynamic client \
     registration, which the target does not allow (oauthProvider allowDynamicClientRegistration)";

/// The client_id of a second public client with the first one's redirect_uri.
async fn second_client_id(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let rule =
        precondition("a second OAuth client can be registered (dynamic client registration)");
    let first = client_config(world)?;
    let d = discovery(world).await?;
    // Dynamic registration is optional (RFC 7591, OAuth 2.1): without it the check cannot run.
    let Some(endpoint) = d.registration_endpoint.clone() else {
        return Err(world.skip(SECOND_CLIENT_SKIP.to_string() + " (no registration_endpoint)"));
    };
    let mut request = request_to(world, &endpoint, &rule)?;
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Json(public_client_registration(
        "ba-harness second client",
        &first.redirect_uri,
    )));
    request.cookies = CookieChoice::None;
    request.send_origin = true;
    let key = format!("{} {}", world.target().auth_url(), first.client_id);
    let cell = SECOND_CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone();
    let target = world.target().endpoint();
    let registered = cell
        .get_or_try_init(|| register_public_client(target, request))
        .await;
    match registered {
        Ok(id) => Ok(id.clone()),
        Err((_, _, _, Some(status))) if (400..500).contains(&status) && status != 429 => Err(world
            .skip(format!(
                "{SECOND_CLIENT_SKIP} (registration refused: HTTP {status})"
            ))),
        Err((expected, actual, exchange, _)) => {
            Err(world.fail_on(&rule, expected, actual, exchange))
        }
    }
}

#[when("another OAuth client exchanges the code")]
async fn other_client_exchanges(world: &mut AuthWorld) -> StepResult {
    let other = second_client_id(world).await?;
    let Some(code) = world.oauth.code.clone() else {
        return Err(world.fail(
            &precondition("an authorization code was issued"),
            "a code from an earlier step",
            "none",
        ));
    };
    let verifier = world
        .oauth
        .pkce
        .as_ref()
        .map(|p| p.verifier.clone())
        .unwrap_or_default();
    let redirect_uri = redirect_uri_sent(world);
    // Everything right but the client: a 200 here must not become the current token set.
    token_call(
        world,
        code_exchange_form(&code, &redirect_uri, &other, &verifier),
    )
    .await
    .map(|_| ())
}

#[then("the token endpoint refuses the code presented by the other client")]
async fn refuses_other_client(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    check_foreign_code_refused(exchange.status, &body).map_err(|e| {
        world.fail(
            RULE_CODE_BOUND_TO_CLIENT,
            "HTTP 400 with error invalid_grant (or invalid_client)",
            e,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The ID token

#[then("the ID token is signed by a key from the discovery jwks_uri")]
async fn id_token_signed(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ID_SIGNATURE;
    let (id_token, header, _, _, exchange) = current_id_token(world, rule)?;
    let jwks_request = endpoint_request(world, "jwks_uri", |d| d.jwks_uri.clone()).await?;
    let jwks_exchange = send(world, jwks_request.cookies(CookieChoice::None)).await?;
    let jwks = json_body(world, &jwks_exchange, rule)?;
    match verify_id_token_signature(&id_token, &jwks) {
        Ok(()) => Ok(()),
        Err(e) => Err(world.fail_on(
            rule,
            format!(
                "a valid {} signature by key {} of the JWKS",
                header.get("alg").and_then(Value::as_str).unwrap_or("?"),
                header
                    .get("kid")
                    .and_then(Value::as_str)
                    .unwrap_or("(no kid)")
            ),
            e,
            Some(exchange.excerpt()),
        )),
    }
}

/// Verifies the ID token's signature against a JWKS through `protocol::jwt`.
fn verify_id_token_signature(id_token: &str, jwks: &Value) -> Result<(), String> {
    use crate::protocol::jwt::{JwksCache, parse_jwks, verify};
    let jwks = parse_jwks(jwks).map_err(|e| format!("the JWKS is unusable: {e}"))?;
    verify(id_token, &JwksCache::new(&jwks))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[then("the ID token's iss is the discovery issuer")]
async fn id_token_iss(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_ISS)?;
    let issuer = discovery(world).await?.issuer;
    check_id_token_iss(&claims, &issuer).map_err(|e| {
        world.fail_on(
            RULE_ID_ISS,
            format!("iss {issuer:?}"),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the ID token's aud is the client_id")]
async fn id_token_aud(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_AUD)?;
    check_id_token_aud(&claims, &client.client_id).map_err(|e| {
        world.fail_on(
            RULE_ID_AUD,
            format!("aud {:?}", client.client_id),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the ID token has not expired")]
async fn id_token_current(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_TIMES)?;
    let now = now();
    check_id_token_times(&claims, now).map_err(|e| {
        world.fail_on(
            RULE_ID_TIMES,
            format!("exp after {now}, iat at most {now}"),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the ID token echoes the nonce sent to the authorization endpoint")]
async fn id_token_nonce(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_NONCE)?;
    let sent = world
        .oauth
        .request
        .as_ref()
        .and_then(|r| r.nonce.clone())
        .unwrap_or_default();
    check_id_token_nonce(&claims, &sent).map_err(|e| {
        world.fail_on(
            RULE_ID_NONCE,
            format!("nonce {sent:?}"),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the ID token's at_hash matches the access token")]
async fn id_token_at_hash(world: &mut AuthWorld) -> StepResult {
    let (_, header, claims, tokens, exchange) = current_id_token(world, RULE_ID_AT_HASH)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    check_at_hash(&claims, &alg, &tokens.access_token).map_err(|e| {
        world.fail_on(
            RULE_ID_AT_HASH,
            format!("at_hash = base64url(left half of the {alg} hash of the access token)"),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the ID token's sub is the same for both authorizations")]
async fn id_token_sub_stable(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ID_SUB_STABLE;
    let (_, _, second, _, exchange) = current_id_token(world, rule)?;
    let Some((first_tokens, _)) = world.oauth.first_tokens.clone() else {
        return Err(world.fail(
            &precondition("a first authorization issued tokens"),
            "a first token set",
            "none",
        ));
    };
    let first = first_tokens
        .id_token
        .as_deref()
        .ok_or_else(|| "no id_token".to_string())
        .and_then(decode_id_token)
        .map(|(_, c)| c);
    let first = match first {
        Ok(c) => c,
        Err(e) => return Err(world.fail_on(rule, "a decodable first ID token", e, None)),
    };
    match (&first.sub, &second.sub) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(b)) => Err(world.fail_on(
            rule,
            format!("sub {a:?} again"),
            format!("sub {b:?}"),
            Some(exchange.excerpt()),
        )),
        _ => Err(world.fail_on(
            rule,
            "a sub claim in both ID tokens",
            "a missing sub",
            Some(exchange.excerpt()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// userinfo

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
    let token = format!("unknown{}", random_string(25));
    userinfo_call(world, Some(&token)).await.map(|_| ())
}

/// Claims of an access token as a JWT-issuing provider would mint one for userinfo (iss, the
/// userinfo audience, a subject, a live exp), for the forged-token scenarios.
async fn forged_access_token_claims(
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
    if exchange.status != 200 {
        return Err(world.fail(
            rule,
            "HTTP 200 with the user's claims",
            format!("HTTP {}", exchange.status),
        ));
    }
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
    if exchange.status == 401 {
        return Ok(());
    }
    Err(world.fail(
        RULE_USERINFO_NO_TOKEN,
        "HTTP 401",
        format!("HTTP {}", exchange.status),
    ))
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

// ---------------------------------------------------------------------------------------------
// End session

async fn end_session_call(
    world: &mut AuthWorld,
    post_logout_redirect_uri: &str,
    cookies: CookieChoice,
) -> StepResult {
    end_session_with_hint(world, post_logout_redirect_uri, cookies, |t| {
        Ok(t.to_string())
    })
    .await
}

/// End session with the ID token turned into the hint by `hint` (kept, or forged).
async fn end_session_with_hint(
    world: &mut AuthWorld,
    post_logout_redirect_uri: &str,
    cookies: CookieChoice,
    hint: fn(&str) -> Result<String, String>,
) -> StepResult {
    let (tokens, exchange) = current_tokens(world)?;
    let Some(real_id_token) = tokens.id_token.clone() else {
        return Err(world.fail_on(
            &precondition("the code exchange issued an ID token"),
            "an id_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    let id_token = match hint(&real_id_token) {
        Ok(t) => t,
        Err(e) => {
            return Err(world.fail_on(
                &precondition("the ID token is a compact JWS the harness can forge a hint from"),
                "a JWT",
                e,
                Some(exchange.excerpt()),
            ));
        }
    };
    crate::redact::SecretRegistry::global().register(&id_token);
    let state = format!("ls-{}", random_string(16));
    let request = endpoint_get(
        world,
        "end_session_endpoint",
        |d| d.end_session_endpoint.clone(),
        |endpoint| end_session_url(endpoint, &id_token, post_logout_redirect_uri, &state),
    )
    .await?;
    world.oauth.logout_state = Some(state);
    send(world, request.cookies(cookies)).await.map(|_| ())
}

fn post_logout_uri(world: &mut AuthWorld) -> Result<String, StepFailure> {
    let client = client_config(world)?;
    match client.post_logout_redirect_uri {
        Some(uri) => Ok(uri),
        None => Err(world.fail_on(
            &precondition("the OAuth client has a registered post_logout_redirect_uri"),
            "--post-logout-redirect-uri",
            "none was given",
            None,
        )),
    }
}

#[when(
    "end session is requested with the ID token, the registered post_logout_redirect_uri and a state"
)]
async fn end_session_registered(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    end_session_call(world, &uri, CookieChoice::Jar).await
}

#[when("end session is requested with the ID token but without the user's session cookie")]
async fn end_session_without_cookie(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    end_session_call(world, &uri, CookieChoice::None).await
}

#[when("end session is requested with an unregistered post_logout_redirect_uri")]
async fn end_session_unregistered(world: &mut AuthWorld) -> StepResult {
    let registered = post_logout_uri(world)?;
    let unregistered = unregistered_variant(&registered, "/ba-harness-unregistered-logout");
    world.oauth.unregistered_logout_uri = Some(unregistered.clone());
    end_session_call(world, &unregistered, CookieChoice::Jar).await
}

#[when(
    "end session is requested with an unsigned copy of the ID token (alg none), the registered post_logout_redirect_uri and a state"
)]
async fn end_session_unsigned_hint(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    end_session_with_hint(
        world,
        &uri,
        CookieChoice::Jar,
        crate::protocol::forge::unsigned_copy,
    )
    .await
}

#[when(
    "end session is requested with the ID token's signature altered, the registered post_logout_redirect_uri and a state"
)]
async fn end_session_altered_hint(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    end_session_with_hint(
        world,
        &uri,
        CookieChoice::Jar,
        crate::protocol::forge::with_signature_altered,
    )
    .await
}

#[then("end session neither redirects to the post_logout_redirect_uri nor ends the user's session")]
async fn end_session_forged_hint_refused(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_FORGED_HINT;
    let answer = world.last_exchange()?;
    let uri = post_logout_uri(world)?;
    if let Some(Ok(target)) = redirect_of(&answer)
        && target.is_at(&uri)
    {
        return Err(world.fail(
            rule,
            "no redirect to the post_logout_redirect_uri (an error, or a confirmation page)",
            format!(
                "HTTP {} to the post_logout_redirect_uri ({}): the forged hint was accepted",
                answer.status,
                target.describe()
            ),
        ));
    }
    let (probe, body) = super::session::probe_started_session(world, rule).await?;
    if !body.is_null() {
        return Ok(());
    }
    Err(world.fail_on(
        rule,
        "the user's session still valid after the request",
        format!(
            "end session answered HTTP {} and get-session with the user's session cookie then answers null: the forged hint ended the session",
            answer.status
        ),
        Some(format!("{}\n{}", answer.excerpt(), probe.excerpt())),
    ))
}

#[then("end session redirects to the post_logout_redirect_uri with the same state")]
async fn end_session_redirects(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_REDIRECT;
    let uri = post_logout_uri(world)?;
    let exchange = world.last_exchange()?;
    let state = world.oauth.logout_state.clone().unwrap_or_default();
    let target = match redirect_of(&exchange) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return Err(world.fail(rule, format!("a redirect to {uri}?state={state}"), e));
        }
        None => {
            return Err(world.fail(
                rule,
                format!("a redirect to {uri}?state={state}"),
                format!("HTTP {} without a redirect", exchange.status),
            ));
        }
    };
    if !target.is_at(&uri) {
        return Err(world.fail(
            rule,
            format!("a redirect to {uri}"),
            format!("a redirect to {}", target.describe()),
        ));
    }
    match target.all("state").as_slice() {
        [one] if *one == state => Ok(()),
        [] => Err(world.fail(rule, format!("state={state}"), "no state parameter")),
        found => Err(world.fail(
            rule,
            format!("state={state} (once)"),
            format!("state {found:?}"),
        )),
    }
}

fn is_cleared(cookie: &SetCookie, original: &SetCookie) -> bool {
    let expired = cookie.max_age.is_some_and(|m| m <= 0)
        || (cookie.max_age.is_none()
            && cookie
                .expires
                .as_deref()
                .is_some_and(|e| e.contains("1970")));
    expired && cookie.path == original.path
}

#[then("end session clears the session cookies")]
async fn end_session_clears(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_COOKIES;
    let exchange = world.last_exchange()?;
    let started: Vec<SetCookie> = world
        .session_start
        .as_ref()
        .map(|e| {
            e.set_cookies()
                .into_iter()
                .filter(|c| !c.value.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if started.is_empty() {
        return Err(world.fail(
            &precondition("a session was started"),
            "cookies set by sign-in",
            "none",
        ));
    }
    for original in started {
        match exchange.set_cookie(&original.name) {
            Some(c) if is_cleared(&c, &original) => {}
            Some(c) => {
                return Err(world.fail(
                    rule,
                    format!(
                        "{}=; Max-Age=0; Path={}",
                        original.name,
                        original.path.as_deref().unwrap_or("/")
                    ),
                    redact_set_cookie(&c.raw),
                ));
            }
            None => {
                return Err(world.fail(
                    rule,
                    format!("Set-Cookie: {}=; Max-Age=0", original.name),
                    format!("no Set-Cookie for `{}`", original.name),
                ));
            }
        }
    }
    Ok(())
}

#[then("end session leaves no session behind the old session cookie")]
async fn end_session_ends(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_ENDS;
    let (_, body) = super::session::probe_started_session(world, rule).await?;
    if body.is_null() {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "null",
        match body
            .get("user")
            .and_then(|u| u.get("email"))
            .and_then(Value::as_str)
        {
            Some(email) => format!("the session of {email} is still valid"),
            None => "a non-null answer".into(),
        },
    ))
}

#[then("the user's session survives until the End-User confirms the logout")]
async fn session_survives_unconfirmed_logout(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_CONFIRM;
    let answer = world.last_exchange()?;
    let uri = post_logout_uri(world)?;
    let (probe, body) = super::session::probe_started_session(world, rule).await?;
    if !body.is_null() {
        return Ok(());
    }
    let how = match redirect_of(&answer) {
        Some(Ok(target)) if target.is_at(&uri) => format!(
            "{ENDED_WITHOUT_ASKING}: end session answered HTTP {} to the post_logout_redirect_uri ({})",
            answer.status,
            target.describe()
        ),
        Some(Ok(target)) => format!(
            "the session was ended: end session answered HTTP {} to {}",
            answer.status,
            target.describe()
        ),
        _ => format!(
            "the session was ended although end session answered HTTP {} ({})",
            answer.status,
            answer.content_type().unwrap_or("no content-type")
        ),
    };
    Err(world.fail_on(
        rule,
        "the session still valid after the request: the OP asks the End-User first (a confirmation page) or declines",
        format!("{how}; get-session with the user's session cookie then answers null"),
        Some(format!("{}\n{}", answer.excerpt(), probe.excerpt())),
    ))
}

#[then("end session does not redirect to the unregistered post_logout_redirect_uri")]
async fn end_session_not_unregistered(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_END_SESSION_UNREGISTERED;
    let exchange = world.last_exchange()?;
    let Some(unregistered) = world.oauth.unregistered_logout_uri.clone() else {
        return Err(world.fail(
            rule,
            "an end-session request with an unregistered URI",
            "none",
        ));
    };
    if let Some(Ok(target)) = redirect_of(&exchange)
        && target.is_at(&unregistered)
    {
        return Err(world.fail(
            rule,
            format!("no redirect to {unregistered}"),
            format!("HTTP {} to {}", exchange.status, target.describe()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_redirects_are_registered() {
        register_codes_in(
            r#"{"url":"http://127.0.0.1:4000/callback?code=Qk3pLm9zXy7wVu2tRs1q&state=x"}"#,
        );
        let text = SecretRegistry::global().scrub("code Qk3pLm9zXy7wVu2tRs1q leaked");
        assert!(!text.contains("Qk3pLm9z"), "{text}");
        // code_challenge is not a code.
        register_codes_in("/x?code_challenge=NotASecretChallengeValue1&state=s");
        let text = SecretRegistry::global().scrub("NotASecretChallengeValue1");
        assert!(text.contains("NotASecretChallengeValue1"));
    }

    #[test]
    fn form_encoded_secrets_are_registered() {
        let verifier = "Ab~cd.ef_gh-ij~KLMNOPQRSTUVWXYZ0123456789abcdefgh";
        register_with_form_encoding(verifier);
        let body = format!(
            "code_verifier={}",
            url::form_urlencoded::byte_serialize(verifier.as_bytes()).collect::<String>()
        );
        assert_eq!(
            SecretRegistry::global().scrub(&body),
            "code_verifier=[redacted]"
        );
    }

    #[test]
    fn the_listed_end_session_deviation_matches_the_reported_text() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("known-deviations.toml");
        let list = crate::deviations::load(&path).unwrap();
        let entry = list
            .iter()
            .find(|d| {
                d.scenario
                    == "End session without the user's session asks the End-User before logging out"
            })
            .expect("the end-session deviation is listed");
        assert!(
            entry.actual_contains.starts_with(ENDED_WITHOUT_ASKING),
            "{}",
            entry.actual_contains
        );
    }

    #[test]
    fn unregistered_variants_keep_the_origin() {
        assert_eq!(
            unregistered_variant(
                "http://127.0.0.1:4000/callback?x=1",
                "/ba-harness-unregistered-callback"
            ),
            "http://127.0.0.1:4000/ba-harness-unregistered-callback"
        );
    }
}
