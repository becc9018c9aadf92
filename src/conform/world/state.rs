//! Each step family's per-scenario state, held by the World. The types live here, below both
//! the World and the steps, so the World imports no step module; each family's steps fill and
//! read its own part. Several hold secrets (tokens, codes, exchanges): their Debug shows none.

use std::fmt;

use crate::conform::world::TestUser;
use crate::http::{Client, Exchange};
use crate::protocol::jwt::{Jwks, JwksCache};
use crate::protocol::oauth::{AuthorizeHop, AuthorizeRequest, Discovery, TokenResponse};
use crate::protocol::pkce::PkcePair;

/// One hop of an authorization: the exchange and where it led (None: it led nowhere).
#[derive(Clone)]
pub(crate) struct Hop {
    pub(crate) exchange: Exchange,
    pub(crate) hop: Option<AuthorizeHop>,
}

/// Per-scenario OAuth state, kept in the World. Holds secrets: Debug shows none of them.
#[derive(Clone, Default)]
pub struct OAuthState {
    pub(crate) discovery: Option<Discovery>,
    /// The last authorization request sent, and its PKCE pair (if it had one).
    pub(crate) request: Option<AuthorizeRequest>,
    pub(crate) pkce: Option<PkcePair>,
    /// The hops of the current authorization, in order.
    pub(crate) hops: Vec<Hop>,
    /// The code the current authorization ended with.
    pub(crate) code: Option<String>,
    /// The current token set and the exchange that issued it.
    pub(crate) tokens: Option<(TokenResponse, Exchange)>,
    /// The first token set of the scenario (for replays and stability checks).
    pub(crate) first_tokens: Option<(TokenResponse, Exchange)>,
    /// The refresh token presented to the last successful refresh (now rotated).
    pub(crate) rotated_refresh_token: Option<String>,
    /// The unregistered URI an end-session request named.
    pub(crate) unregistered_logout_uri: Option<String>,
    /// The unregistered redirect_uri an authorization request named.
    pub(crate) unregistered_redirect_uri: Option<String>,
    /// The state sent with end session.
    pub(crate) logout_state: Option<String>,
    /// The refresh token the client revoked, and the revocation endpoint's answer.
    pub(crate) revoked_refresh_token: Option<String>,
    pub(crate) revocation: Option<Exchange>,
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

/// One user signed in at the issuer, with the client that holds their session.
#[derive(Clone)]
pub(crate) struct IssuerUser {
    pub(crate) user: TestUser,
    pub(crate) client: Client,
}

/// One call to the resource server: whose JWT it carried, what JWT it was, the answer.
#[derive(Clone)]
pub(crate) struct Call {
    pub(crate) user: usize,
    pub(crate) what: String,
    pub(crate) exchange: Exchange,
}

/// Per-scenario state, kept in the World. Debug leaves tokens and exchanges out.
#[derive(Clone, Default)]
pub struct ResourceState {
    pub(crate) users: Vec<IssuerUser>,
    /// The JWT the first user got before the issuer rotated its key.
    pub(crate) before_rotation: Option<String>,
    pub(crate) calls: Vec<Call>,
}

impl ResourceState {
    /// The clients of the users signed in at the issuer (for signing them out at the end).
    pub(crate) fn clients(&mut self) -> impl Iterator<Item = &mut Client> {
        self.users.iter_mut().map(|u| &mut u.client)
    }
}

impl fmt::Debug for ResourceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceState")
            .field("users", &self.users.len())
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

/// Per-scenario JWT state, kept in the World. Debug leaves the JWT and exchanges out.
#[derive(Clone, Default)]
pub struct JwtState {
    /// The answer to GET /token.
    pub token_exchange: Option<Exchange>,
    /// The JWT that answer carried (`{"token": …}`), when it carried a string.
    pub token: Option<String>,
    /// The last answer to GET /jwks.
    pub jwks_exchange: Option<Exchange>,
    /// That answer parsed, when it was a JWKS.
    pub jwks: Option<Jwks>,
    /// The keys by kid, for verification.
    pub keys: JwksCache,
}

impl fmt::Debug for JwtState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtState")
            .field("has_token", &self.token.is_some())
            .field("jwks_keys", &self.jwks.as_ref().map(|j| j.keys.len()))
            .finish_non_exhaustive()
    }
}

/// Another user of the scenario: its own client (cookie jar), its account, its session token
/// and its session cookie (name, value).
#[derive(Clone)]
pub struct OtherUser {
    pub client: Client,
    pub user: TestUser,
    pub token: String,
    pub cookie: (String, String),
}
