//! JWTs and JWKS (Better Auth's jwt plugin and the OAuth provider's ID tokens).
//! To be filled: JWKS parsing and a cache keyed by kid, verification through jsonwebtoken
//! (EdDSA, RS256, PS256, ES256) and aws-lc-rs directly for ES512, claim checks.
