//! Where an authorization ended, judged by one Then step: a table from the feature files'
//! phrases to the verdict (refused, never redirected, an error at the client, a code as without
//! the parameter, or where the last request sent the user-agent) and the rule it checks.

use super::authorization::{check_error_at_client, check_never_redirected, check_refused};
use super::authorize_requests::check_code_issued;
use super::should_checks::judge_last_hop;
use super::*;

/// How a Then step judges where an authorization ended, and the rule it checks.
#[derive(Clone, Copy)]
enum Ending {
    /// `check_refused`: an error, never a code.
    Refused(&'static str),
    /// `check_never_redirected`: no hop reached the unregistered redirect_uri.
    NeverRedirected(&'static str),
    /// `check_error_at_client`: this error at the redirect_uri, with the state.
    ErrorAtClient(&'static str, &'static str),
    /// `check_code_issued`: a code, as without the parameter.
    CodeIssued(&'static str),
    /// `judge_last_hop`: where the last request sent the user-agent, judged by `check`, which
    /// finds what is not `expected`.
    LastHop {
        rule: &'static str,
        expected: &'static str,
        check: fn(Option<&AuthorizeHop>) -> Result<(), String>,
    },
}

/// The Then steps on where an authorization ended: the phrase → how it is judged.
const ENDINGS: &[(&str, Ending)] = &[
    (
        "the authorization server refuses the authorization request without PKCE",
        Ending::Refused(RULE_NO_PKCE),
    ),
    (
        "the authorization server refuses the plain code_challenge_method",
        Ending::Refused(RULE_PLAIN_PKCE),
    ),
    (
        "the authorization server refuses the repeated parameter, never with a code",
        Ending::Refused(super::authorize_requests::RULE_REPEATED_REFUSED),
    ),
    (
        "the authorization server refuses the request without redirect_uri, never with a code",
        Ending::Refused(super::authorize_requests::RULE_NO_REDIRECT_URI),
    ),
    (
        "the authorization server refuses prompt=none combined with another value",
        Ending::Refused(super::requests::RULE_PROMPT_NONE_COMBINED),
    ),
    (
        "the authorization server answers no code for the signed-in user",
        Ending::Refused(super::consent_rules::RULE_CLAIMS_SUB),
    ),
    (
        "the authorization server answers an error, never a code, to the forged id_token_hint",
        Ending::Refused(super::consent_rules::RULE_FORGED_HINT),
    ),
    (
        "the authorization server never redirects to the unregistered redirect_uri",
        Ending::NeverRedirected(RULE_UNREGISTERED_REDIRECT),
    ),
    (
        "the authorization server never redirects to the redirect_uri named with the unknown client_id",
        Ending::NeverRedirected(super::requests::RULE_UNKNOWN_CLIENT),
    ),
    (
        "no step of the flow, login and consent included, redirects to the unregistered redirect_uri",
        Ending::NeverRedirected(super::requests::RULE_UNREGISTERED_THROUGH_LOGIN),
    ),
    (
        "the authorization server answers login_required at the redirect URI with the state",
        Ending::ErrorAtClient(RULE_PROMPT_NONE, "login_required"),
    ),
    (
        "the authorization server answers access_denied at the redirect URI with the state and no code",
        Ending::ErrorAtClient(RULE_CONSENT_DENIED, "access_denied"),
    ),
    (
        "the authorization server answers unauthorized_client at the redirect URI with the state",
        Ending::ErrorAtClient(
            super::authorize_clients::RULE_UNAUTHORIZED_CLIENT,
            "unauthorized_client",
        ),
    ),
    (
        "the authorization server answers invalid_request at the redirect URI with the state and no code",
        Ending::ErrorAtClient(
            super::authorize_requests::RULE_INVALID_REQUEST,
            "invalid_request",
        ),
    ),
    (
        "the authorization server issues a code as it does without the empty parameter",
        Ending::CodeIssued(super::authorize_requests::RULE_EMPTY_IS_ABSENT),
    ),
    (
        "the authorization server issues a code as it does without the unknown parameter",
        Ending::CodeIssued(super::authorize_requests::RULE_UNKNOWN_IGNORED),
    ),
    (
        "the authorization server asks for consent again or answers consent_required, never a code",
        Ending::LastHop {
            rule: super::should_checks::RULE_PROMPT_CONSENT,
            expected: super::should_checks::ASKS_AGAIN,
            check: crate::protocol::should::check_prompt_consent_asks,
        },
    ),
    (
        "the authorization server answers an error, never a code for the signed-in user",
        Ending::LastHop {
            rule: super::should_checks::RULE_OTHER_HINT,
            expected: super::should_checks::AN_ERROR,
            check: crate::protocol::should::check_no_code_for_another_hint,
        },
    ),
];

#[then(
    regex = r"^(the authorization server refuses the authorization request without PKCE|the authorization server refuses the plain code_challenge_method|the authorization server refuses the repeated parameter, never with a code|the authorization server refuses the request without redirect_uri, never with a code|the authorization server refuses prompt=none combined with another value|the authorization server answers no code for the signed-in user|the authorization server answers an error, never a code, to the forged id_token_hint|the authorization server never redirects to the unregistered redirect_uri|the authorization server never redirects to the redirect_uri named with the unknown client_id|no step of the flow, login and consent included, redirects to the unregistered redirect_uri|the authorization server answers login_required at the redirect URI with the state|the authorization server answers access_denied at the redirect URI with the state and no code|the authorization server answers unauthorized_client at the redirect URI with the state|the authorization server answers invalid_request at the redirect URI with the state and no code|the authorization server issues a code as it does without the empty parameter|the authorization server issues a code as it does without the unknown parameter|the authorization server asks for consent again or answers consent_required, never a code|the authorization server answers an error, never a code for the signed-in user)$"
)]
async fn authorization_ended(world: &mut AuthWorld, phrase: String) -> StepResult {
    crate::conform::steps::judge_phrase(world, ENDINGS, &phrase, |world, ending| match ending {
        Ending::Refused(rule) => check_refused(world, rule),
        Ending::NeverRedirected(rule) => check_never_redirected(world, rule),
        Ending::ErrorAtClient(rule, error) => check_error_at_client(world, rule, error),
        Ending::CodeIssued(rule) => check_code_issued(world, rule),
        Ending::LastHop {
            rule,
            expected,
            check,
        } => judge_last_hop(world, rule, expected, check),
    })
}
