//! Redirect URIs that look like the registered one but are not it (OAuth 2.1 §2.3.1, RFC 6749
//! §3.1.2, §10.2): each is followed from a user-agent without a session through login and
//! consent, and must never receive a code or an error; and a user who has already consented is
//! not granted a repeated request for such a URI without being asked.

use super::*;
use crate::protocol::authorize::{ParamEdit, redirect_uri_variants, with_fragment};

const RULE_EXACT_MATCH: &str = "redirect_uri matching is exact string comparison: the registered URI with its path's case changed, a path segment or a query added (or, off loopback, another port) is not a match and never receives a code or an error, through login and consent (OAuth 2.1 §2.3.1; RFC 6749 §3.1.2.4, §4.1.2.1)";
const RULE_FRAGMENT: &str = "a redirect_uri with a fragment is never a redirect target: the registered URI plus a fragment never receives a code or an error, through login and consent (RFC 6749 §3.1.2)";
const RULE_REPEATED_IMPERSONATOR: &str = "a repeated authorization is granted without the user only to the client proven by its registered redirect_uri: after consent, a request naming a look-alike redirect_uri gets no code there (RFC 6749 §10.2)";

/// The look-alike URIs a phrase names, with what changed.
fn look_alikes(
    world: &mut AuthWorld,
    fragment: bool,
) -> Result<Vec<(String, String)>, StepFailure> {
    let client = client_config(world)?;
    if fragment {
        return Ok(vec![(
            "a fragment added".to_string(),
            with_fragment(&client.redirect_uri),
        )]);
    }
    redirect_uri_variants(&client.redirect_uri)
        .map(|v| {
            v.into_iter()
                .map(|(what, uri)| (what.to_string(), uri))
                .collect()
        })
        .map_err(|e| {
            world.fail(
                &precondition("the registered redirect_uri is a URL"),
                "an absolute URL",
                e,
            )
        })
}

/// Sends an authorization request naming `uri` as its redirect_uri.
async fn start_for(world: &mut AuthWorld, uri: &str) -> StepResult {
    let client = client_config(world)?;
    let pkce = PkcePair::generate();
    let mut request = standard_request(world, &client, Some(&pkce));
    request.redirect_uri = uri.to_string();
    super::authorize_requests::start_edited_authorization(world, request, pkce, &ParamEdit::Keep)
        .await
}

/// The first hop of the current authorization that delivered something (a code or an error)
/// at `uri`, or a code anywhere.
fn delivery_at(world: &AuthWorld, uri: &str) -> Option<(Hop, String)> {
    world.oauth.hops.iter().find_map(|hop| {
        let target = redirect_of(&hop.exchange)?.ok()?;
        let delivers = target.code().is_some() || (target.is_at(uri) && target.error().is_some());
        delivers.then(|| (hop.clone(), target.describe()))
    })
}

/// The look-alike checks: the phrase → (rule, whether the look-alike is the registered URI with
/// a fragment, whether each is tried from a user-agent without a session through login and
/// consent rather than once more from the signed-in one).
const LOOK_ALIKE_CHECKS: &[(&str, (&str, bool, bool))] = &[
    (
        "no look-alike of the registered redirect_uri receives a code or an error, through login and consent",
        (RULE_EXACT_MATCH, false, true),
    ),
    (
        "the registered redirect_uri with a fragment receives no code or error, through login and consent",
        (RULE_FRAGMENT, true, true),
    ),
    (
        "a repeated authorization naming a look-alike of the registered redirect_uri yields no code without the user",
        (RULE_REPEATED_IMPERSONATOR, false, false),
    ),
];

/// Tries each look-alike of the registered redirect_uri and fails the rule at the first that
/// receives a delivery (a code, or an error at the look-alike).
#[then(
    regex = r"^(no look-alike of the registered redirect_uri receives a code or an error, through login and consent|the registered redirect_uri with a fragment receives no code or error, through login and consent|a repeated authorization naming a look-alike of the registered redirect_uri yields no code without the user)$"
)]
async fn look_alikes_get_nothing(world: &mut AuthWorld, phrase: String) -> StepResult {
    let (rule, fragment, fresh) =
        *crate::conform::steps::phrase_entry(world, LOOK_ALIKE_CHECKS, &phrase)?;
    for (what, uri) in look_alikes(world, fragment)? {
        if fresh {
            world.client.clear_cookies();
        }
        start_for(world, &uri).await?;
        if fresh {
            super::requests::follow_to_the_end(world).await?;
        }
        let Some((hop, found)) = delivery_at(world, &uri) else {
            continue;
        };
        world.last = Some(hop.exchange);
        return Err(if fresh {
            world.fail(
                rule,
                format!("an error page of the server for {uri} ({what}), and no code anywhere"),
                format!("a delivery: {found}"),
            )
        } else {
            world.fail(
                rule,
                format!("no code for {uri} ({what}) without asking the user"),
                format!("granted at once: {found}"),
            )
        });
    }
    Ok(())
}
