//! The cookie cache (`session_data`): Better Auth's signed copy of the session kept in a cookie
//! so get-session can skip the database. Three encodings: "compact" (base64url JSON with an HMAC
//! `signature` field, the default), "jwt" (HS256), "jwe" (encrypted).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The cache's encoding, recognised from the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheEncoding {
    Compact,
    Jwt,
    Jwe,
    Unknown,
}

pub fn encoding_of(value: &str) -> CacheEncoding {
    match value.split('.').count() {
        5 => CacheEncoding::Jwe,
        3 if value.starts_with("eyJ") => CacheEncoding::Jwt,
        1 if decode_json(value).is_some_and(|v| v.get("signature").is_some()) => {
            CacheEncoding::Compact
        }
        _ => CacheEncoding::Unknown,
    }
}

fn decode_json(segment: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON serialises"))
}

/// Rewrites every `email` string inside `value` (the cached user's) to `email`.
fn replace_emails(value: &mut Value, email: &str) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "email" && v.is_string() {
                    *v = Value::String(email.to_string());
                    changed = true;
                } else {
                    changed |= replace_emails(v, email);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                changed |= replace_emails(v, email);
            }
        }
        _ => {}
    }
    changed
}

/// A forged cache value claiming the session belongs to `email`, with the original signature
/// kept: a server that checks the signature must not believe it. For an encrypted (JWE) cache
/// the ciphertext is altered instead. `None` when the value is not a recognisable cache.
pub fn forge_cached_email(value: &str, email: &str) -> Option<String> {
    match encoding_of(value) {
        CacheEncoding::Compact => {
            let mut json = decode_json(value)?;
            replace_emails(&mut json, email).then(|| encode_json(&json))
        }
        CacheEncoding::Jwt => {
            let mut parts: Vec<String> = value.split('.').map(str::to_string).collect();
            let mut payload = decode_json(&parts[1])?;
            if !replace_emails(&mut payload, email) {
                return None;
            }
            parts[1] = encode_json(&payload);
            Some(parts.join("."))
        }
        CacheEncoding::Jwe => {
            let mut parts: Vec<String> = value.split('.').map(str::to_string).collect();
            let ciphertext = &mut parts[3];
            let flipped = if ciphertext.starts_with('A') {
                "B"
            } else {
                "A"
            };
            // The first character, whatever its width (the value comes from the server: it may
            // be empty or not ASCII).
            let first = ciphertext.chars().next().map_or(0, char::len_utf8);
            ciphertext.replace_range(0..first, flipped);
            Some(parts.join("."))
        }
        CacheEncoding::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compact(email: &str) -> String {
        encode_json(&json!({
            "session": {"session": {"token": "t"}, "user": {"email": email, "name": "A"}, "updatedAt": 1, "version": "1"},
            "expiresAt": 2,
            "signature": "sig"
        }))
    }

    #[test]
    fn recognises_encodings() {
        assert_eq!(encoding_of(&compact("a@b.test")), CacheEncoding::Compact);
        assert_eq!(
            encoding_of("eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"),
            CacheEncoding::Jwt
        );
        assert_eq!(encoding_of("a.b.c.d.e"), CacheEncoding::Jwe);
        assert_eq!(encoding_of("garbage"), CacheEncoding::Unknown);
    }

    #[test]
    fn forges_the_email_and_keeps_the_signature() {
        let forged = forge_cached_email(&compact("a@b.test"), "evil@b.test").unwrap();
        let json = decode_json(&forged).unwrap();
        assert_eq!(json["session"]["user"]["email"], "evil@b.test");
        assert_eq!(json["signature"], "sig");

        let jwt = format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
            encode_json(&json!({"user": {"email": "a@b.test"}}))
        );
        let forged = forge_cached_email(&jwt, "evil@b.test").unwrap();
        assert!(forged.ends_with(".c2ln"));
        assert_eq!(
            decode_json(forged.split('.').nth(1).unwrap()).unwrap()["user"]["email"],
            "evil@b.test"
        );
        assert_ne!(forge_cached_email("a.b.c.Xd.e", "x").unwrap(), "a.b.c.Xd.e");
        assert_eq!(forge_cached_email("garbage", "x"), None);
    }
}
