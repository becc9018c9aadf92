//! Steps for the OAuth 2.1 / OIDC provider: discovery, authorize + PKCE, consent, tokens,
//! userinfo, refresh rotation, end session.

/// Per-scenario OAuth state, kept in the World.
#[derive(Clone, Debug, Default)]
pub struct OAuthState {}
