//! Authorization: the authorization endpoint, login and consent, and every authorization response (RFC 6749 §4.1.1-§4.1.2, OIDC Core §3.1.2).

use super::*;

#[when("the OAuth client sends the user to the authorization endpoint with PKCE S256")]
async fn authorize_s256(world: &mut AuthWorld) -> StepResult {
    let (_, request, pkce) = pkce_request(world)?;
    start_authorization(world, request, Some(pkce)).await
}

#[when(
    "the OAuth client sends the user to the authorization endpoint with a state of reserved characters"
)]
async fn authorize_tricky_state(world: &mut AuthWorld) -> StepResult {
    let (_, mut request, pkce) = pkce_request(world)?;
    // Every character that needs percent-encoding in a query, plus non-ASCII.
    request.state = Some(format!("st {} +/=&?#%é~", world.random_string(8)));
    start_authorization(world, request, Some(pkce)).await
}

#[when("the OAuth client asks to authorize the user without a code_challenge")]
async fn authorize_without_pkce(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let request = standard_request(world, &client, None);
    drive_authorization(world, request, None).await
}

#[when("the OAuth client asks to authorize the user with code_challenge_method plain")]
async fn authorize_plain(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, None);
    // plain: the challenge is the verifier itself.
    request.code_challenge = Some(pkce.verifier.clone());
    request.code_challenge_method = Some("plain".into());
    drive_authorization(world, request, Some(pkce)).await
}

#[when("the OAuth client asks to authorize the user with an unregistered redirect_uri")]
async fn authorize_unregistered(world: &mut AuthWorld) -> StepResult {
    let (request, pkce) = unregistered_redirect_request(world)?;
    drive_authorization(world, request, Some(pkce)).await
}

#[when("the user signs in on the login page with the signed query")]
async fn sign_in_with_oauth_query(world: &mut AuthWorld) -> StepResult {
    sign_in_with_signed_query(world).await
}

/// Signs the user in on the interaction page of the last hop, posting its signed query back as
/// `oauth_query`, and records where the answer leads.
pub(super) async fn sign_in_with_signed_query(world: &mut AuthWorld) -> StepResult {
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
pub(super) fn check_signed_copy(world: &mut AuthWorld, rule: &str) -> StepResult {
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
    let hop = quoted_last_hop(world, rule, "a sign-in")?;
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
    let hop = quoted_last_hop(world, rule, "an authorization")?;
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
pub(super) fn client_redirect(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<RedirectParams, StepFailure> {
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
    let sent = sent_in_request(world, |r| r.state.clone()).unwrap_or_default();
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
    let missing = (format!("iss={issuer:?}"), "no iss parameter".to_string());
    require_param_once(world, RULE_ISS, &redirect, ("iss", &issuer), missing)
}

/// A refused authorization: no hop delivered a code, and the request ended in an error (at the
/// client, on an error page, or as an HTTP error).
pub(super) fn check_refused(world: &mut AuthWorld, rule: &str) -> StepResult {
    let (hops, last) = authorization_hops(world, rule)?;
    let expected = "an error, and no code";
    fail_if_code_issued(world, &hops, rule, expected, "a code was issued")?;
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
            describe_hop(&last),
        ))
    }
}

/// No hop of the authorization, to its end, redirected to `world.oauth.unregistered_redirect_uri`
/// (the URI the request named but the server must not trust).
pub(super) fn check_never_redirected(world: &mut AuthWorld, rule: &str) -> StepResult {
    let Some(unregistered) = world.oauth.unregistered_redirect_uri.clone() else {
        return Err(world.fail(
            rule,
            "an authorization request with a redirect_uri the server must not trust",
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
    let (_, mut request, pkce) = pkce_request(world)?;
    request.extra.push(("prompt".into(), "none".into()));
    // A user-agent with no session: nothing in the jar, nothing sent.
    world.client.clear_cookies();
    start_authorization(world, request, Some(pkce)).await
}

#[when("the user denies consent on the consent page")]
async fn deny_consent(world: &mut AuthWorld) -> StepResult {
    answer_consent(world, false).await
}

/// A request the server may answer with error=invalid_scope at the client or grant: the error
/// is judged here (`Ok(None)` when it is right), and a grant's code is exchanged; a code that
/// yields no tokens fails `rule` with `expected`.
pub(super) async fn invalid_scope_or_tokens(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
) -> Result<Option<TokenResponse>, StepFailure> {
    if world.oauth.code.is_none() {
        return check_error_at_client(world, rule, "invalid_scope").map(|()| None);
    }
    let exchange = exchange_code_with(world, None, None).await?;
    let body = exchange.json().unwrap_or(Value::Null);
    match parse_token_response(&body) {
        Ok(tokens) if exchange.status == 200 => Ok(Some(tokens)),
        _ => Err(world.fail(
            rule,
            expected,
            format!(
                "a code, whose exchange answered {}",
                describe_token_answer(exchange.status, &body)
            ),
        )),
    }
}

/// Fails `rule` unless the scope a grant states leaves out `scope`.
pub(super) fn check_scope_left_out(
    world: &mut AuthWorld,
    rule: &str,
    granted: Option<&str>,
    scope: &str,
) -> StepResult {
    check_unknown_scope_left_out(granted, scope).map_err(|e| {
        world.fail(
            rule,
            format!("error=invalid_scope, or a grant whose stated scope leaves out {scope}"),
            e,
        )
    })
}

/// The authorization ended at the client with `error` and the state that was sent, and no hop
/// issued a code.
pub(super) fn check_error_at_client(world: &mut AuthWorld, rule: &str, error: &str) -> StepResult {
    let (hops, last) = authorization_hops(world, rule)?;
    let redirect_uri = redirect_uri_sent(world);
    let sent_state = sent_in_request(world, |r| r.state.clone());
    let expected = format!(
        "a redirect to {redirect_uri}?error={error}&state={}, and no code",
        sent_state.as_deref().unwrap_or_default()
    );
    fail_if_code_issued(world, &hops, rule, &expected, "a code was issued")?;
    world.last = Some(last.exchange.clone());
    let Some(AuthorizeHop::Client(params)) = &last.hop else {
        return Err(world.fail(rule, expected, describe_hop(&last)));
    };
    let outcome = check_error_response(params, error, sent_state.as_deref());
    client_error_verdict(world, rule, expected, &last, outcome)
}
