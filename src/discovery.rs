//! Capability discovery: what the target offers, found by asking it once per run before the
//! scenarios start. Absent capabilities make their scenarios skip with the reason.

use serde_json::{Value, json};

use crate::error::HarnessError;
use crate::http::{Client, CookieChoice, Request};
use crate::protocol::cookie::cookie_name;
use crate::protocol::session::{parse_error_body, sign_up_started_session};
use crate::target::{FRESH_SIGN_IN_REFUSED, SIGN_UP_CLOSED, Target};
use crate::test_user::TestUser;

/// The redirect URI a dynamically registered client gets: a loopback address nothing listens
/// on, since the harness reads redirects from Location headers and never follows them.
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1:4000/callback";

/// Where Better Auth is commonly mounted, tried in this order when the given base path answers
/// 404 (Better Auth's default first).
pub const COMMON_MOUNTS: &[&str] = &[
    "/api/auth",
    "/auth",
    "/api/v1/auth",
    "/v1/auth",
    "/api/identity",
    "/identity",
    "/api/better-auth",
    "/better-auth",
];

/// Probes the target and records its capabilities (and notes on what is missing). Fails (exit
/// 2, naming --base-path) when Better Auth answers at neither the base path nor a common mount.
pub async fn discover(target: &mut Target) -> Result<(), HarnessError> {
    let mut client =
        Client::new(target.endpoint()).map_err(|e| HarnessError::Usage(e.to_string()))?;
    locate_mount(target, &mut client).await?;
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

    // Session features, seen on one sign-in: bearer (set-auth-token), cookie cache
    // (session_data), and the cookie prefix. Without a given account this is the sign-up, which
    // also says whether sign-up is open; with one, sign-up is still probed (its scenarios run
    // when it is open).
    let user = TestUser::random(&target.made_up, &target.secrets);
    let sign_in_request = |email: &str, password: &str| {
        Request::post_json(
            "/sign-in/email",
            json!({"email": email, "password": password}),
        )
        .cookies(CookieChoice::None)
    };
    let sign_up = client
        .send(
            Request::post_json(
                "/sign-up/email",
                json!({"email": user.email, "password": user.password, "name": user.name}),
            )
            .cookies(CookieChoice::None),
        )
        .await;
    if let Ok(answer) = &sign_up {
        refuse_unknown_origin(target, answer)?;
    }
    // The exchange that started a session for the account discovery signed up: the sign-up's
    // own, or, where sign-up starts none, the sign-in that follows it.
    let mut fresh_session = None;
    match &sign_up {
        Ok(e) if e.status == 200 => {
            target.capabilities.insert("sign-up".into());
            if !sign_up_started_no_session(e) {
                target.capabilities.insert("sign-up-session".into());
                fresh_session = Some(e.clone());
            } else {
                target.discovery_notes.push(
                    "sign-up answered {\"token\": null} and set no cookie (emailAndPassword.autoSignIn false, or requireEmailVerification): scenarios sign in after sign-up".into(),
                );
                match client
                    .send(sign_in_request(&user.email, &user.password))
                    .await
                {
                    Ok(signed_in) if signed_in.status == 200 => fresh_session = Some(signed_in),
                    // A refusal of the account itself (403 EMAIL_NOT_VERIFIED); a 429 or a 5xx
                    // says nothing about fresh accounts, and the scenarios meet it themselves.
                    Ok(refused) if is_refusal(refused.status) => {
                        target.fresh_sign_in_refused = Some(format!(
                            "its sign-in answered HTTP {}{}",
                            refused.status,
                            code_suffix(&refused)
                        ));
                    }
                    Ok(other) => target.discovery_notes.push(format!(
                        "the sign-in after the discovery sign-up answered HTTP {}",
                        other.status
                    )),
                    Err(e) => target.discovery_notes.push(format!(
                        "the sign-in after the discovery sign-up failed: {e}"
                    )),
                }
            }
        }
        Ok(e) if is_refusal(e.status) => {
            target.sign_up_closed = Some(format!(
                "POST {}/sign-up/email answered HTTP {}{}",
                target.base_path,
                e.status,
                code_suffix(e)
            ));
        }
        Ok(e) => target.discovery_notes.push(format!(
            "the discovery sign-up answered HTTP {}: scenarios needing a fresh account may fail",
            e.status
        )),
        Err(e) => target
            .discovery_notes
            .push(format!("the discovery sign-up failed: {e}")),
    }
    if let Some(refused) = &target.fresh_sign_in_refused {
        target.discovery_notes.push(if target.accounts().is_empty() {
            format!("{FRESH_SIGN_IN_REFUSED} ({refused}); scenarios that need one are skipped")
        } else {
            format!("a freshly signed-up account cannot sign in ({refused}); scenarios use the given account(s)")
        });
    }
    if let Some(closed) = &target.sign_up_closed {
        target
            .discovery_notes
            .push(if !target.accounts().is_empty() {
                format!("sign-up is closed ({closed}); scenarios use the given account(s)")
            } else {
                format!(
                    "{SIGN_UP_CLOSED} ({closed}); scenarios that need a fresh account are skipped"
                )
            });
    }
    let sign_in = match target.accounts().first().cloned() {
        Some(account) => Some(
            client
                .send(sign_in_request(&account.email, &account.password))
                .await,
        ),
        None => None,
    };
    if let Some(Ok(answer)) = &sign_in {
        refuse_unknown_origin(target, answer)?;
    }
    let session_start = match sign_in {
        Some(Ok(e)) if e.status == 200 => Some(e),
        Some(Ok(e)) => {
            target.discovery_notes.push(format!(
                "the discovery sign-in with --user-email answered HTTP {}: check the account's email and password",
                e.status
            ));
            None
        }
        Some(Err(e)) => {
            target
                .discovery_notes
                .push(format!("the discovery sign-in failed: {e}"));
            None
        }
        None => fresh_session,
    };
    if let Some(e) = session_start {
        for cookie in e.set_cookies() {
            target.secrets.register(&cookie.value);
            target.secrets.register(&cookie.decoded_value());
        }
        adopt_cookie_prefix(target, &e);
        if let Some(token) = e.header("set-auth-token") {
            target.secrets.register(token);
            target.capabilities.insert("bearer".into());
        }
        let cache = cookie_name(&target.cookie_prefix, "session_data", target.is_https());
        if let Some(c) = e.set_cookie(&cache).filter(|c| !c.value.is_empty()) {
            target.capabilities.insert("cookie-cache".into());
            target.cookie_cache_max_age = c.max_age;
        }
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

/// Ends discovery with a usage error when the target refuses the Origin the harness sends (its
/// own, from `--target`) with Better Auth's `403 INVALID_ORIGIN`: the server is configured for
/// another URL (baseURL, trustedOrigins), so every POST would fail for a reason that is the
/// run's set-up, not a rule the server broke.
fn refuse_unknown_origin(
    target: &Target,
    answer: &crate::http::Exchange,
) -> Result<(), HarnessError> {
    if answer.status != 403 || error_code(answer).as_deref() != Some("INVALID_ORIGIN") {
        return Ok(());
    }
    let origin = target.endpoint().origin;
    Err(HarnessError::Usage(format!(
        "the target refused the harness's requests, which carry its own origin (Origin: {origin}), \
         with HTTP 403 INVALID_ORIGIN: the server's baseURL (BETTER_AUTH_URL) and trustedOrigins do \
         not name {origin}\n  fix: point --target at the URL the server is configured with (its \
         baseURL), or add {origin} to trustedOrigins on the deployment under test"
    )))
}

/// Whether a sign-up succeeded (HTTP 200 with a JSON body) without starting a session
/// (emailAndPassword.autoSignIn false, or requireEmailVerification): its user signs in after it.
pub fn sign_up_started_no_session(sign_up: &crate::http::Exchange) -> bool {
    let sets_a_cookie = sign_up.set_cookies().iter().any(|c| !c.value.is_empty());
    sign_up.status == 200
        && sign_up
            .json()
            .is_ok_and(|body| !sign_up_started_session(&body, sets_a_cookie))
}

/// A client error that is the server's answer to the request itself: a 4xx other than 429 (a
/// rate limit says nothing about the account or the sign-up).
fn is_refusal(status: u16) -> bool {
    (400..500).contains(&status) && status != 429
}

/// The `code` of an answer with Better Auth's `{code, message}` error body.
fn error_code(answer: &crate::http::Exchange) -> Option<String> {
    let body = answer.json().ok()?;
    parse_error_body(&body).ok().map(|e| e.code)
}

/// ` CODE` for a message about an answer with an error code, else nothing.
fn code_suffix(answer: &crate::http::Exchange) -> String {
    error_code(answer)
        .map(|c| format!(" {c}"))
        .unwrap_or_default()
}

/// Whether an answer to `GET <mount>/get-session` without cookies is Better Auth's: HTTP 200
/// with JSON `null` (no session) or a session object.
pub fn is_get_session_answer(status: u16, body: &str) -> bool {
    status == 200
        && serde_json::from_str::<Value>(body)
            .is_ok_and(|v| v.is_null() || v.get("session").is_some())
}

/// The mount paths to try after a 404, in order: the issuer path of a discovery document at the
/// host root (Better Auth's issuer is its base URL), then [`COMMON_MOUNTS`]; the given base path
/// is left out.
pub fn mount_candidates(given: &str, issuer: Option<&str>) -> Vec<String> {
    let from_issuer = issuer
        .and_then(|i| url::Url::parse(i).ok())
        .map(|u| crate::http::normalise_base_path(u.path()))
        .filter(|p| p != "/" && !p.is_empty());
    let mut candidates: Vec<String> = Vec::new();
    for mount in from_issuer
        .into_iter()
        .chain(COMMON_MOUNTS.iter().map(|m| m.to_string()))
    {
        if mount != given && !candidates.contains(&mount) {
            candidates.push(mount);
        }
    }
    candidates
}

/// A run against a base path that answers 404 to everything is no verdict: when
/// `<base>/get-session` answers 404, look for Better Auth elsewhere and use it if found.
async fn locate_mount(target: &mut Target, client: &mut Client) -> Result<(), HarnessError> {
    match client
        .send(Request::get("/get-session").cookies(CookieChoice::None))
        .await
    {
        Ok(e) if e.status == 404 => {}
        _ => return Ok(()),
    }
    let given = target.base_path.clone();
    let root_document = {
        let mut request = Request::get("/.well-known/openid-configuration");
        request.absolute = true;
        client.send(request).await.ok().and_then(|e| e.json().ok())
    };
    let issuer = root_document
        .as_ref()
        .and_then(|d| d.get("issuer"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let candidates = mount_candidates(&given, issuer.as_deref());
    for mount in &candidates {
        let mut request = Request::get(&format!("{mount}/get-session")).cookies(CookieChoice::None);
        request.absolute = true;
        if let Ok(e) = client.send(request).await
            && is_get_session_answer(e.status, &e.body)
        {
            let message = format!(
                "Better Auth found at {mount} (not {given}); using it. Pass --base-path {mount} to skip this probe"
            );
            println!("{message}");
            target.discovery_notes.push(message);
            target.base_path = mount.clone();
            return Ok(());
        }
    }
    Err(HarnessError::Usage(format!(
        "Better Auth does not answer at {}: GET {given}/get-session is 404, and no Better Auth \
         answered at {}; give the path its handler is mounted at with --base-path PATH \
         (e.g. --base-path /auth)",
        target.auth_url(),
        candidates.join(", ")
    )))
}

/// The cookies Better Auth names `<cookiePrefix>.<name>`, whichever plugins are on.
const PREFIXED_COOKIES: &[&str] = &["session_token", "session_data", "dont_remember"];

/// The cookie prefix a Better Auth cookie's name shows: `<prefix>.session_token` (or
/// `session_data`, `dont_remember`), optionally with `__Secure-` or `__Host-` before it.
pub fn cookie_prefix_of(name: &str) -> Option<&str> {
    let bare = name
        .strip_prefix("__Secure-")
        .or_else(|| name.strip_prefix("__Host-"))
        .unwrap_or(name);
    PREFIXED_COOKIES
        .iter()
        .find_map(|suffix| bare.strip_suffix(suffix)?.strip_suffix('.'))
        .filter(|p| !p.is_empty())
}

/// The one prefix every Better Auth cookie of an answer shares (Better Auth's
/// `advanced.cookiePrefix` names them all), `None` if they disagree or there is no session
/// cookie among them.
pub fn shared_cookie_prefix<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut prefix: Option<&str> = None;
    let mut has_session = false;
    for name in names {
        let Some(p) = cookie_prefix_of(name) else {
            continue;
        };
        has_session |= name.ends_with(".session_token");
        match prefix {
            Some(seen) if seen != p => return None,
            _ => prefix = Some(p),
        }
    }
    prefix.filter(|_| has_session).map(str::to_string)
}

/// Reads the cookie prefix from the cookies the server set, so a deployment with
/// `advanced.cookiePrefix` needs no flag. What the server sets is what every later check must
/// look for, so it is used even when it disagrees with --cookie-prefix (the note says so).
/// Cookies with different prefixes are left to the cookie scenarios to judge.
fn adopt_cookie_prefix(target: &mut Target, exchange: &crate::http::Exchange) {
    let cookies = exchange.set_cookies();
    let Some(seen) = shared_cookie_prefix(cookies.iter().map(|c| c.name.as_str())) else {
        return;
    };
    if seen != target.cookie_prefix {
        target.discovery_notes.push(format!(
            "the session cookie's prefix is `{seen}` (not `{}`); using `{seen}`",
            target.cookie_prefix
        ));
        target.cookie_prefix = seen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_prefix_from_session_cookie_names() {
        assert_eq!(
            cookie_prefix_of("better-auth.session_token"),
            Some("better-auth")
        );
        assert_eq!(
            cookie_prefix_of("__Secure-myapp.session_token"),
            Some("myapp")
        );
        assert_eq!(cookie_prefix_of("__Host-x.y.session_token"), Some("x.y"));
        assert_eq!(
            cookie_prefix_of("better-auth.session_data"),
            Some("better-auth")
        );
        assert_eq!(cookie_prefix_of("better-auth.state"), None);
        assert_eq!(cookie_prefix_of(".session_token"), None);
    }

    #[test]
    fn a_prefix_is_adopted_only_when_every_cookie_shares_it() {
        assert_eq!(
            shared_cookie_prefix(["myapp.session_token", "myapp.session_data"]),
            Some("myapp".into())
        );
        assert_eq!(
            shared_cookie_prefix(["__Secure-myapp.session_token"]),
            Some("myapp".into())
        );
        // A renamed session cookie beside the default-named cache is a server fault to report.
        assert_eq!(
            shared_cookie_prefix(["ba.session_token", "better-auth.session_data"]),
            None
        );
        assert_eq!(shared_cookie_prefix(["myapp.session_data"]), None);
    }

    #[test]
    fn get_session_answers_of_better_auth() {
        assert!(is_get_session_answer(200, "null"));
        assert!(is_get_session_answer(200, r#"{"session":{},"user":{}}"#));
        assert!(!is_get_session_answer(404, "null"));
        assert!(!is_get_session_answer(200, "<html>app</html>"));
        assert!(!is_get_session_answer(200, r#"{"ok":true}"#));
    }

    #[test]
    fn mount_candidates_start_with_the_issuer_path_and_skip_the_given_one() {
        let c = mount_candidates("/api/auth", Some("http://127.0.0.1:3000/identity/v2"));
        assert_eq!(c[0], "/identity/v2");
        assert!(!c.contains(&"/api/auth".to_string()));
        assert!(c.contains(&"/auth".to_string()));
        let root = mount_candidates("/x", Some("http://127.0.0.1:3000"));
        assert_eq!(root[0], "/api/auth");
    }
}
