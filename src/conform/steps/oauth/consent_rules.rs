//! What only the user's consent may grant: a consent posted by a third-party page grants nothing
//! (RFC 6749 §10.12), a refresh token for offline_access needs consent to offline_access (OIDC
//! Core §11), consent to one client is not consent to another (Better Auth: consent is stored per
//! user and client), a claims request for another subject is never answered for the signed-in
//! user (OIDC Core §3.1.2.2), and an id_token_hint the OP did not sign authenticates no one.

use super::requests::follow_to_the_end;
use super::*;
use crate::protocol::authorize::claims_for_subject;

const RULE_FOREIGN_CONSENT: &str = "the authorization endpoint is protected against CSRF: a consent posted by a page of another origin on the same site (where even SameSite cookies travel) with the user's cookies grants nothing, neither a code nor a stored consent that a later prompt=none request could use (RFC 6749 §10.12)";
const RULE_OFFLINE_CONSENT: &str = "a refresh token for offline_access is issued only after the user consented to offline_access: a consent to the other scopes yields no refresh token, and a new request for offline_access is not granted without asking (OIDC Core §11)";
const RULE_CONSENT_PER_CLIENT: &str = "a user's consent to one client is never reused for another: the second client's first authorization asks the user, it does not come back with a code (Better Auth oauth-provider consent)";
pub(super) const RULE_CLAIMS_SUB: &str = "when the claims parameter asks for an ID token of a specific sub, the OP answers positively only for that End-User: a signed-in user who is someone else gets an error, never a code, even after consenting (OIDC Core §3.1.2.2, §5.5.1)";
pub(super) const RULE_FORGED_HINT: &str = "an id_token_hint the OP did not issue (its signature altered) authenticates no one: with prompt=none and no session the answer is an error, never a code (OIDC Core §3.1.2.2, §3.1.2.1)";

/// The Origin of another page on the target's site: the same scheme and host on another port
/// (port 9, discard). Same-site, so a browser sends even SameSite=Lax/Strict cookies with its
/// POST: only the server's own check (Origin, a token) stands between it and a grant.
fn same_site_foreign_origin(world: &AuthWorld) -> String {
    let origin = world.target().endpoint().origin;
    url::Url::parse(&origin)
        .ok()
        .and_then(|mut url| url.set_port(Some(9)).ok().map(|()| url))
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|| "https://third-party.ba-harness.test".into())
}
/// A subject no user of the target has.
const OTHER_SUBJECT: &str = "ba-harness-another-subject";

/// Posts the consent page's signed query back with `body` merged into the answer, from
/// `origin` (None: the target's own Origin).
async fn post_consent(world: &mut AuthWorld, extra: Value, origin: Option<&str>) -> StepResult {
    let page = match last_hop(world).and_then(|h| h.hop) {
        Some(AuthorizeHop::Interaction(page)) => page,
        // Not on the consent page: answer_consent posts nothing and reports why.
        _ => return answer_consent(world, true).await,
    };
    let mut body = json!({"accept": true, "oauth_query": page.raw_query()});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let mut request = Request::post_json(CONSENT_PATH, body);
    if let Some(origin) = origin {
        request.send_origin = false;
        request = request.header("origin", origin);
    }
    let redirect_uri = redirect_uri_sent(world);
    let exchange = send(world, request).await?;
    record_hop(world, exchange, &redirect_uri);
    Ok(())
}

#[when("a page of another origin on the same site posts the user's consent")]
async fn foreign_consent(world: &mut AuthWorld) -> StepResult {
    if let Some(reason) = consent_already_given(world, last_hop(world).as_ref()) {
        return Err(world.skip(reason));
    }
    let origin = same_site_foreign_origin(world);
    post_consent(world, json!({}), Some(&origin)).await
}

#[then("the consent from the other origin grants nothing")]
async fn foreign_consent_grants_nothing(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_FOREIGN_CONSENT;
    if let Some(hop) = last_hop(world)
        && let Some(Ok(target)) = redirect_of(&hop.exchange)
        && target.code().is_some()
    {
        world.last = Some(hop.exchange.clone());
        return Err(world.fail(
            rule,
            "a refusal (403) of the cross-origin consent",
            format!(
                "HTTP {}: a code was issued: {}",
                hop.exchange.status,
                target.describe()
            ),
        ));
    }
    // The consent must not have been stored either: a silent request now asks for it.
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    request.extra.push(("prompt".into(), "none".into()));
    start_authorization(world, request, Some(pkce)).await?;
    if let Some(code_hop) = world
        .oauth
        .code
        .is_some()
        .then(|| last_hop(world))
        .flatten()
    {
        world.last = Some(code_hop.exchange.clone());
        return Err(world.fail(
            rule,
            "error=consent_required to a later prompt=none request: no consent was stored",
            format!(
                "the cross-origin consent was stored: prompt=none got {}",
                describe_hop(&code_hop)
            ),
        ));
    }
    Ok(())
}

#[when("the user consents on the consent page to every scope but offline_access")]
async fn consent_without_offline(world: &mut AuthWorld) -> StepResult {
    if let Some(reason) = consent_already_given(world, last_hop(world).as_ref()) {
        return Err(world.skip(reason));
    }
    let granted: Vec<&str> = SCOPE
        .split(' ')
        .filter(|s| *s != "offline_access")
        .collect();
    post_consent(world, json!({"scope": granted.join(" ")}), None).await?;
    // Better Auth's consent takes the scopes the user accepted (`scope`); a server that does not
    // offer a partial consent refuses the answer, and the rule cannot be observed there.
    if let Some(hop) = last_hop(world)
        && hop.hop.is_none()
        && (400..500).contains(&hop.exchange.status)
    {
        return Err(world.skip(format!(
            "the consent endpoint refused a consent to some of the requested scopes (HTTP {}): \
             the user cannot leave offline_access out here",
            hop.exchange.status
        )));
    }
    if world.oauth.code.is_none() {
        let actual = last_hop(world)
            .map(|h| describe_hop(&h))
            .unwrap_or_default();
        return Err(world.fail(
            &precondition("a consent to some of the requested scopes returns a code"),
            "a redirect to the redirect_uri with `code` (consent answered with `scope`)",
            actual,
        ));
    }
    Ok(())
}

#[then(
    "the code exchange issues no refresh token, and offline_access is not granted without asking"
)]
async fn no_refresh_without_offline_consent(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_OFFLINE_CONSENT;
    let exchange = exchange_code_with(world, None, None).await?;
    let (tokens, _) = require_tokens(
        world,
        &precondition("the code exchange after a partial consent issues tokens"),
    )?;
    if tokens.refresh_token.is_some() {
        world.last = Some(exchange);
        return Err(world.fail(
            rule,
            "no refresh_token: the user did not consent to offline_access",
            format!(
                "a refresh_token, with scope {:?}",
                tokens.scope.unwrap_or_default()
            ),
        ));
    }
    // Asking again for offline_access must ask the user: a code now would be a grant of it.
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    start_authorization(world, request, Some(pkce)).await?;
    if world.oauth.code.is_some() {
        let exchange = exchange_code_with(world, None, None).await?;
        let body = exchange.json().unwrap_or(Value::Null);
        if body.get("refresh_token").is_some() {
            return Err(world.fail(
                rule,
                "the consent page for offline_access, or at least no refresh_token",
                "a second request with offline_access got a code at once, and it yields a refresh_token",
            ));
        }
    }
    Ok(())
}

#[when("another OAuth client sends the user to the authorization endpoint")]
async fn other_client_authorizes(world: &mut AuthWorld) -> StepResult {
    let other = super::clients::second_client_id(world).await?;
    let mut client = client_config(world)?;
    client.client_id = other;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    start_authorization(world, request, Some(pkce)).await
}

#[then("the authorization server asks the user to consent to the other client")]
async fn asks_consent_for_other_client(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_CONSENT_PER_CLIENT;
    let hop = quoted_last_hop(world, rule, "an authorization request")?;
    match &hop.hop {
        Some(AuthorizeHop::Interaction(_)) => Ok(()),
        Some(AuthorizeHop::Client(p)) if p.code().is_some() => Err(world.fail(
            rule,
            "the consent page for the other client",
            format!(
                "a code at once, on the consent given to the first client: {}",
                describe_hop(&hop)
            ),
        )),
        _ => Err(world.fail(
            rule,
            "the consent page for the other client",
            describe_hop(&hop),
        )),
    }
}

#[when(
    "the OAuth client asks to authorize the user with a claims request for another subject, and the user consents wherever asked"
)]
async fn authorize_claims_for_other(world: &mut AuthWorld) -> StepResult {
    let exchange = fetch_discovery(world).await?;
    let offered = exchange
        .json()
        .ok()
        .and_then(|d| d.get("claims_parameter_supported").and_then(Value::as_bool))
        .unwrap_or(false);
    if !offered {
        return Err(world.skip(
            "the discovery document does not advertise claims_parameter_supported: the claims \
             request parameter is optional for this OP",
        ));
    }
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    request
        .extra
        .push(("claims".into(), claims_for_subject(OTHER_SUBJECT)));
    start_authorization(world, request, Some(pkce)).await?;
    follow_to_the_end(world).await
}

#[when(
    "a user-agent without a session sends the user to the authorization endpoint with prompt=none and the ID token's signature altered as id_token_hint"
)]
async fn authorize_with_forged_hint(world: &mut AuthWorld) -> StepResult {
    let forged = id_token_hint(world, crate::protocol::forge::with_signature_altered)?;
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    request.extra.push(("prompt".into(), "none".into()));
    request.extra.push(("id_token_hint".into(), forged));
    world.client.clear_cookies();
    start_authorization(world, request, Some(pkce)).await
}
