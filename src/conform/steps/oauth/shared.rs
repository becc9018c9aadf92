//! Plumbing shared by the OAuth steps: the client config, sending with secret registration, discovery and endpoint requests, the authorization driver, token calls and decoders.

use super::*;

pub(super) fn precondition(what: &str) -> String {
    format!("{what} (precondition)")
}

pub(super) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The OAuth client the target was given.
pub(super) struct ClientConfig {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) post_logout_redirect_uri: Option<String>,
}

pub(super) fn client_config(world: &mut AuthWorld) -> Result<ClientConfig, StepFailure> {
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

pub(super) use crate::harvest::register_codes_in;

/// Registers every credential an answer can carry: codes in redirects, tokens in JSON bodies,
/// cookie values and the bearer plugin's header.
pub(crate) fn register_exchange_secrets(exchange: &Exchange) {
    let secrets = &exchange.secrets;
    if let Some(location) = exchange.header("location") {
        register_codes_in(secrets, location);
    }
    register_codes_in(secrets, &exchange.body);
    if let Ok(body) = exchange.json() {
        for field in ["access_token", "refresh_token", "id_token", "token"] {
            if let Some(value) = body.get(field).and_then(Value::as_str) {
                secrets.register(value);
            }
        }
    }
    for cookie in exchange.set_cookies() {
        secrets.register(&cookie.value);
        secrets.register(&cookie.decoded_value());
    }
    for header in ["set-auth-token", "set-auth-jwt"] {
        if let Some(value) = exchange.header(header) {
            secrets.register(value);
        }
    }
}

/// Sends a request and registers the answer's secrets before anything can report on it.
pub(super) async fn send(world: &mut AuthWorld, request: Request) -> Result<Exchange, StepFailure> {
    let exchange = world.send(request).await?;
    register_exchange_secrets(&exchange);
    Ok(exchange)
}

/// A request to an absolute URL the server named (discovery endpoints), which must be on the
/// target's origin: the harness's client talks to one origin.
pub(super) fn request_to(
    world: &mut AuthWorld,
    url: &str,
    rule: &str,
) -> Result<Request, StepFailure> {
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

pub(super) fn form_post(mut request: Request, form: Vec<(String, String)>) -> Request {
    request.method = reqwest::Method::POST;
    request.body = Some(Body::Form(form));
    // A client-to-server call: no browser cookies, no Origin.
    request.cookies = CookieChoice::None;
    request.send_origin = false;
    request
}

pub(super) async fn fetch_discovery(world: &mut AuthWorld) -> Result<Exchange, StepFailure> {
    send(
        world,
        Request::get(DISCOVERY_PATH).cookies(CookieChoice::None),
    )
    .await
}

/// Judges a discovery answer's transport: 200 and a JSON object with an issuer.
pub(super) fn discovery_in(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<Discovery, StepFailure> {
    let expected = "HTTP 200 with the discovery document";
    crate::conform::steps::require_status(world, exchange, 200, rule, expected)?;
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
pub(super) async fn discovery(world: &mut AuthWorld) -> Result<Discovery, StepFailure> {
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
pub(super) async fn endpoint_get(
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
pub(super) async fn endpoint_request(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
) -> Result<Request, StepFailure> {
    endpoint_with_query(world, name, pick, &[]).await
}

/// A GET of the discovery endpoint `name` with `pairs` added to its query.
pub(super) async fn endpoint_with_query(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
    pairs: &[(String, String)],
) -> Result<Request, StepFailure> {
    endpoint_get(world, name, pick, |e| {
        let mut url = url::Url::parse(e).map_err(|err| format!("{e:?}: {err}"))?;
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(url)
    })
    .await
}

/// Where an answer redirects: a 3xx Location, or Better Auth's JSON `{redirect: true, url}`.
pub(super) fn redirect_of(exchange: &Exchange) -> Option<Result<RedirectParams, String>> {
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

pub(super) fn record_hop(world: &mut AuthWorld, exchange: Exchange, redirect_uri: &str) {
    let hop = redirect_of(&exchange)
        .and_then(Result::ok)
        .map(|p| classify_hop(p, redirect_uri));
    if let Some(AuthorizeHop::Client(p)) = &hop
        && let Some(code) = p.code()
    {
        world.secrets().register(code);
        world.oauth.code = Some(code.to_string());
    }
    world.oauth.hops.push(Hop { exchange, hop });
}

pub(super) fn last_hop(world: &AuthWorld) -> Option<Hop> {
    world.oauth.hops.last().cloned()
}

/// What the user-agent saw at the end of a hop, for failure reports.
pub(super) fn describe_hop(hop: &Hop) -> String {
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

pub(super) fn standard_request(
    world: &AuthWorld,
    client: &ClientConfig,
    pkce: Option<&PkcePair>,
) -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: client.redirect_uri.clone(),
        scope: SCOPE.into(),
        state: Some(format!("st-{}", world.random_string(16))),
        nonce: Some(format!("n-{}", world.random_string(16))),
        code_challenge: pkce.map(|p| p.challenge.clone()),
        code_challenge_method: pkce.map(|p| p.method().to_string()),
        extra: Vec::new(),
        response_type: None,
    }
}

/// A standard authorization request of the configured client with a fresh S256 PKCE pair.
pub(super) fn pkce_request(
    world: &mut AuthWorld,
) -> Result<(ClientConfig, AuthorizeRequest, PkcePair), StepFailure> {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    Ok((client, request, pkce))
}

/// A standard PKCE authorization request naming an unregistered variant of the client's
/// redirect_uri, which is kept for the Then steps.
pub(super) fn unregistered_redirect_request(
    world: &mut AuthWorld,
) -> Result<(AuthorizeRequest, PkcePair), StepFailure> {
    let (client, mut request, pkce) = pkce_request(world)?;
    let unregistered =
        unregistered_variant(&client.redirect_uri, "/ba-harness-unregistered-callback");
    request.redirect_uri = unregistered.clone();
    world.oauth.unregistered_redirect_uri = Some(unregistered);
    Ok((request, pkce))
}

/// Posts a form to the discovery endpoint `name` as a client-to-server call.
pub(super) async fn client_form_call(
    world: &mut AuthWorld,
    name: &str,
    pick: fn(&Discovery) -> Option<String>,
    form: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    let base = endpoint_request(world, name, pick).await?;
    send(world, form_post(base, form)).await
}

/// Sends the user-agent to the authorization endpoint (with the jar's cookies) and records
/// where it was sent.
pub(super) async fn start_authorization(
    world: &mut AuthWorld,
    request: AuthorizeRequest,
    pkce: Option<PkcePair>,
) -> StepResult {
    if let Some(p) = &pkce {
        world.secrets().register_with_form_encoding(&p.verifier);
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

pub(super) fn has_session_cookie(world: &AuthWorld) -> bool {
    let name = world.session_cookie_name();
    world.client.cookie(&name).is_some()
}

/// Posts the consent page's signed query back with accept:true (the session cookie and
/// Origin go along).
pub(super) async fn grant_consent(world: &mut AuthWorld) -> StepResult {
    answer_consent(world, true).await
}

/// Why a consent check cannot run: a given account (`--user-email`, `--users-file`) that was
/// sent straight back to the client with a code has consented to this client before (Better
/// Auth stores consent per user and client, across runs); a fresh account never has.
pub(super) fn consent_already_given(world: &AuthWorld, hop: Option<&Hop>) -> Option<String> {
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
pub(super) async fn answer_consent(world: &mut AuthWorld, accept: bool) -> StepResult {
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

pub(super) fn redirect_uri_sent(world: &AuthWorld) -> String {
    world
        .oauth
        .request
        .as_ref()
        .map(|r| r.redirect_uri.clone())
        .unwrap_or_default()
}

/// Authorizes as a browser would: to the authorization endpoint, then through consent when the
/// user has a session and the server asks for it.
pub(super) async fn drive_authorization(
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
pub(super) async fn authorize_for_code(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    drive_authorization(world, request, Some(pkce)).await?;
    require_code(
        world,
        "the authorization code flow with PKCE S256 returns a code",
    )
    .map(|_| ())
}

/// Posts a form to the token endpoint (secrets in it are registered first).
pub(super) async fn token_call(
    world: &mut AuthWorld,
    form: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    for (name, value) in &form {
        if matches!(name.as_str(), "code" | "code_verifier" | "refresh_token") {
            world.secrets().register_with_form_encoding(value);
        }
    }
    let base = endpoint_request(world, "token_endpoint", |d| d.token_endpoint.clone()).await?;
    send(world, form_post(base, form)).await
}

/// Stores a successful token answer as the current token set (and the first, if none yet).
pub(super) fn keep_tokens(world: &mut AuthWorld, exchange: &Exchange) {
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

/// What an earlier step kept in the OAuth state (`pick`), or a failure of the precondition that
/// it `happened`; `expected` names what it should have left.
pub(super) fn kept<T>(
    world: &mut AuthWorld,
    pick: impl Fn(&OAuthState) -> Option<T>,
    happened: &str,
    expected: &str,
) -> Result<T, StepFailure> {
    match pick(&world.oauth) {
        Some(value) => Ok(value),
        None => Err(world.fail(&precondition(happened), expected, "none")),
    }
}

/// What the last authorization request sent (`pick`: its state, nonce, ...), if it sent it.
pub(super) fn sent_in_request(
    world: &AuthWorld,
    pick: impl Fn(&AuthorizeRequest) -> Option<String>,
) -> Option<String> {
    world.oauth.request.as_ref().and_then(pick)
}

/// The form exchanging the current code for `client_id`, with the verifier and redirect_uri of
/// the authorization request unless given.
pub(super) fn current_code_form(
    world: &mut AuthWorld,
    client_id: &str,
    redirect_uri: Option<String>,
    verifier: Option<String>,
) -> Result<Vec<(String, String)>, StepFailure> {
    let code = kept(
        world,
        |o| o.code.clone(),
        "an authorization code was issued",
        "a code from an earlier step",
    )?;
    let verifier = verifier
        .or_else(|| world.oauth.pkce.as_ref().map(|p| p.verifier.clone()))
        .unwrap_or_default();
    let redirect_uri = redirect_uri.unwrap_or_else(|| redirect_uri_sent(world));
    Ok(code_exchange_form(
        &code,
        &redirect_uri,
        client_id,
        &verifier,
    ))
}

/// Sends a token request whose answer a Then step judges: a 200 here must not become the
/// current token set.
pub(super) async fn token_call_judged_later(
    world: &mut AuthWorld,
    form: Vec<(String, String)>,
) -> StepResult {
    token_call(world, form).await.map(|_| ())
}

/// Exchanges the current code with the current verifier; `redirect_uri` as given.
pub(super) async fn exchange_code_with(
    world: &mut AuthWorld,
    redirect_uri: Option<String>,
    verifier: Option<String>,
) -> Result<Exchange, StepFailure> {
    let client = client_config(world)?;
    let form = current_code_form(world, &client.client_id, redirect_uri, verifier)?;
    let exchange = token_call(world, form).await?;
    keep_tokens(world, &exchange);
    Ok(exchange)
}

/// The current refresh token, or a failure of the precondition that an earlier step `issued` it.
pub(super) fn current_refresh_token(
    world: &mut AuthWorld,
    issued: &str,
) -> Result<String, StepFailure> {
    let (tokens, exchange) = current_tokens(world)?;
    match tokens.refresh_token {
        Some(refresh) => Ok(refresh),
        None => Err(world.fail_on(
            &precondition(issued),
            "a refresh_token",
            "none",
            Some(exchange.excerpt()),
        )),
    }
}

/// What issues the refresh token of the code exchange.
pub(super) const OFFLINE_ACCESS: &str = "the code exchange issued a refresh token (offline_access)";

/// Requires the last token answer to be a usable token set.
pub(super) fn require_tokens(
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
pub(super) fn current_tokens(
    world: &mut AuthWorld,
) -> Result<(TokenResponse, Exchange), StepFailure> {
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
pub(super) fn current_id_token(
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

/// The current ID token made into an id_token_hint by `hint` (kept as it is, or forged), and
/// registered as a secret; a token the harness cannot make one from fails a precondition,
/// quoting the token answer.
pub(super) fn id_token_hint(
    world: &mut AuthWorld,
    hint: fn(&str) -> Result<String, String>,
) -> Result<String, StepFailure> {
    let (tokens, exchange) = current_tokens(world)?;
    let Some(real_id_token) = tokens.id_token.clone() else {
        return Err(world.fail_on(
            &precondition("the code exchange issued an ID token"),
            "an id_token",
            "none",
            Some(exchange.excerpt()),
        ));
    };
    match hint(&real_id_token) {
        Ok(id_token) => {
            world.secrets().register(&id_token);
            Ok(id_token)
        }
        Err(e) => Err(world.fail_on(
            &precondition("the ID token is a compact JWS the harness can forge a hint from"),
            "a JWT",
            e,
            Some(exchange.excerpt()),
        )),
    }
}

/// get-session with the started session's cookie alone: the probe, when it found the session
/// ended (null); `None` while the session lives.
pub(super) async fn ended_session_probe(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<Option<Exchange>, StepFailure> {
    let (probe, body) = crate::conform::steps::session::probe_started_session(world, rule).await?;
    Ok(body.is_null().then_some(probe))
}

/// The claims of the first token set's ID token (decoded, not verified).
pub(super) fn first_id_token_claims(world: &AuthWorld) -> Result<IdTokenClaims, String> {
    let first = world.oauth.first_tokens.as_ref();
    let id_token = first.and_then(|(t, _)| t.id_token.clone());
    let id_token = id_token.ok_or_else(|| "no id_token".to_string())?;
    decode_id_token(&id_token).map(|(_, claims)| claims)
}

/// An ID token's header and claims, decoded through `protocol::jwt` (not verified).
pub(super) fn decode_id_token(id_token: &str) -> Result<(Value, IdTokenClaims), String> {
    let jwt = crate::protocol::jwt::decode(id_token).map_err(|e| e.to_string())?;
    let claims = parse_id_token_claims(&Value::Object(jwt.claims.clone()))?;
    Ok((Value::Object(jwt.header), claims))
}

/// Fails `rule` unless the last answer is `400 {"error": "invalid_grant"}`.
pub(super) fn expect_invalid_grant(world: &mut AuthWorld, rule: &str) -> StepResult {
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
pub(super) fn unregistered_variant(uri: &str, path: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            u.set_path(path);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => format!("http://127.0.0.1:4000{path}"),
    }
}

pub(super) async fn userinfo_call(
    world: &mut AuthWorld,
    bearer: Option<&str>,
) -> Result<Exchange, StepFailure> {
    let mut request =
        endpoint_request(world, "userinfo_endpoint", |d| d.userinfo_endpoint.clone()).await?;
    request.cookies = CookieChoice::None;
    if let Some(token) = bearer {
        world.secrets().register(token);
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    send(world, request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Secrets;

    #[test]
    fn codes_in_redirects_are_registered() {
        let secrets = Secrets::default();
        register_codes_in(
            &secrets,
            r#"{"url":"http://127.0.0.1:4000/callback?code=Qk3pLm9zXy7wVu2tRs1q&state=x"}"#,
        );
        let text = secrets.scrub_text("code Qk3pLm9zXy7wVu2tRs1q leaked");
        assert!(!text.contains("Qk3pLm9z"), "{text}");
        // code_challenge is not a code.
        register_codes_in(
            &secrets,
            "/x?code_challenge=NotASecretChallengeValue1&state=s",
        );
        let text = secrets.scrub_text("NotASecretChallengeValue1");
        assert!(text.contains("NotASecretChallengeValue1"));
    }

    #[test]
    fn form_encoded_secrets_are_registered() {
        let verifier = "Ab~cd.ef_gh-ij~KLMNOPQRSTUVWXYZ0123456789abcdefgh";
        let secrets = Secrets::default();
        secrets.register_with_form_encoding(verifier);
        let body = format!(
            "code_verifier={}",
            url::form_urlencoded::byte_serialize(verifier.as_bytes()).collect::<String>()
        );
        assert_eq!(secrets.scrub_text(&body), "code_verifier=[redacted]");
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
