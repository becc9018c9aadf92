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

mod answer_verdicts;
mod authorization;
mod authorization_endings;
mod authorize_client_assertions;
mod authorize_clients;
mod authorize_redirects;
mod authorize_requests;
mod authorize_tokens;
mod clients;
mod code_lifetime;
mod confidential;
mod consent_rules;
mod discovery;
mod discovery_promises;
mod end_session;
mod id_token;
mod lifetimes;
mod logout_binding;
mod metadata;
mod refresh;
mod registration_probes;
mod requests;
mod revocation;
mod shared;
mod should_checks;
mod token;
mod token_clients;
mod token_errors;
mod userinfo;
mod userinfo_subjects;
mod verdicts;

use cucumber::{given, then, when};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::json_body;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Body, Client, CookieChoice, Exchange, Request};
use crate::protocol::cookie::SetCookie;
use crate::protocol::oauth::{
    AuthorizeHop, AuthorizeRequest, Discovery, IdTokenClaims, RedirectParams, TokenResponse,
    cache_control_has_no_store, check_alg_advertised, check_at_hash, check_auth_time,
    check_endpoints, check_error_response, check_foreign_code_refused, check_id_token_aud,
    check_id_token_iss, check_id_token_nonce, check_id_token_times, check_introspection_refused,
    check_issuer, check_missing_parameter_refused, check_pkce_methods, check_response_types,
    check_unknown_scope_left_out, classify_hop, code_exchange_form, delivered_credentials,
    describe_token_answer, end_session_url, expected_issuer, introspection_form, parse_discovery,
    parse_id_token_claims, parse_json_redirect, parse_oauth_error, parse_token_response,
    parse_www_authenticate, path_on_origin, public_client_registration, refresh_form,
    revocation_form,
};
use crate::protocol::pkce::PkcePair;

// The section files share the plumbing (and these imports) through this module: each starts
// with `use super::*`.
use crate::conform::world::state::{Hop, OAuthState};
use shared::*;
use verdicts::*;

pub(crate) use shared::register_exchange_secrets;

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
