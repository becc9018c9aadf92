//! What a discovery document and a JWKS promise, as pure checks: grant types listed are
//! served and the others refused, omitted flags mean their defaults, keys say their use, ID
//! tokens name their key, subject identifiers stay short (OIDC Discovery §3, OIDC Core §2,
//! §8, §10.1; RFC 8414 §2).

use serde_json::Value;

/// Token-endpoint grant types a server may offer, probed when the document leaves them out.
const KNOWN_GRANT_TYPES: &[&str] = &[
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "client_credentials",
    "refresh_token",
    "authorization_code",
];

/// Grant types that are not token-endpoint grants (implicit is served at the authorization
/// endpoint), so a token request cannot show whether they are served.
const NOT_TOKEN_GRANTS: &[&str] = &["implicit"];

/// A list member of the document: the stated list, else the default (OIDC Discovery §3).
pub fn list_or_default(doc: &Value, name: &str, default: &[&str]) -> Vec<String> {
    match doc.get(name).and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => default.iter().map(|s| s.to_string()).collect(),
    }
}

/// grant_types_supported, or its default ["authorization_code", "implicit"].
pub fn grant_types(doc: &Value) -> Vec<String> {
    list_or_default(
        doc,
        "grant_types_supported",
        &["authorization_code", "implicit"],
    )
}

/// The token-endpoint grants the document lists (to be served) and the known ones it leaves
/// out (to be refused).
pub fn grant_probes(listed: &[String]) -> (Vec<String>, Vec<String>) {
    let served = listed
        .iter()
        .filter(|g| !NOT_TOKEN_GRANTS.contains(&g.as_str()))
        .cloned()
        .collect();
    let refused = KNOWN_GRANT_TYPES
        .iter()
        .filter(|g| !listed.iter().any(|l| l == *g))
        .map(|g| g.to_string())
        .collect();
    (served, refused)
}

/// A token request for a listed grant (with made-up credentials) may fail on anything but
/// the grant type itself: unsupported_grant_type says the grant is not served.
pub fn check_grant_served(grant: &str, status: u16, body: &Value) -> Result<(), String> {
    match body.get("error").and_then(Value::as_str) {
        Some("unsupported_grant_type") => Err(format!(
            "grant_type {grant}: HTTP {status} with error unsupported_grant_type"
        )),
        _ => Ok(()),
    }
}

/// response_modes_supported, or its default. The default ["query", "fragment"] is defined
/// for Dynamic OpenID Providers (OIDC Discovery §3); for the others only query is certain.
pub fn response_modes(doc: &Value, dynamic: bool) -> Vec<String> {
    let default: &[&str] = if dynamic {
        &["query", "fragment"]
    } else {
        &["query"]
    };
    list_or_default(doc, "response_modes_supported", default)
}

/// Where an authorization response put the code: "query", "fragment", or None.
pub fn code_delivery(query_has_code: bool, fragment_has_code: bool) -> Option<&'static str> {
    match (query_has_code, fragment_has_code) {
        (_, true) => Some("fragment"),
        (true, false) => Some("query"),
        (false, false) => None,
    }
}

/// A response_mode request's outcome against the promise: a listed mode delivers the code
/// that way; an unlisted one never does.
pub fn check_response_mode(
    requested: &str,
    listed: bool,
    delivered: Option<&str>,
) -> Result<(), String> {
    let how = match delivered {
        Some(mode) => format!("the code arrived in the {mode}"),
        None => "no code arrived".to_string(),
    };
    match (listed, delivered) {
        (true, Some(mode)) if mode == requested => Ok(()),
        (false, Some(mode)) if mode == requested => Err(format!(
            "response_mode={requested} is not offered, yet {how}"
        )),
        (false, _) => Ok(()),
        (true, _) => Err(format!("response_mode={requested} is offered, but {how}")),
    }
}

/// What a JWKS key is for: its `use`, else its `key_ops`, else its `alg` (a JWE algorithm
/// means encryption).
fn key_purpose(key: &Value) -> Option<&'static str> {
    match key.get("use").and_then(Value::as_str) {
        Some("sig") => return Some("sig"),
        Some("enc") => return Some("enc"),
        _ => {}
    }
    let ops: Vec<&str> = key
        .get("key_ops")
        .and_then(Value::as_array)
        .map(|o| o.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if ops
        .iter()
        .any(|o| matches!(*o, "encrypt" | "wrapKey" | "deriveKey"))
    {
        return Some("enc");
    }
    if ops.iter().any(|o| matches!(*o, "sign" | "verify")) {
        return Some("sig");
    }
    let alg = key.get("alg").and_then(Value::as_str)?;
    let encryption = alg.starts_with("RSA-OAEP")
        || alg == "RSA1_5"
        || alg.starts_with("ECDH-ES")
        || alg == "dir"
        || (alg.starts_with('A') && alg.contains("KW"));
    Some(if encryption { "enc" } else { "sig" })
}

/// OIDC Discovery §3 (jwks_uri): when the JWKS holds both signing and encryption keys, every
/// key has `use`. `Ok(false)`: the JWKS holds no encryption key, so the rule does not bind.
pub fn check_key_use(jwks: &Value) -> Result<bool, String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("a JWKS without a `keys` array")?;
    let purposes: Vec<Option<&str>> = keys.iter().map(key_purpose).collect();
    if !purposes.contains(&Some("enc")) {
        return Ok(false);
    }
    let unmarked: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !matches!(k.get("use").and_then(Value::as_str), Some("sig" | "enc")))
        .map(|(i, k)| match k.get("kid").and_then(Value::as_str) {
            Some(kid) => format!("keys[{i}] (kid {kid:?})"),
            None => format!("keys[{i}]"),
        })
        .collect();
    if unmarked.is_empty() {
        return Ok(true);
    }
    Err(format!(
        "the JWKS holds an encryption key, and {} say no `use`",
        unmarked.join(", ")
    ))
}

/// The number of keys in a JWKS.
pub fn key_count(jwks: &Value) -> usize {
    jwks.get("keys")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// OIDC Core §10.1: with several keys in the JWKS, the ID token's header names its key with a
/// kid that is in the JWKS.
pub fn check_kid_named(header: &Value, jwks: &Value) -> Result<(), String> {
    let Some(kid) = header.get("kid").and_then(Value::as_str) else {
        return Err(format!(
            "the JWKS holds {} keys and the ID token's header has no kid",
            key_count(jwks)
        ));
    };
    let published = jwks
        .get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        });
    if published {
        return Ok(());
    }
    Err(format!(
        "the ID token names kid {kid:?}, which the JWKS does not hold"
    ))
}

/// OIDC Core §2: sub is at most 255 ASCII characters.
pub fn check_sub_length(sub: &str) -> Result<(), String> {
    if !sub.is_ascii() {
        return Err("sub holds characters outside ASCII".into());
    }
    if sub.len() > 255 {
        return Err(format!("sub is {} characters long", sub.len()));
    }
    if sub.is_empty() {
        return Err("sub is empty".into());
    }
    Ok(())
}

/// OIDC Core §8: the subject types a document lists (subject_types_supported).
pub fn subject_types(doc: &Value) -> Vec<String> {
    list_or_default(doc, "subject_types_supported", &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listed_grants_are_probed_as_served_and_known_others_as_refused() {
        let doc =
            json!({"grant_types_supported": ["authorization_code", "refresh_token", "implicit"]});
        let (served, refused) = grant_probes(&grant_types(&doc));
        assert_eq!(served, vec!["authorization_code", "refresh_token"]);
        assert!(refused.contains(&"password".to_string()));
        assert!(refused.contains(&"client_credentials".to_string()));
        assert!(!refused.contains(&"refresh_token".to_string()));
        // Omitted: the default.
        assert_eq!(
            grant_types(&json!({})),
            vec!["authorization_code", "implicit"]
        );
    }

    #[test]
    fn only_unsupported_grant_type_says_a_grant_is_not_served() {
        let refused = json!({"error": "unsupported_grant_type"});
        assert!(check_grant_served("client_credentials", 400, &refused).is_err());
        assert!(
            check_grant_served("refresh_token", 400, &json!({"error": "invalid_grant"})).is_ok()
        );
        assert!(check_grant_served("x", 401, &json!({"error": "invalid_client"})).is_ok());
    }

    #[test]
    fn response_modes_default_for_dynamic_providers() {
        assert_eq!(response_modes(&json!({}), true), vec!["query", "fragment"]);
        assert_eq!(response_modes(&json!({}), false), vec!["query"]);
        let stated = json!({"response_modes_supported": ["query"]});
        assert_eq!(response_modes(&stated, true), vec!["query"]);
    }

    #[test]
    fn a_requested_mode_is_honoured_when_offered_and_never_used_when_not() {
        assert!(check_response_mode("fragment", true, Some("fragment")).is_ok());
        assert!(check_response_mode("fragment", true, Some("query")).is_err());
        assert!(check_response_mode("fragment", true, None).is_err());
        assert!(check_response_mode("fragment", false, Some("query")).is_ok());
        assert!(check_response_mode("fragment", false, None).is_ok());
        assert!(check_response_mode("fragment", false, Some("fragment")).is_err());
        assert_eq!(code_delivery(true, false), Some("query"));
        assert_eq!(code_delivery(false, true), Some("fragment"));
        assert_eq!(code_delivery(false, false), None);
    }

    #[test]
    fn keys_say_their_use_once_encryption_keys_are_published() {
        let sig_only = json!({"keys": [{"kty": "OKP", "alg": "EdDSA", "kid": "a"}]});
        assert_eq!(check_key_use(&sig_only), Ok(false));
        let marked = json!({"keys": [
            {"kty": "OKP", "alg": "EdDSA", "kid": "a", "use": "sig"},
            {"kty": "RSA", "alg": "RSA-OAEP-256", "kid": "b", "use": "enc"}
        ]});
        assert_eq!(check_key_use(&marked), Ok(true));
        let unmarked = json!({"keys": [
            {"kty": "OKP", "alg": "EdDSA", "kid": "a"},
            {"kty": "RSA", "alg": "RSA-OAEP-256", "kid": "b", "use": "enc"}
        ]});
        let e = check_key_use(&unmarked).unwrap_err();
        assert!(e.contains("\"a\""), "{e}");
        let by_ops =
            json!({"keys": [{"kty": "RSA", "key_ops": ["wrapKey"]}, {"kty": "OKP", "use": "sig"}]});
        assert!(check_key_use(&by_ops).is_err());
    }

    #[test]
    fn the_id_token_names_a_published_key() {
        let jwks = json!({"keys": [{"kid": "a"}, {"kid": "b"}]});
        assert!(check_kid_named(&json!({"alg": "EdDSA", "kid": "b"}), &jwks).is_ok());
        assert!(
            check_kid_named(&json!({"alg": "EdDSA"}), &jwks)
                .unwrap_err()
                .contains("no kid")
        );
        assert!(check_kid_named(&json!({"kid": "c"}), &jwks).is_err());
        assert_eq!(key_count(&jwks), 2);
    }

    #[test]
    fn sub_is_short_ascii() {
        assert!(check_sub_length("abc").is_ok());
        assert!(check_sub_length(&"a".repeat(255)).is_ok());
        assert!(check_sub_length(&"a".repeat(256)).is_err());
        assert!(check_sub_length("é").is_err());
        assert!(check_sub_length("").is_err());
    }
}
