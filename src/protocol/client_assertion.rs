//! private_key_jwt client assertions (OIDC Core §9, RFC 7523 §3): an Ed25519 key the harness
//! registers as a client's JWKS, the assertions it signs with it, and the ways an assertion can
//! be wrong that an authorization server must refuse (replayed jti, another key, expired, another
//! audience, another issuer).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a fresh assertion lives (servers cap it; Better Auth at 300 s).
const LIFETIME_SECS: i64 = 120;

/// An assertion a server must refuse, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadAssertion {
    /// Signed by a key that is not the client's (same kid).
    OtherKey,
    /// Expired a minute ago.
    Expired,
    /// Addressed to another server.
    OtherAudience,
    /// Issued in another client's name (iss), the sub still this client.
    OtherIssuer,
}

impl BadAssertion {
    pub const ALL: [BadAssertion; 4] = [
        BadAssertion::OtherKey,
        BadAssertion::Expired,
        BadAssertion::OtherAudience,
        BadAssertion::OtherIssuer,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            BadAssertion::OtherKey => "an assertion signed by a key the client did not register",
            BadAssertion::Expired => "an expired assertion (exp a minute ago)",
            BadAssertion::OtherAudience => "an assertion addressed to another server (aud)",
            BadAssertion::OtherIssuer => "an assertion whose iss is not the client_id",
        }
    }
}

/// The claims of an assertion for `client_id` addressed to `audiences` (RFC 7523 §3).
pub fn assertion_claims(client_id: &str, audiences: &[String], jti: &str, now: i64) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audiences,
        "jti": jti,
        "iat": now,
        "exp": now + LIFETIME_SECS,
    })
}

/// `claims` made wrong in the way `bad` says (the jti is kept: the caller gives a fresh one).
pub fn spoiled(mut claims: Value, bad: BadAssertion) -> Value {
    let now = claims["iat"].as_i64().unwrap_or_default();
    match bad {
        BadAssertion::OtherKey => {}
        BadAssertion::Expired => {
            claims["iat"] = json!(now - 180);
            claims["exp"] = json!(now - 60);
        }
        BadAssertion::OtherAudience => {
            claims["aud"] = json!(["https://another-server.ba-harness.test/oauth2/token"]);
        }
        BadAssertion::OtherIssuer => claims["iss"] = json!("ba-harness-another-client"),
    }
    claims
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An Ed25519 signing key with its kid.
pub struct AssertionKey {
    pair: aws_lc_rs::signature::Ed25519KeyPair,
    pub kid: String,
}

impl AssertionKey {
    pub fn generate(kid: &str) -> Result<Self, String> {
        let pair = aws_lc_rs::signature::Ed25519KeyPair::generate()
            .map_err(|e| format!("no Ed25519 key ({e})"))?;
        Ok(AssertionKey {
            pair,
            kid: kid.to_string(),
        })
    }

    /// The public JWK (RFC 8037) a client registers in its `jwks`.
    pub fn public_jwk(&self) -> Value {
        use aws_lc_rs::signature::KeyPair as _;
        json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "kid": self.kid, "x": b64(self.pair.public_key().as_ref()),
        })
    }

    /// A compact JWS of `claims` (alg EdDSA, this key's kid).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64(self.pair.sign(input.as_bytes()).as_ref()))
    }
}

/// The form fields that authenticate a client with `assertion` (RFC 7521 §4.2).
pub fn assertion_form(assertion: &str) -> Vec<(String, String)> {
    vec![
        ("client_assertion_type".into(), JWT_BEARER.into()),
        ("client_assertion".into(), assertion.into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jwt;

    #[test]
    fn assertions_verify_with_the_registered_key_and_spoil_one_thing_each() {
        let key = AssertionKey::generate("k1").unwrap();
        let other = AssertionKey::generate("k1").unwrap();
        let jwks = jwt::parse_jwks(&json!({"keys": [key.public_jwk()]})).unwrap();
        let cache = jwt::JwksCache::new(&jwks);
        let claims = assertion_claims("c1", &["https://as/token".into()], "j1", 1_000);
        assert_eq!(claims["exp"], 1_120);
        assert!(jwt::verify(&key.sign(&claims), &cache).is_ok());
        assert!(jwt::verify(&other.sign(&claims), &cache).is_err());
        assert_eq!(spoiled(claims.clone(), BadAssertion::Expired)["exp"], 940);
        assert_eq!(
            spoiled(claims.clone(), BadAssertion::OtherIssuer)["sub"],
            "c1"
        );
        assert_ne!(
            spoiled(claims.clone(), BadAssertion::OtherAudience)["aud"],
            claims["aud"]
        );
        assert_eq!(spoiled(claims.clone(), BadAssertion::OtherKey), claims);
        assert_eq!(assertion_form("a")[0].1, JWT_BEARER);
    }
}
