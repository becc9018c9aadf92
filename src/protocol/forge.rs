//! JWTs a verifier must refuse, made from a real one: its signature altered, its subject
//! changed after signing, an unsigned copy (alg none), and its claims signed by a key of the
//! harness's own that no JWKS lists. Used by the resource-server scenarios and the OAuth
//! provider's (end session hints, userinfo tokens).

use serde_json::Value;

use super::jwt;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JWT with one bit of its signature flipped: header and claims exactly as issued.
pub fn with_signature_altered(token: &str) -> Result<String, String> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS (three dot-separated parts)".into());
    };
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| format!("the signature is not base64url ({e})"))?;
    let Some(first) = bytes.first_mut() else {
        return Err("the JWT has an empty signature".into());
    };
    *first ^= 0x01;
    Ok(format!("{header}.{payload}.{}", b64(&bytes)))
}

/// The JWT with its `sub` changed after signing (header and signature kept): what an attacker
/// who wants to be someone else would send.
pub fn with_subject_altered(token: &str) -> Result<String, String> {
    let decoded = jwt::decode(token).map_err(|e| e.to_string())?;
    Ok(jwt::with_claims_kept_signature(
        &decoded,
        &jwt::altered_claims(&decoded.claims),
    ))
}

/// An unsigned JWT (`alg: none`, empty signature) with the real JWT's kid and claims.
pub fn unsigned_copy(token: &str) -> Result<String, String> {
    let decoded = jwt::decode(token).map_err(|e| e.to_string())?;
    Ok(jwt::unsecured_copy(&decoded, &decoded.claims))
}

/// The real JWT's claims signed (EdDSA) with a key the harness makes now, which no JWKS lists:
/// a kid of its own, and the public key embedded as the header's `jwk` (RFC 7515 §4.1.3), the
/// way an attacker offers a verifier the key to check their signature with.
pub fn signed_by_own_key(token: &str) -> Result<String, String> {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    let decoded = jwt::decode(token).map_err(|e| e.to_string())?;
    let pair = Ed25519KeyPair::generate().map_err(|e| format!("no Ed25519 key ({e})"))?;
    let x = b64(pair.public_key().as_ref());
    let kid = format!("ba-harness-foreign-{}", &x[..12]);
    let header = serde_json::json!({
        "alg": "EdDSA",
        "kid": kid,
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x},
    });
    let claims = Value::Object(decoded.claims.clone());
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = pair.sign(input.as_bytes());
    Ok(format!("{input}.{}", b64(signature.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JWT signed with a fresh key, and the cache that verifies it.
    fn real_jwt() -> (String, jwt::JwksCache) {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwks = serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1",
            "x": b64(pair.public_key().as_ref()),
        }]});
        let header = serde_json::json!({"alg": "EdDSA", "kid": "k1"});
        let claims = serde_json::json!({"sub": "u1", "iss": "http://i", "aud": "http://i", "exp": 4_000_000_000u64});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let token = format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()));
        (token, jwt::JwksCache::new(&jwt::parse_jwks(&jwks).unwrap()))
    }

    #[test]
    fn every_forgery_fails_verification_for_its_own_reason() {
        let (token, keys) = real_jwt();
        assert!(jwt::verify(&token, &keys).is_ok());
        let bad_signature = |t: &str| {
            matches!(
                jwt::verify(t, &keys),
                Err(jwt::JwtError::BadSignature { .. })
            )
        };

        let altered = with_signature_altered(&token).unwrap();
        assert_ne!(altered, token);
        assert_eq!(
            altered.rsplit_once('.').unwrap().0,
            token.rsplit_once('.').unwrap().0
        );
        assert!(bad_signature(&altered));

        let other_subject = with_subject_altered(&token).unwrap();
        let decoded = jwt::decode(&other_subject).unwrap();
        assert_eq!(decoded.claim_str("sub"), Some("u1-altered"));
        assert_eq!(
            other_subject.rsplit_once('.').unwrap().1,
            token.rsplit_once('.').unwrap().1
        );
        assert!(bad_signature(&other_subject));

        let unsigned = unsigned_copy(&token).unwrap();
        assert!(unsigned.ends_with('.'));
        assert_eq!(jwt::decode(&unsigned).unwrap().alg(), Some("none"));
        assert_eq!(
            jwt::verify(&unsigned, &keys).unwrap_err(),
            jwt::JwtError::AlgNone
        );

        let foreign = signed_by_own_key(&token).unwrap();
        let decoded = jwt::decode(&foreign).unwrap();
        assert_eq!(decoded.claims, jwt::decode(&token).unwrap().claims);
        assert!(decoded.kid().unwrap().starts_with("ba-harness-foreign-"));
        assert!(matches!(
            jwt::verify(&foreign, &keys),
            Err(jwt::JwtError::UnknownKid { .. })
        ));
        // It is a good signature, by the key in its own header: only the JWKS makes it foreign.
        let own = jwt::parse_jwks(&serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
            "kid": decoded.kid().unwrap(), "x": decoded.header["jwk"]["x"],
        }]}))
        .unwrap();
        assert!(jwt::verify(&foreign, &jwt::JwksCache::new(&own)).is_ok());

        assert!(with_signature_altered("a.b").is_err());
        assert!(signed_by_own_key("x").is_err());
    }
}
