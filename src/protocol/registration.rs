//! Dynamic client registration (RFC 7591): the metadata the harness registers and how the
//! registration endpoint's answers are judged. Pure functions; the steps send.

use serde_json::{Value, json};

/// A metadata member RFC 7591 §2 does not define, which a server must ignore (RFC 7591 §2).
pub const UNKNOWN_MEMBER: &str = "ba_harness_unknown_member";

/// The client metadata members RFC 7591 §2 defines (the ones a registration answer echoes).
const DEFINED_MEMBERS: &[&str] = &[
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "contacts",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "jwks",
    "software_id",
    "software_version",
];

/// The errors RFC 7591 §3.2.2 defines for a refused registration about the metadata.
const METADATA_ERRORS: &[&str] = &["invalid_redirect_uri", "invalid_client_metadata"];

/// A public PKCE client (no secret, the code flow, a native loopback redirect) as a probe
/// registers it: every member one RFC 7591 §2 defines, so the answer's echo can be judged.
pub fn probe_metadata(redirect_uri: &str) -> Value {
    json!({
        "client_name": "ba-harness registration probe",
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "contacts": ["registration-probe@ba-harness.test"],
    })
}

/// `metadata` with `name` set to `value`.
pub fn with_member(mut metadata: Value, name: &str, value: Value) -> Value {
    if let Some(object) = metadata.as_object_mut() {
        object.insert(name.to_string(), value);
    }
    metadata
}

/// The client_id of an answer that registered a client (any 2xx with a non-empty client_id).
pub fn registered_client_id(status: u16, body: &Value) -> Option<String> {
    let id = body.get("client_id").and_then(Value::as_str)?;
    ((200..300).contains(&status) && !id.is_empty()).then(|| id.to_string())
}

/// RFC 7591 §3.2.1: a registration answers 201 Created with a JSON object holding a client_id.
pub fn check_created(status: u16, json_content_type: bool, body: &Value) -> Result<(), String> {
    let id = body.get("client_id").and_then(Value::as_str);
    match (status, json_content_type, id) {
        (201, true, Some(id)) if !id.is_empty() => Ok(()),
        (201, false, _) => Err("HTTP 201, but the body is not served as application/json".into()),
        (201, true, _) => Err("HTTP 201 without a non-empty client_id string".into()),
        _ => Err(describe(status, body)),
    }
}

/// RFC 7591 §3.2.1: the answer lists every defined metadata member that was registered. The
/// server may change a value (its own choice), never drop the member.
pub fn check_echoes(sent: &Value, answer: &Value) -> Result<(), String> {
    let missing: Vec<&str> = DEFINED_MEMBERS
        .iter()
        .copied()
        .filter(|name| sent.get(name).is_some() && answer.get(name).is_none_or(Value::is_null))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the answer leaves out the registered {}",
        missing.join(", ")
    ))
}

/// RFC 7591 §3.2.1: when a client_secret is issued, client_secret_expires_at (a non-negative
/// number, 0 for never) is in the answer. `Ok(false)`: no secret was issued.
pub fn check_secret_expiry(body: &Value) -> Result<bool, String> {
    if body.get("client_secret").and_then(Value::as_str).is_none() {
        return Ok(false);
    }
    match body.get("client_secret_expires_at") {
        Some(v) if v.as_u64().is_some() => Ok(true),
        Some(v) => Err(format!(
            "a client_secret with client_secret_expires_at {v}, not a non-negative number"
        )),
        None => Err("a client_secret without client_secret_expires_at".into()),
    }
}

/// RFC 7591 §3.2.2: a registration refused for its metadata answers 400 with a JSON error
/// (invalid_redirect_uri or invalid_client_metadata) and registers nothing.
pub fn check_metadata_refused(status: u16, body: &Value) -> Result<(), String> {
    if registered_client_id(status, body).is_some() {
        return Err(format!(
            "HTTP {status} with a client_id: the client was registered"
        ));
    }
    let error = body.get("error").and_then(Value::as_str);
    match error {
        Some(e) if status == 400 && METADATA_ERRORS.contains(&e) => Ok(()),
        _ => Err(describe(status, body)),
    }
}

/// Any refusal: no client registered (the status and error are not judged).
pub fn check_nothing_registered(status: u16, body: &Value) -> Result<(), String> {
    match registered_client_id(status, body) {
        Some(_) => Err(format!(
            "HTTP {status} with a client_id: a client was registered"
        )),
        None => Ok(()),
    }
}

fn describe(status: u16, body: &Value) -> String {
    match (body.get("error").and_then(Value::as_str), body.is_object()) {
        (Some(e), _) => format!("HTTP {status} with error {e:?}"),
        (None, true) => format!("HTTP {status} with a JSON object without `error`"),
        (None, false) => format!("HTTP {status} without a JSON object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Value {
        json!({
            "client_id": "abc",
            "client_name": "ba-harness registration probe",
            "redirect_uris": ["http://127.0.0.1:4000/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "contacts": ["registration-probe@ba-harness.test"],
            "application_type": "native",
        })
    }

    #[test]
    fn a_created_client_is_201_json_with_a_client_id() {
        assert!(check_created(201, true, &answer()).is_ok());
        assert!(
            check_created(200, true, &answer())
                .unwrap_err()
                .contains("200")
        );
        assert!(check_created(201, false, &answer()).is_err());
        assert!(check_created(201, true, &json!({"client_id": ""})).is_err());
    }

    #[test]
    fn the_echo_keeps_every_defined_member_sent() {
        let sent = with_member(
            probe_metadata("http://127.0.0.1:4000/callback"),
            UNKNOWN_MEMBER,
            json!("x"),
        );
        assert!(check_echoes(&sent, &answer()).is_ok());
        let mut dropped = answer();
        dropped.as_object_mut().unwrap().remove("redirect_uris");
        let e = check_echoes(&sent, &dropped).unwrap_err();
        assert!(e.contains("redirect_uris"), "{e}");
        // A changed value is the server's choice.
        let mut changed = answer();
        changed["grant_types"] = json!(["authorization_code", "refresh_token"]);
        assert!(check_echoes(&sent, &changed).is_ok());
    }

    #[test]
    fn an_issued_secret_says_when_it_expires() {
        assert_eq!(check_secret_expiry(&answer()), Ok(false));
        let secret = json!({"client_id": "a", "client_secret": "s", "client_secret_expires_at": 0});
        assert_eq!(check_secret_expiry(&secret), Ok(true));
        assert!(check_secret_expiry(&json!({"client_secret": "s"})).is_err());
        assert!(
            check_secret_expiry(&json!({"client_secret": "s", "client_secret_expires_at": -1}))
                .is_err()
        );
    }

    #[test]
    fn a_metadata_refusal_is_400_with_a_registration_error() {
        let refused = json!({"error": "invalid_redirect_uri", "error_description": "fragment"});
        assert!(check_metadata_refused(400, &refused).is_ok());
        assert!(check_metadata_refused(400, &json!({"error": "invalid_client_metadata"})).is_ok());
        assert!(check_metadata_refused(401, &refused).is_err());
        assert!(check_metadata_refused(400, &json!({"error": "server_error"})).is_err());
        assert!(
            check_metadata_refused(201, &answer())
                .unwrap_err()
                .contains("registered")
        );
        assert!(check_nothing_registered(201, &answer()).is_err());
        assert!(check_nothing_registered(401, &json!({})).is_ok());
    }
}
