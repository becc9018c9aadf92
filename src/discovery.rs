//! Capability discovery: what the target offers, found by asking it once per run before the
//! scenarios start. Absent capabilities make their scenarios skip with the reason.

use serde_json::{Value, json};

use crate::error::HarnessError;
use crate::http::{Client, CookieChoice, Request};
use crate::protocol::cookie::cookie_name;
use crate::redact::SecretRegistry;
use crate::target::Target;
use crate::test_user::TestUser;

/// The redirect URI a dynamically registered client gets: a loopback address nothing listens
/// on, since the harness reads redirects from Location headers and never follows them.
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1:4000/callback";

/// Probes the target and records its capabilities (and notes on what is missing).
pub async fn discover(target: &mut Target) -> Result<(), HarnessError> {
    let mut client =
        Client::new(target.endpoint()).map_err(|e| HarnessError::Usage(e.to_string()))?;

    // jwt plugin: a JWKS with a keys array.
    match client.send(Request::get("/jwks")).await {
        Ok(e)
            if e.status == 200
                && e.json()
                    .ok()
                    .and_then(|v| v.get("keys").cloned())
                    .is_some_and(|k| k.is_array()) =>
        {
            target.capabilities.insert("jwt".into());
        }
        Ok(e) => target.discovery_notes.push(format!(
            "no JWKS: GET {}/jwks answered HTTP {}",
            target.base_path, e.status
        )),
        Err(e) => target.discovery_notes.push(format!("no JWKS: {e}")),
    }

    // OAuth provider: the OpenID discovery document at the issuer path.
    match client
        .send(Request::get("/.well-known/openid-configuration"))
        .await
    {
        Ok(e) if e.status == 200 => match e.json() {
            Ok(doc) if doc.get("issuer").is_some_and(Value::is_string) => {
                target.capabilities.insert("oauth-provider".into());
                target.openid_configuration = Some(doc);
            }
            _ => target
                .discovery_notes
                .push("the OpenID discovery document is not JSON with an issuer".into()),
        },
        Ok(e) => target
            .discovery_notes
            .push(format!("no OpenID discovery document: HTTP {}", e.status)),
        Err(e) => target
            .discovery_notes
            .push(format!("no OpenID discovery document: {e}")),
    }
    if target.capabilities.contains("oauth-provider") && target.oauth.client_id.is_none() {
        register_client(target, &mut client).await;
    }

    // Session features, seen on one sign-in: bearer (set-auth-token), cookie cache (session_data).
    let sign_in = match target.account.clone() {
        Some(account) => {
            client
                .send(Request::post_json(
                    "/sign-in/email",
                    json!({"email": account.email, "password": account.password}),
                ))
                .await
        }
        None => {
            let user = TestUser::random();
            client
                .send(
                    Request::post_json(
                        "/sign-up/email",
                        json!({"email": user.email, "password": user.password, "name": user.name}),
                    )
                    .cookies(CookieChoice::None),
                )
                .await
        }
    };
    match sign_in {
        Ok(e) if e.status == 200 => {
            if target.account.is_none() {
                target.capabilities.insert("sign-up".into());
            }
            for cookie in e.set_cookies() {
                SecretRegistry::global().register(&cookie.value);
                SecretRegistry::global().register(&cookie.decoded_value());
            }
            if let Some(token) = e.header("set-auth-token") {
                SecretRegistry::global().register(token);
                target.capabilities.insert("bearer".into());
            }
            let cache = cookie_name(&target.cookie_prefix, "session_data", target.is_https());
            if let Some(c) = e.set_cookie(&cache).filter(|c| !c.value.is_empty()) {
                target.capabilities.insert("cookie-cache".into());
                target.cookie_cache_max_age = c.max_age;
            }
        }
        Ok(e) => target.discovery_notes.push(format!(
            "the discovery {} answered HTTP {}: scenarios needing a session may fail",
            if target.account.is_some() {
                "sign-in with --user-email"
            } else {
                "sign-up"
            },
            e.status
        )),
        Err(e) => target
            .discovery_notes
            .push(format!("the discovery sign-up failed: {e}")),
    }
    target.declare_configured_capabilities();
    Ok(())
}

/// Registers one public PKCE client per run (registration is rate-limited: never per scenario).
async fn register_client(target: &mut Target, client: &mut Client) {
    let Some(endpoint) = target
        .openid_configuration
        .as_ref()
        .and_then(|d| d.get("registration_endpoint"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        target
            .discovery_notes
            .push("no OAuth client given and the provider offers no registration_endpoint".into());
        return;
    };
    let mut request = Request::post_json(
        &endpoint,
        json!({
            "client_name": "ba-harness conformance",
            "redirect_uris": [REGISTERED_REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }),
    )
    .cookies(CookieChoice::None);
    // The registration endpoint is an absolute URL from the discovery document.
    request.absolute = true;
    request.path = match url::Url::parse(&endpoint) {
        Ok(u) => u.path().to_string(),
        Err(_) => endpoint.clone(),
    };
    match client.send(request).await {
        Ok(e) if e.status == 200 || e.status == 201 => {
            match e.json().ok().and_then(|v| {
                v.get("client_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }) {
                Some(id) => {
                    target.oauth.client_id = Some(id);
                    target.oauth.redirect_uri = Some(REGISTERED_REDIRECT_URI.into());
                    target.discovery_notes.push(
                        "registered a public OAuth client for this run (dynamic registration)"
                            .into(),
                    );
                }
                None => target
                    .discovery_notes
                    .push("dynamic client registration answered without a client_id".into()),
            }
        }
        Ok(e) => target.discovery_notes.push(format!(
            "dynamic client registration refused (HTTP {}); give --client-id and --redirect-uri",
            e.status
        )),
        Err(e) => target
            .discovery_notes
            .push(format!("dynamic client registration failed: {e}")),
    }
}
