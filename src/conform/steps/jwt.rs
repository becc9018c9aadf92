//! Steps for the JWT plugin: /token, /jwks, set-auth-jwt, verification.

/// Per-scenario JWT state, kept in the World.
#[derive(Clone, Debug, Default)]
pub struct JwtState {}
