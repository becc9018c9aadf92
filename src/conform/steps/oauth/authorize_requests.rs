//! How the authorization endpoint treats a request bent in one way (RFC 6749 §3.1, §3.3,
//! §4.1.1, §4.1.2.1; OIDC Core §3.1.2.2; RFC 7636 §4.4.1): a parameter left out, sent empty,
//! repeated or unknown. Each flow is followed to its end as a browser would, signing in and
//! consenting wherever asked, so a server that accepts the bent request shows it with a code.

use super::authorization::invalid_scope_or_tokens;
use super::requests::follow_to_the_end;
use super::*;
use crate::protocol::authorize::{
    ParamEdit, check_error_characters, edited_params, fragment_of, url_with_params,
};

const RULE_ENDPOINT_FRAGMENT: &str =
    "the authorization endpoint URL carries no fragment component (RFC 6749 §3.1)";
pub(super) const RULE_INVALID_REQUEST: &str = "an authorization request from a valid client with its registered redirect_uri that misses a required parameter (response_type; a public client's code_challenge, sent empty or not at all) is answered at that redirect_uri with error=invalid_request and the state, never a code (RFC 6749 §3.1, §4.1.1, §4.1.2.1; RFC 7636 §4.4.1; OIDC Core §3.1.2.2)";
pub(super) const RULE_EMPTY_IS_ABSENT: &str = "a parameter sent without a value is treated as if it were omitted: an empty prompt changes nothing, the authorization goes on to a code (RFC 6749 §3.1)";
pub(super) const RULE_UNKNOWN_IGNORED: &str = "a request parameter the server does not know is ignored: the authorization goes on to a code (RFC 6749 §3.1)";
pub(super) const RULE_REPEATED_REFUSED: &str = "a parameter sent more than once is not taken as if it were sent once: the request with the state twice is refused with an error, never a code, even through consent (RFC 6749 §3.1)";
const RULE_NO_SCOPE: &str = "a request without scope is either processed with a default scope (the code yields tokens) or answered at the redirect_uri with error=invalid_scope and the state (RFC 6749 §3.3)";
pub(super) const RULE_NO_REDIRECT_URI: &str = "an OpenID authentication request without redirect_uri (which OIDC requires) is refused with an error, never a code, even through login and consent (OIDC Core §3.1.2.1-2; RFC 6749 §4.1.1)";
const RULE_ERROR_CHARACTERS: &str = "error and error_description in an authorization error response use only printable ASCII without `\"` and `\\` (error: no space) (RFC 6749 §4.1.2.1, Appendix A.7-A.8)";

/// The bent request a step phrase names.
fn edit_named(world: &AuthWorld, phrase: &str) -> Option<ParamEdit> {
    Some(match phrase {
        "with an empty code_challenge" => ParamEdit::Empty("code_challenge"),
        "with an empty prompt" => ParamEdit::Empty("prompt"),
        "with a parameter the server does not know" => {
            ParamEdit::Add("ba_harness_unknown", "1".into())
        }
        "with the state sent twice" => {
            ParamEdit::Repeat("state", format!("st-{}", world.random_string(16)))
        }
        "without a scope" => ParamEdit::Remove("scope"),
        "without a response_type" => ParamEdit::Remove("response_type"),
        "without a redirect_uri" => ParamEdit::Remove("redirect_uri"),
        _ => return None,
    })
}

/// Sends the user-agent to the authorization endpoint with `request`'s parameters bent by
/// `edit`, and records where it was sent (the redirect URI the hops are judged against stays
/// the request's).
pub(super) async fn start_edited_authorization(
    world: &mut AuthWorld,
    request: AuthorizeRequest,
    pkce: PkcePair,
    edit: &ParamEdit,
) -> StepResult {
    world.secrets().register_with_form_encoding(&pkce.verifier);
    let params = edited_params(request.params(), edit);
    let get = endpoint_get(
        world,
        "authorization_endpoint",
        |d| d.authorization_endpoint.clone(),
        |endpoint| url_with_params(endpoint, &params),
    )
    .await?;
    let judged_against = request.redirect_uri.clone();
    world.oauth = OAuthState {
        hops: Vec::new(),
        code: None,
        request: Some(request),
        pkce: Some(pkce),
        ..std::mem::take(&mut world.oauth)
    };
    let answer = send(world, get).await?;
    record_hop(world, answer, &judged_against);
    Ok(())
}

/// The standard request (PKCE S256) for the target's client, bent by `edit`.
async fn start_standard_edited(world: &mut AuthWorld, edit: &ParamEdit) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let request = standard_request(world, &client, Some(&pkce));
    start_edited_authorization(world, request, pkce, edit).await
}

#[when(
    regex = r"^the OAuth client asks to authorize the user (with an empty code_challenge|with an empty prompt|with a parameter the server does not know|with the state sent twice|without a scope|without a response_type|without a redirect_uri), and the user consents wherever asked$"
)]
async fn authorize_bent(world: &mut AuthWorld, phrase: String) -> StepResult {
    let Some(edit) = edit_named(world, &phrase) else {
        return Err(world.fail("scenario wiring", "a known bent request", phrase));
    };
    start_standard_edited(world, &edit).await?;
    follow_to_the_end(world).await
}

#[then("the discovery document's authorization endpoint carries no fragment")]
async fn endpoint_without_fragment(world: &mut AuthWorld) -> StepResult {
    let d = discovery(world).await?;
    let endpoint = d.authorization_endpoint.clone().unwrap_or_default();
    match fragment_of(&endpoint) {
        None => Ok(()),
        Some(fragment) => Err(world.fail(
            RULE_ENDPOINT_FRAGMENT,
            "an authorization_endpoint without `#…`",
            format!("{endpoint:?} carries the fragment {fragment:?}"),
        )),
    }
}

/// The authorization ended with a code, as the unbent request does.
pub(super) fn check_code_issued(world: &mut AuthWorld, rule: &str) -> StepResult {
    if world.oauth.code.is_some() {
        return Ok(());
    }
    let actual = last_hop(world)
        .map(|h| {
            world.last = Some(h.exchange.clone());
            describe_hop(&h)
        })
        .unwrap_or_else(|| "no authorization request".into());
    Err(world.fail(
        rule,
        "a code at the redirect_uri, as without the parameter",
        actual,
    ))
}

#[then(
    "the authorization server answers invalid_scope at the redirect URI with the state, or issues a code that yields tokens"
)]
async fn default_scope_or_invalid_scope(world: &mut AuthWorld) -> StepResult {
    let expected = "a code that yields tokens (the default scope), or error=invalid_scope";
    invalid_scope_or_tokens(world, RULE_NO_SCOPE, expected)
        .await
        .map(|_| ())
}

/// Bent requests whose answer, from a signed-in user, is an error at the client.
const ERROR_PROBES: &[&str] = &[
    "without a response_type",
    "with an empty code_challenge",
    "with the state sent twice",
];

#[then(
    "every error the authorization server answers to malformed requests uses only the characters RFC 6749 allows"
)]
async fn error_characters(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ERROR_CHARACTERS;
    let mut seen = 0;
    for phrase in ERROR_PROBES {
        let edit = edit_named(world, phrase).unwrap_or(ParamEdit::Remove("response_type"));
        start_standard_edited(world, &edit).await?;
        let Some(hop) = last_hop(world) else { continue };
        let Some(params) = hop.hop.as_ref().map(|h| h.params().clone()) else {
            continue;
        };
        if params.error().is_none() {
            continue;
        }
        seen += 1;
        if let Err(e) = check_error_characters(&params) {
            world.last = Some(hop.exchange.clone());
            return Err(world.fail(
                rule,
                "error and error_description in RFC 6749's character set",
                format!("to the request {phrase}: {e}"),
            ));
        }
    }
    if seen == 0 {
        return Err(world.fail(
            &precondition("the authorization server answers malformed requests with an error"),
            "an error redirect to at least one malformed request",
            "none of them was answered with `error`",
        ));
    }
    Ok(())
}
