//! UserInfo by POST and in JSON (OIDC Core §5.3.1-§5.3.2), and subject identifiers across
//! clients: the same sub for every public client, different subs across pairwise sectors,
//! never longer than 255 ASCII characters (OIDC Core §2, §8, §8.1).

use super::*;
use crate::protocol::promises::{check_sub_length, subject_types};

const RULE_USERINFO_POST: &str =
    "UserInfo answers POST as well as GET: 200 with the ID token's sub (OIDC Core §5.3.1)";
pub(super) const RULE_USERINFO_JSON: &str =
    "UserInfo answers with Content-Type application/json and a JSON object (OIDC Core §5.3.2)";
const RULE_PUBLIC_SUB: &str =
    "with the public subject type, every client sees the same sub for the same user (OIDC Core §8)";
const RULE_PAIRWISE_SUB: &str = "with the pairwise subject type, clients of different sectors see different subs for the same user (OIDC Core §8.1)";
const RULE_SUB_LENGTH: &str = "the ID token's sub is at most 255 ASCII characters (OIDC Core §2)";

/// Redirect hosts of two pairwise sectors (OIDC Core §8.1: the sector is the redirect host).
const PAIRWISE_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

#[when("userinfo is asked by POST with the access token")]
async fn userinfo_post(world: &mut AuthWorld) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let mut request =
        endpoint_request(world, "userinfo_endpoint", |d| d.userinfo_endpoint.clone()).await?;
    world.secrets().register(&tokens.access_token);
    request = request.header("authorization", &format!("Bearer {}", tokens.access_token));
    send(world, form_post(request, Vec::new()))
        .await
        .map(|_| ())
}

#[then("userinfo answers the POST with the ID token's sub")]
async fn userinfo_post_answers(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_USERINFO_POST;
    let (_, _, claims, _, _) = current_id_token(world, rule)?;
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    let sub = body.get("sub").and_then(Value::as_str);
    if exchange.status == 200 && sub.is_some() && sub == claims.sub.as_deref() {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "HTTP 200 with the ID token's sub",
        format!(
            "HTTP {} with sub {:?}",
            exchange.status,
            sub.unwrap_or("(absent)")
        ),
    ))
}

/// The failure of an authorization that ended without a code: where it ended instead.
fn without_code(world: &mut AuthWorld) -> StepFailure {
    let ended = last_hop(world).map(|h| describe_hop(&h));
    let rule = precondition("the other client's authorization returns a code");
    world.fail(
        &rule,
        "a redirect to the redirect_uri with `code`",
        ended.unwrap_or_default(),
    )
}

/// Authorizes the signed-in user for `client_id` (consent included) and exchanges the code:
/// the tokens become the current ones, the first client's stay the first.
async fn tokens_for(world: &mut AuthWorld, client_id: String, redirect_uri: String) -> StepResult {
    let mut client = client_config(world)?;
    client.client_id = client_id.clone();
    client.redirect_uri = redirect_uri.clone();
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    drive_authorization(world, request, Some(pkce.clone())).await?;
    let code = world.oauth.code.clone();
    let code = code.ok_or_else(|| without_code(world))?;
    let exchange = token_call(
        world,
        code_exchange_form(&code, &redirect_uri, &client_id, &pkce.verifier),
    )
    .await?;
    let exchanged = precondition("the other client's code exchange issues tokens");
    require_token_answer_ok(
        world,
        &exchange,
        &exchanged,
        "HTTP 200 with a token response",
    )?;
    keep_tokens(world, &exchange);
    Ok(())
}

#[when("the user authorizes the second OAuth client and it exchanges the code")]
pub(super) async fn second_client_tokens(world: &mut AuthWorld) -> StepResult {
    let other = clients::second_client_id(world).await?;
    let redirect_uri = client_config(world)?.redirect_uri;
    tokens_for(world, other, redirect_uri).await
}

/// The subs of the first and the current token set's ID tokens.
fn first_and_current_subs(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(String, String), StepFailure> {
    let (_, _, current, _, _) = current_id_token(world, rule)?;
    let first = first_id_token_claims(world).map(|c| c.sub);
    match (first, current.sub) {
        (Ok(Some(a)), Some(b)) => Ok((a, b)),
        _ => Err(world.fail(
            rule,
            "an ID token with a sub for each client",
            "a sub is missing",
        )),
    }
}

#[then("both clients see the same sub for the user")]
async fn same_public_sub(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_PUBLIC_SUB;
    let doc = fetch_discovery(world).await?.json().unwrap_or(Value::Null);
    let types = subject_types(&doc);
    if types != ["public"] {
        return Err(world.skip(format!(
            "subject_types_supported is {types:?}: only with public alone is every client \
             certain to get the public subject type"
        )));
    }
    let (first, second) = first_and_current_subs(world, rule)?;
    if first == second {
        return Ok(());
    }
    Err(world.fail(
        rule,
        format!("sub {first:?} for the second client too"),
        format!("sub {second:?}"),
    ))
}

/// Whether the discovery document offers the pairwise subject type: without it the rule
/// does not bind and the pairwise steps have nothing to do.
async fn pairwise_offered(world: &mut AuthWorld) -> Result<bool, StepFailure> {
    let doc = fetch_discovery(world).await?.json().unwrap_or(Value::Null);
    Ok(subject_types(&doc).iter().any(|t| t == "pairwise"))
}

#[when("the user authorizes two pairwise clients of different sectors")]
async fn two_pairwise_clients(world: &mut AuthWorld) -> StepResult {
    if !pairwise_offered(world).await? {
        return Err(world.skip(
            "discovery offers no pairwise subject type (subject_types_supported), and the rule binds only when it does",
        ));
    }
    let registered = client_config(world)?.redirect_uri;
    for host in PAIRWISE_HOSTS {
        let mut url = url::Url::parse(&registered).map_err(|e| {
            world.fail(
                &precondition("the client's redirect_uri is a URL"),
                "a URL",
                e.to_string(),
            )
        })?;
        let _ = url.set_host(Some(host));
        let redirect_uri = url.to_string();
        let metadata = crate::protocol::registration::with_member(
            crate::protocol::registration::probe_metadata(&redirect_uri),
            "subject_type",
            json!("pairwise"),
        );
        let answer = super::registration_probes::register(world, metadata).await?;
        let body = answer.json().unwrap_or(Value::Null);
        let Some(id) = crate::protocol::registration::registered_client_id(answer.status, &body)
        else {
            return Err(world.skip(format!(
                "a pairwise client cannot be registered without a session (HTTP {})",
                answer.status
            )));
        };
        // The first sector's tokens become the scenario's first ones (it has no others).
        tokens_for(world, id, redirect_uri).await?;
    }
    Ok(())
}

#[then("the two sectors see different subs for the user")]
async fn pairwise_subs_differ(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_PAIRWISE_SUB;
    if !pairwise_offered(world).await? {
        return Ok(());
    }
    let (first, second) = first_and_current_subs(world, rule)?;
    if first != second {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "a different sub for each sector",
        format!("both pairwise clients see sub {first:?}"),
    ))
}

#[then("the ID token's sub is at most 255 ASCII characters")]
async fn sub_length(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, _) = current_id_token(world, RULE_SUB_LENGTH)?;
    check_sub_length(claims.sub.as_deref().unwrap_or_default())
        .map_err(|e| world.fail(RULE_SUB_LENGTH, "a sub of 1 to 255 ASCII characters", e))
}
