//! PKCE (RFC 7636): code verifiers and S256 challenges.
