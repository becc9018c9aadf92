//! Authorization request parameters beyond the happy path (response_type, scope, client_id,
//! prompt=login, max_age) and the rules every authorization response keeps, errors included
//! (state, RFC 9207 iss). Each flow is followed to its end as a browser would: through consent
//! when the server asks for it.

use super::authorization::{
    check_error_at_client, check_refused, check_scope_left_out, invalid_scope_or_tokens,
    sign_in_with_signed_query,
};
use super::*;

const RULE_UNSUPPORTED_RESPONSE_TYPE: &str = "an authorization request with a response_type the server does not offer (token) is answered at the redirect_uri with error=unsupported_response_type and the state, and never with a code or token (RFC 6749 §3.1.1, §4.1.2.1; OAuth 2.1 §10)";
const RULE_UNKNOWN_SCOPE: &str = "an authorization request with a scope the server does not know is answered at the redirect_uri with error=invalid_scope and the state, or the scope is left out of the grant and the token response says so (RFC 6749 §3.3, §4.1.2.1)";
pub(super) const RULE_UNKNOWN_CLIENT: &str = "an authorization request with an unknown client_id is never redirected to the redirect_uri it names, at any step of the flow, consent included (RFC 6749 §4.1.2.1)";
const RULE_PROMPT_LOGIN: &str = "with prompt=login the user must sign in again: the old session alone, even through consent, never yields a code (OIDC Core §3.1.2.1, §3.1.2.3)";
const RULE_MAX_AGE_AUTH_TIME: &str = "after an authorization request with max_age, the ID token carries auth_time, no older than max_age (OIDC Core §3.1.2.1, §2)";
const RULE_ERROR_ISS: &str = "an authorization error response carries iss equal to the discovery issuer when discovery advertises authorization_response_iss_parameter_supported (RFC 9207 §2, §2.4)";
const RULE_PROMPT_NONE_CONSENT: &str = "an authorization request with prompt=none from a signed-in user who has not consented yet shows no page: it is answered at the redirect_uri with error=consent_required (or interaction_required) and the state (OIDC Core §3.1.2.1, §3.1.2.6)";
const RULE_CHALLENGE_WITHOUT_METHOD: &str = "a code_challenge sent without code_challenge_method is a plain challenge: a server that does not offer plain refuses it with an error, never a code (RFC 7636 §4.3, §4.4.1)";
pub(super) const RULE_UNREGISTERED_THROUGH_LOGIN: &str = "an authorization request with an unregistered redirect_uri from a user-agent without a session never reaches that URI, through login and consent to the end of the flow (RFC 6749 §3.1.2.4, §4.1.2.1)";
pub(super) const RULE_PROMPT_NONE_COMBINED: &str = "prompt=none combined with another prompt value is an error, never a code, even when the user consents wherever asked (OIDC Core §3.1.2.1)";
const RULE_DISCOVERY_ALG: &str = "the ID token is signed with an alg that the discovery document lists in id_token_signing_alg_values_supported (OIDC Discovery §3)";

/// A scope value no server defines.
const UNKNOWN_SCOPE: &str = "ba-harness-unknown-scope";
/// The max_age the harness sends: longer than any scenario, so the fresh session satisfies it.
const MAX_AGE_SECS: i64 = 600;

#[when("the OAuth client asks to authorize the user with response_type token")]
async fn authorize_response_type_token(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.response_type = Some("token".into());
    drive_authorization(world, request, Some(pkce)).await
}

#[then(
    "the authorization server answers unsupported_response_type at the redirect URI with the state and no token"
)]
async fn answers_unsupported_response_type(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_UNSUPPORTED_RESPONSE_TYPE;
    let d = discovery(world).await?;
    require_not_offered(
        world,
        "response_types_supported",
        d.response_types_supported.as_deref(),
        "token",
        "the discovery document does not offer the token response type",
        "the implicit answer is the server's right",
    )?;
    let hops = world.oauth.hops.clone();
    for hop in &hops {
        if let Some(AuthorizeHop::Client(p)) = &hop.hop {
            let delivered = delivered_credentials(p);
            if !delivered.is_empty() {
                world.last = Some(hop.exchange.clone());
                return Err(world.fail(
                    rule,
                    "an error, and no code or token",
                    format!("{} delivered: {}", delivered.join(", "), describe_hop(hop)),
                ));
            }
        }
    }
    // The error may come in the query or, as the token response type's default response mode
    // is the fragment, in the fragment: both are the client's redirect_uri.
    let Some(last) = hops.last() else {
        return Err(world.fail(rule, "an authorization request before this step", "none"));
    };
    world.last = Some(last.exchange.clone());
    let sent_state = sent_in_request(world, |r| r.state.clone());
    let expected = format!(
        "a redirect to {}?error=unsupported_response_type&state={} (query or fragment)",
        redirect_uri_sent(world),
        sent_state.as_deref().unwrap_or_default()
    );
    let Some(AuthorizeHop::Client(params)) = &last.hop else {
        return Err(world.fail(rule, expected, describe_hop(last)));
    };
    let outcome = check_error_response(
        &params.with_fragment_params(),
        "unsupported_response_type",
        sent_state.as_deref(),
    );
    client_error_verdict(world, rule, expected, last, outcome)
}

#[when("the OAuth client asks to authorize the user with a scope the server does not know")]
async fn authorize_unknown_scope(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.scope = format!("{SCOPE} {UNKNOWN_SCOPE}");
    drive_authorization(world, request, Some(pkce)).await
}

#[then(
    "the authorization server answers invalid_scope at the redirect URI with the state, or grants without the unknown scope"
)]
async fn answers_invalid_scope(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_UNKNOWN_SCOPE;
    // The server may ignore the scope (RFC 6749 §3.3 allows it): the grant must leave it out and
    // the token response must state the scope it granted.
    let expected = "error=invalid_scope at the redirect_uri, or a code that yields tokens without the unknown scope";
    let Some(tokens) = invalid_scope_or_tokens(world, rule, expected).await? else {
        return Ok(());
    };
    check_scope_left_out(world, rule, tokens.scope.as_deref(), UNKNOWN_SCOPE)
}

#[when("the OAuth client sends the user to the authorization endpoint with an unknown client_id")]
async fn authorize_unknown_client(world: &mut AuthWorld) -> StepResult {
    let (client, mut request, pkce) = pkce_request(world)?;
    request.client_id = format!("ba-harness-unknown-client-{}", world.random_string(12));
    // The registered redirect_uri of the real client: an attacker's request looks just like it.
    world.oauth.unregistered_redirect_uri = Some(client.redirect_uri.clone());
    drive_authorization(world, request, Some(pkce)).await
}

#[when(
    "the OAuth client sends the signed-in user to the authorization endpoint with prompt=login and the user consents without signing in again"
)]
async fn authorize_prompt_login(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.extra.push(("prompt".into(), "login".into()));
    start_authorization(world, request, Some(pkce)).await?;
    // Whatever page the server shows, the user-agent answers it with the old session as if it
    // were consent; twice, since a server may show consent before it asks for the sign-in.
    for _ in 0..2 {
        if !waits_at_interaction_page(world) {
            break;
        }
        grant_consent(world).await?;
    }
    Ok(())
}

#[then("the authorization server issues no code without a new sign-in")]
async fn no_code_without_sign_in(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_PROMPT_LOGIN;
    let (hops, _) = authorization_hops(world, rule)?;
    fail_if_code_issued(
        world,
        &hops,
        rule,
        "the login page (or error=login_required), and no code before the user signs in again",
        "a code was issued on the old session",
    )
}

#[given("the user has authorized the OAuth client with max_age")]
async fn authorized_with_max_age(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request
        .extra
        .push(("max_age".into(), MAX_AGE_SECS.to_string()));
    drive_authorization(world, request, Some(pkce)).await?;
    let returns = "the authorization with max_age (and a fresh session) returns a code";
    require_code(world, returns).map(|_| ())
}

#[then("the ID token carries an auth_time no older than max_age")]
async fn id_token_auth_time(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_MAX_AGE_AUTH_TIME;
    let (_, _, claims, _, exchange) = current_id_token(world, rule)?;
    let now = now();
    check_auth_time(&claims, now, MAX_AGE_SECS).map_err(|e| {
        world.fail_on(
            rule,
            format!("auth_time between {} and {now}", now - MAX_AGE_SECS),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[then("the error response names the issuer")]
async fn error_response_names_issuer(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ERROR_ISS;
    let d = discovery(world).await?;
    if !d.authorization_response_iss_parameter_supported {
        return Err(world.fail(
            &precondition(
                "the discovery document advertises authorization_response_iss_parameter_supported",
            ),
            "authorization_response_iss_parameter_supported: true",
            "not advertised: iss is optional for this server",
        ));
    }
    let hop = last_hop(world);
    let Some(Hop {
        exchange,
        hop: Some(AuthorizeHop::Client(params)),
    }) = hop
    else {
        let actual = hop.map(|h| describe_hop(&h)).unwrap_or_default();
        return Err(world.fail(
            &precondition("the authorization ended with an error at the redirect_uri"),
            "a redirect to the redirect_uri with `error`",
            actual,
        ));
    };
    world.last = Some(exchange);
    // An error to a fragment-mode response type comes in the fragment (RFC 6749 §4.2.2.1).
    let params = params.with_fragment_params();
    if params.error().is_none() {
        return Err(world.fail(
            &precondition("the authorization ended with an error at the redirect_uri"),
            "a redirect to the redirect_uri with `error`",
            params.describe(),
        ));
    }
    let missing = (
        format!(
            "iss={:?} with error={}",
            d.issuer,
            params.error().unwrap_or_default()
        ),
        format!("no iss parameter: {}", params.describe()),
    );
    require_param_once(world, rule, &params, ("iss", &d.issuer), missing)
}

#[then("the ID token is signed with an alg the discovery document lists")]
async fn id_token_alg_advertised(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_DISCOVERY_ALG;
    let (_, header, _, _, exchange) = current_id_token(world, rule)?;
    let alg = header_alg(&header);
    let d = discovery(world).await?;
    check_alg_advertised(&alg, d.id_token_signing_alg_values_supported.as_deref()).map_err(|e| {
        world.fail_on(
            rule,
            format!("{alg:?} in id_token_signing_alg_values_supported"),
            e,
            Some(exchange.excerpt()),
        )
    })
}

#[when("the OAuth client sends the signed-in user to the authorization endpoint with prompt=none")]
async fn authorize_prompt_none_signed_in(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.extra.push(("prompt".into(), "none".into()));
    start_authorization(world, request, Some(pkce)).await
}

#[then("the authorization server answers consent_required at the redirect URI with the state")]
async fn answers_consent_required(world: &mut AuthWorld) -> StepResult {
    // A given account reused across scenarios may have consented already: then a code is right.
    if let Some(reason) = consent_already_given(world, last_hop(world).as_ref()) {
        return Err(world.skip(reason));
    }
    // interaction_required is the general form OIDC Core §3.1.2.6 allows as well.
    let error = match last_hop(world).and_then(|h| h.hop) {
        Some(AuthorizeHop::Client(p)) if p.error() == Some("interaction_required") => {
            "interaction_required"
        }
        _ => "consent_required",
    };
    check_error_at_client(world, RULE_PROMPT_NONE_CONSENT, error)
}

#[when(
    "the OAuth client asks to authorize the user with a code_challenge but no code_challenge_method"
)]
async fn authorize_challenge_without_method(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, None);
    // Without a method the challenge is plain: the verifier itself.
    request.code_challenge = Some(pkce.verifier.clone());
    drive_authorization(world, request, Some(pkce)).await
}

#[then("the authorization server refuses the code_challenge without a method")]
async fn refuses_challenge_without_method(world: &mut AuthWorld) -> StepResult {
    let d = discovery(world).await?;
    require_not_offered(
        world,
        "code_challenge_methods_supported",
        d.code_challenge_methods_supported.as_deref(),
        "plain",
        "the discovery document does not offer the plain PKCE method",
        "a plain challenge is the server's right",
    )?;
    check_refused(world, RULE_CHALLENGE_WITHOUT_METHOD)
}

/// Fails the precondition `needs` when the discovery document's `field` (`listed`) lists
/// `value`: the server then offers what the rule refuses, so its answer is its right (`why`).
fn require_not_offered(
    world: &mut AuthWorld,
    field: &str,
    listed: Option<&[String]>,
    value: &str,
    needs: &str,
    why: &str,
) -> StepResult {
    if listed.is_some_and(|values| values.iter().any(|v| v == value)) {
        return Err(world.fail(
            &precondition(needs),
            format!("{field} without \"{value}\""),
            format!("it lists \"{value}\": {why}"),
        ));
    }
    Ok(())
}

/// Follows an authorization to its end as a browser whose user signs in and consents wherever
/// asked: at an interaction page it signs in with the signed query when the user-agent has no
/// session, and grants consent when it has one. A bounded number of pages.
pub(super) async fn follow_to_the_end(world: &mut AuthWorld) -> StepResult {
    for _ in 0..4 {
        if !waits_at_interaction_page(world) {
            break;
        }
        if has_session_cookie(world) {
            grant_consent(world).await?;
        } else {
            sign_in_with_signed_query(world).await?;
        }
    }
    Ok(())
}

/// The authorization stopped at an interaction page (login or consent), with no code yet.
fn waits_at_interaction_page(world: &AuthWorld) -> bool {
    let asks = matches!(
        last_hop(world).and_then(|h| h.hop),
        Some(AuthorizeHop::Interaction(_))
    );
    asks && world.oauth.code.is_none()
}

#[when(
    "the OAuth client sends the user without a session to the authorization endpoint with an unregistered redirect_uri, and the user signs in and consents wherever asked"
)]
async fn authorize_unregistered_through_login(world: &mut AuthWorld) -> StepResult {
    let (request, pkce) = unregistered_redirect_request(world)?;
    world.client.clear_cookies();
    start_authorization(world, request, Some(pkce)).await?;
    follow_to_the_end(world).await
}

#[when(
    "the OAuth client sends the signed-in user to the authorization endpoint with prompt=none consent, and the user consents wherever asked"
)]
async fn authorize_prompt_none_consent(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    request.extra.push(("prompt".into(), "none consent".into()));
    drive_authorization(world, request, Some(pkce)).await
}
