//! OAuth 2.1 / OIDC: discovery documents, authorize URLs, redirect parameters, token and error
//! responses, ID token claim checks and `at_hash`.
//!
//! Pure: no I/O. The conformance steps (conform/steps/oauth.rs) fetch, these functions judge.
//! Each `check_*` returns `Err(actual)` describing what was found instead, worded for a
//! failure report (`expected` is the step's business).

use super::session::kind;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::Url;

/// Where OIDC discovery lives under the issuer (OpenID Connect Discovery 1.0 §4).
pub const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// Clock leeway for `exp`/`iat` comparisons between the harness and the server.
pub const CLOCK_LEEWAY_SECS: i64 = 60;

/// The issuer a Better Auth server mounted at `base_path` names: `<origin><base path>`
/// (`http://127.0.0.1:3000/api/auth`), never with a trailing slash.
pub fn expected_issuer(origin: &str, base_path: &str) -> String {
    format!(
        "{}{}",
        origin.trim_end_matches('/'),
        base_path.trim_end_matches('/')
    )
}

/// The discovery URL of `issuer` (`<issuer>/.well-known/openid-configuration`).
pub fn discovery_url(issuer: &str) -> String {
    format!("{}{DISCOVERY_SUFFIX}", issuer.trim_end_matches('/'))
}

/// The fields of an OpenID Provider Metadata document the harness uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub end_session_endpoint: Option<String>,
    /// RFC 7591 §3 (present when dynamic client registration is open).
    pub registration_endpoint: Option<String>,
    /// RFC 7662 §2 (RFC 8414 §2).
    pub introspection_endpoint: Option<String>,
    /// RFC 7009 §2 (RFC 8414 §2).
    pub revocation_endpoint: Option<String>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    pub response_types_supported: Option<Vec<String>>,
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    pub authorization_response_iss_parameter_supported: bool,
}

fn string_field(doc: &Value, name: &str) -> Result<Option<String>, String> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{name}` is {}, not a string", kind(other))),
    }
}

fn string_list(doc: &Value, name: &str) -> Result<Option<Vec<String>>, String> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("`{name}` holds {}, not only strings", kind(other))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!("`{name}` is {}, not an array", kind(other))),
    }
}

/// Parses a discovery document. Only the shape is judged here (an object with a string
/// `issuer`, fields of the right JSON types); the `check_*` functions judge the values.
pub fn parse_discovery(doc: &Value) -> Result<Discovery, String> {
    if !doc.is_object() {
        return Err(format!("the document is {}, not a JSON object", kind(doc)));
    }
    let issuer = string_field(doc, "issuer")?.ok_or("no `issuer`")?;
    Ok(Discovery {
        issuer,
        authorization_endpoint: string_field(doc, "authorization_endpoint")?,
        token_endpoint: string_field(doc, "token_endpoint")?,
        userinfo_endpoint: string_field(doc, "userinfo_endpoint")?,
        jwks_uri: string_field(doc, "jwks_uri")?,
        end_session_endpoint: string_field(doc, "end_session_endpoint")?,
        registration_endpoint: string_field(doc, "registration_endpoint")?,
        introspection_endpoint: string_field(doc, "introspection_endpoint")?,
        revocation_endpoint: string_field(doc, "revocation_endpoint")?,
        code_challenge_methods_supported: string_list(doc, "code_challenge_methods_supported")?,
        response_types_supported: string_list(doc, "response_types_supported")?,
        id_token_signing_alg_values_supported: string_list(
            doc,
            "id_token_signing_alg_values_supported",
        )?,
        authorization_response_iss_parameter_supported: doc
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// `issuer` must be exactly the expected string (OIDC Discovery §4.3: identical to the URL the
/// document was fetched under, minus the well-known suffix).
pub fn check_issuer(doc: &Discovery, expected: &str) -> Result<(), String> {
    if doc.issuer == expected {
        Ok(())
    } else {
        Err(format!("issuer {:?}", doc.issuer))
    }
}

/// The endpoints a code flow with OIDC needs, as absolute http(s) URLs without a fragment.
pub fn check_endpoints(doc: &Discovery) -> Result<(), String> {
    let fields = [
        ("authorization_endpoint", &doc.authorization_endpoint),
        ("token_endpoint", &doc.token_endpoint),
        ("userinfo_endpoint", &doc.userinfo_endpoint),
        ("jwks_uri", &doc.jwks_uri),
    ];
    let mut problems = Vec::new();
    for (name, value) in fields {
        match value {
            None => problems.push(format!("no `{name}`")),
            Some(v) => {
                if let Err(e) = check_endpoint_url(v) {
                    problems.push(format!("`{name}` {v:?} {e}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_endpoint_url(value: &str) -> Result<(), String> {
    let url = Url::parse(value).map_err(|e| format!("is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("has scheme {:?}", url.scheme()));
    }
    if url.fragment().is_some() {
        return Err("has a fragment".into());
    }
    Ok(())
}

/// `code_challenge_methods_supported` lists `S256` and not `plain` (OAuth 2.1 §4.1.1: a
/// client able to use S256 must; RFC 9700 §2.1.1: plain must not be offered where S256 works).
pub fn check_pkce_methods(doc: &Discovery) -> Result<(), String> {
    let Some(methods) = &doc.code_challenge_methods_supported else {
        return Err("no `code_challenge_methods_supported`".into());
    };
    let has_s256 = methods.iter().any(|m| m == "S256");
    let has_plain = methods.iter().any(|m| m.eq_ignore_ascii_case("plain"));
    match (has_s256, has_plain) {
        (true, false) => Ok(()),
        _ => Err(format!("code_challenge_methods_supported {methods:?}")),
    }
}

/// `response_types_supported` lists exactly `code` as one of its entries (an entry is a
/// space-separated combination such as `code id_token`, which is not the same thing).
pub fn check_response_types(doc: &Discovery) -> Result<(), String> {
    match &doc.response_types_supported {
        None => Err("no `response_types_supported`".into()),
        Some(types) if types.iter().any(|t| t == "code") => Ok(()),
        Some(types) => Err(format!("response_types_supported {types:?}")),
    }
}

/// `url` as a path and query on `origin` (`http://host:port`), for a client that talks to one
/// origin. Err when the URL is on another origin or is not a URL.
pub fn path_on_origin(url: &str, origin: &str) -> Result<String, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    let own = parsed.origin().ascii_serialization();
    if own != origin.trim_end_matches('/') {
        return Err(format!(
            "{url:?} is on {own}, not on the target's origin {origin}"
        ));
    }
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok(path)
}

/// An authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3 + OIDC Core §3.1.2.1).
#[derive(Clone, Debug, Default)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// More parameters, appended as given (e.g. `prompt`).
    pub extra: Vec<(String, String)>,
    /// The response_type when it is not `code` (the unsupported-response-type rule).
    pub response_type: Option<String>,
}

impl AuthorizeRequest {
    /// The parameters in the order they are sent.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "response_type".to_string(),
                self.response_type.clone().unwrap_or_else(|| "code".into()),
            ),
            ("client_id".to_string(), self.client_id.clone()),
            ("redirect_uri".to_string(), self.redirect_uri.clone()),
            ("scope".to_string(), self.scope.clone()),
        ];
        let optional = [
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                out.push((name.to_string(), v.clone()));
            }
        }
        out.extend(self.extra.iter().cloned());
        out
    }

    /// The full URL: the endpoint's own query (if any) kept, our parameters appended.
    pub fn url(&self, authorization_endpoint: &str) -> Result<Url, String> {
        let mut url = Url::parse(authorization_endpoint)
            .map_err(|e| format!("authorization_endpoint {authorization_endpoint:?}: {e}"))?;
        url.query_pairs_mut().extend_pairs(self.params());
        Ok(url)
    }
}

/// A redirect target (a `Location`, or the `url` of a JSON `{redirect: true, url}` answer) and
/// its query parameters, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct RedirectParams {
    pub url: Url,
    pub params: Vec<(String, String)>,
}

impl RedirectParams {
    /// Parses `location`, resolving a relative one (`/consent?…`) against `base`.
    pub fn parse(location: &str, base: &str) -> Result<Self, String> {
        let base = Url::parse(base).map_err(|e| format!("base {base:?}: {e}"))?;
        let url = base
            .join(location.trim())
            .map_err(|e| format!("{location:?} is not a URL ({e})"))?;
        let params = url.query_pairs().into_owned().collect();
        Ok(RedirectParams { url, params })
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn code(&self) -> Option<&str> {
        self.get("code")
    }

    pub fn state(&self) -> Option<&str> {
        self.get("state")
    }

    pub fn iss(&self) -> Option<&str> {
        self.get("iss")
    }

    pub fn error(&self) -> Option<&str> {
        self.get("error")
    }

    pub fn error_description(&self) -> Option<&str> {
        self.get("error_description")
    }

    /// The raw query string (what a login or consent page posts back as `oauth_query`).
    pub fn raw_query(&self) -> &str {
        self.url.query().unwrap_or_default()
    }

    /// The URL without its query and fragment.
    pub fn without_query(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }

    /// True when this redirect goes to `redirect_uri`: same scheme, host, port and path, and
    /// every query parameter the registered URI has (RFC 6749 §3.1.2: the client's own query
    /// is kept when parameters are added).
    pub fn is_at(&self, redirect_uri: &str) -> bool {
        let Ok(registered) = Url::parse(redirect_uri) else {
            return false;
        };
        same_place(&self.url, &registered)
            && registered
                .query_pairs()
                .all(|(n, v)| self.params.iter().any(|(pn, pv)| *pn == n && *pv == v))
    }

    /// These parameters with the fragment's appended: where an answer to a response_type whose
    /// default response mode is the fragment (token) puts them, errors included (RFC 6749
    /// §4.2.2.1; OAuth 2.0 Multiple Response Type Encoding Practices §2.1).
    pub fn with_fragment_params(&self) -> RedirectParams {
        let mut params = self.params.clone();
        if let Some(fragment) = self.url.fragment() {
            params.extend(url::form_urlencoded::parse(fragment.as_bytes()).into_owned());
        }
        RedirectParams {
            url: self.url.clone(),
            params,
        }
    }

    /// A short description for failure reports, with credential parameters masked.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self
            .params
            .iter()
            .map(|(n, v)| {
                if matches!(n.as_str(), "code" | "access_token" | "id_token" | "sig") {
                    format!("{n}=…")
                } else {
                    format!("{n}={v}")
                }
            })
            .collect();
        if shown.is_empty() {
            self.without_query()
        } else {
            format!("{}?{}", self.without_query(), shown.join("&"))
        }
    }
}

fn same_place(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// Where one hop of an authorization request leads.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthorizeHop {
    /// Back to the client's redirect_uri (with a code or an error).
    Client(RedirectParams),
    /// To a login or consent page carrying Better Auth's signed query (`sig`), which the page
    /// posts back as `oauth_query`.
    Interaction(RedirectParams),
    /// Somewhere else with an `error` parameter: the server's own error page.
    ServerError(RedirectParams),
    /// Anywhere else.
    Other(RedirectParams),
}

impl AuthorizeHop {
    pub fn params(&self) -> &RedirectParams {
        match self {
            AuthorizeHop::Client(p)
            | AuthorizeHop::Interaction(p)
            | AuthorizeHop::ServerError(p)
            | AuthorizeHop::Other(p) => p,
        }
    }
}

/// Classifies a redirect made while authorizing for `redirect_uri`.
pub fn classify_hop(params: RedirectParams, redirect_uri: &str) -> AuthorizeHop {
    if params.is_at(redirect_uri) {
        AuthorizeHop::Client(params)
    } else if params.get("sig").is_some() {
        AuthorizeHop::Interaction(params)
    } else if params.error().is_some() {
        AuthorizeHop::ServerError(params)
    } else {
        AuthorizeHop::Other(params)
    }
}

/// The `url` of Better Auth's JSON redirect answer `{"redirect": true, "url": "…"}` (consent,
/// sign-in with `oauth_query`, and redirects to `Accept: application/json` callers).
pub fn parse_json_redirect(body: &Value) -> Result<String, String> {
    let redirect = body.get("redirect").and_then(Value::as_bool);
    match (redirect, body.get("url")) {
        (Some(true), Some(Value::String(url))) => Ok(url.clone()),
        (_, Some(Value::String(_))) => Err("`url` without `redirect: true`".into()),
        (_, Some(other)) => Err(format!("`url` is {}", kind(other))),
        (_, None) => Err(format!(
            "no `url` (fields: {})",
            field_names(body).unwrap_or_else(|| kind(body).into())
        )),
    }
}

/// The form of an authorization-code exchange by a public client (RFC 6749 §4.1.3 + RFC 7636
/// §4.5).
pub fn code_exchange_form(
    code: &str,
    redirect_uri: &str,
    client_id: &str,
    code_verifier: &str,
) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code.into()),
        ("redirect_uri".into(), redirect_uri.into()),
        ("client_id".into(), client_id.into()),
        ("code_verifier".into(), code_verifier.into()),
    ]
}

/// The form of a refresh by a public client (RFC 6749 §6).
pub fn refresh_form(refresh_token: &str, client_id: &str) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), "refresh_token".into()),
        ("refresh_token".into(), refresh_token.into()),
        ("client_id".into(), client_id.into()),
    ]
}

/// The form of a token revocation by a public client (RFC 7009 §2.1): the token, its
/// `token_type_hint`, and the client_id a public client identifies itself with.
pub fn revocation_form(
    token: &str,
    token_type_hint: &str,
    client_id: &str,
) -> Vec<(String, String)> {
    vec![
        ("token".into(), token.into()),
        ("token_type_hint".into(), token_type_hint.into()),
        ("client_id".into(), client_id.into()),
    ]
}

/// The form of an introspection request from a client that names itself by client_id and
/// presents no credentials (RFC 7662 §2.1).
pub fn introspection_form(token: &str, client_id: &str) -> Vec<(String, String)> {
    vec![
        ("token".into(), token.into()),
        ("token_type_hint".into(), "access_token".into()),
        ("client_id".into(), client_id.into()),
    ]
}

/// The registration metadata of a public PKCE client (RFC 7591 §2): no secret, the code flow,
/// and `application_type: native`, which lets a loopback http redirect_uri through (OIDC
/// Registration §2; Better Auth refuses http for `web` clients).
pub fn public_client_registration(client_name: &str, redirect_uri: &str) -> Value {
    serde_json::json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    })
}

/// The registration metadata of a confidential client that authenticates with client_secret_post
/// (RFC 7591 §2; RFC 6749 §2.3.1), for the rules only an authenticated client can observe
/// (introspection, RFC 7662 §2.1).
pub fn confidential_client_registration(client_name: &str, redirect_uri: &str) -> Value {
    serde_json::json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "client_secret_post",
        "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    })
}

/// An introspection answer (RFC 7662 §2.2): `Some(active)` when it is a JSON object with a
/// boolean `active`.
pub fn introspection_active(status: u16, body: &Value) -> Result<bool, String> {
    match body.get("active").and_then(Value::as_bool) {
        Some(active) if status == 200 => Ok(active),
        _ => Err(describe_token_answer(status, body)),
    }
}

/// An introspection answer for a live access token describes it truthfully (RFC 7662 §2.2):
/// `active: true`, and the members it gives (client_id, sub, scope, exp) match what was issued.
pub fn check_introspection_truthful(
    body: &Value,
    client_id: &str,
    sub: &str,
    granted_scope: &str,
    now: i64,
) -> Result<(), String> {
    if body.get("active").and_then(Value::as_bool) != Some(true) {
        return Err(format!(
            "active is {}",
            body.get("active").unwrap_or(&Value::Null)
        ));
    }
    if let Some(found) = body.get("client_id")
        && found.as_str() != Some(client_id)
    {
        return Err(format!("client_id {found}, not {client_id:?}"));
    }
    if let Some(found) = body.get("sub")
        && found.as_str() != Some(sub)
    {
        return Err(format!("sub {found}, not the ID token's {sub:?}"));
    }
    if let Some(found) = body.get("scope") {
        let granted: Vec<&str> = granted_scope.split(' ').collect();
        let extra: Vec<&str> = found
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty() && !granted.contains(s))
            .collect();
        if !found.is_string() || !extra.is_empty() {
            return Err(format!("scope {found}, beyond the grant {granted_scope:?}"));
        }
    }
    if let Some(found) = body.get("exp")
        && found
            .as_i64()
            .is_none_or(|exp| exp <= now - CLOCK_SKEW_SECS)
    {
        return Err(format!("exp {found}: not a live token's"));
    }
    Ok(())
}

/// An authorization error response at the client (RFC 6749 §4.1.2.1): `error` is `expected`,
/// the `state` that was sent comes back exactly once, and no `code` is issued.
pub fn check_error_response(
    params: &RedirectParams,
    expected: &str,
    sent_state: Option<&str>,
) -> Result<(), String> {
    if params.code().is_some() {
        return Err(format!("a code was issued: {}", params.describe()));
    }
    match params.error() {
        None => return Err(format!("no `error` parameter: {}", params.describe())),
        Some(e) if e != expected => {
            return Err(match params.error_description() {
                Some(d) => format!("error={e} ({d:?})"),
                None => format!("error={e}"),
            });
        }
        Some(_) => {}
    }
    if let Some(sent) = sent_state {
        match params.all("state").as_slice() {
            [one] if *one == sent => {}
            [] => return Err(format!("error={expected} without the state")),
            found => return Err(format!("error={expected} with state {found:?}")),
        }
    }
    Ok(())
}

/// The token endpoint's answer to a code presented by a client it was not issued to (RFC 6749
/// §4.1.3, §5.2): 400 invalid_grant, or invalid_client (400 or 401). Never tokens.
pub fn check_foreign_code_refused(status: u16, body: &Value) -> Result<(), String> {
    match parse_oauth_error(body) {
        Ok(e) if status == 400 && e.error == "invalid_grant" => Ok(()),
        Ok(e) if matches!(status, 400 | 401) && e.error == "invalid_client" => Ok(()),
        _ => Err(describe_token_answer(status, body)),
    }
}

/// The token endpoint's answer to a code exchange that leaves out a parameter the code is bound
/// to (redirect_uri, code_verifier): 400 with invalid_request (a required parameter is missing,
/// RFC 6749 §5.2) or invalid_grant (the grant does not verify). Never tokens.
pub fn check_missing_parameter_refused(status: u16, body: &Value) -> Result<(), String> {
    match parse_oauth_error(body) {
        Ok(e)
            if status == 400 && matches!(e.error.as_str(), "invalid_request" | "invalid_grant") =>
        {
            Ok(())
        }
        _ => Err(describe_token_answer(status, body)),
    }
}

/// The introspection endpoint's answer to a client without credentials (RFC 7662 §2.1: the
/// endpoint requires authorization; §2.3: invalid client credentials get 401 as in RFC 6749
/// §5.2): 401 invalid_client, and nothing about the token.
pub fn check_introspection_refused(status: u16, body: &Value) -> Result<(), String> {
    if let Some(active) = body.get("active") {
        return Err(format!(
            "HTTP {status} with active: {active}: the token was introspected for a client without credentials"
        ));
    }
    match parse_oauth_error(body) {
        Ok(e) if status == 401 && e.error == "invalid_client" => Ok(()),
        _ => Err(describe_token_answer(status, body)),
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("id_token", &self.id_token.as_ref().map(|_| "…"))
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    /// `token_type` is case-insensitive (RFC 6749 §5.1, RFC 6750 §4).
    pub fn is_bearer(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("bearer")
    }

    /// The secrets in this response, for the redaction registry.
    pub fn secrets(&self) -> Vec<&str> {
        let mut out = vec![self.access_token.as_str()];
        out.extend(self.refresh_token.as_deref());
        out.extend(self.id_token.as_deref());
        out
    }
}

fn optional_string(body: &Value, name: &str) -> Result<Option<String>, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(format!("`{name}` is an empty string")),
        Some(other) => Err(format!("`{name}` is {}", kind(other))),
    }
}

/// Parses a token response: `access_token` and `token_type` are required strings,
/// `expires_in` (if present) a non-negative integer, the rest optional strings.
pub fn parse_token_response(body: &Value) -> Result<TokenResponse, String> {
    if !body.is_object() {
        return Err(format!("the body is {}, not a JSON object", kind(body)));
    }
    let access_token = optional_string(body, "access_token")?.ok_or("no `access_token`")?;
    let token_type = optional_string(body, "token_type")?.ok_or("no `token_type`")?;
    let expires_in = match body.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Some(n),
            _ => return Err(format!("`expires_in` is {v}, not a non-negative integer")),
        },
    };
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in,
        refresh_token: optional_string(body, "refresh_token")?,
        id_token: optional_string(body, "id_token")?,
        scope: optional_string(body, "scope")?,
    })
}

/// An OAuth error response `{error, error_description?}` (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub error_description: Option<String>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(d) => write!(f, "{} ({d:?})", self.error),
            None => f.write_str(&self.error),
        }
    }
}

pub fn parse_oauth_error(body: &Value) -> Result<OAuthError, String> {
    match body.get("error") {
        Some(Value::String(e)) if !e.is_empty() => Ok(OAuthError {
            error: e.clone(),
            error_description: body
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
        Some(other) => Err(format!("`error` is {}", kind(other))),
        None => Err(format!(
            "no `error` field ({})",
            field_names(body).unwrap_or_else(|| kind(body).into())
        )),
    }
}

/// A one-line account of a token-endpoint answer for failure reports: the status and either the
/// OAuth error or the fact that tokens came back (never the tokens).
pub fn describe_token_answer(status: u16, body: &Value) -> String {
    if let Ok(error) = parse_oauth_error(body) {
        return format!("HTTP {status} with error {error}");
    }
    if body.get("access_token").is_some() {
        let mut issued = vec!["access_token"];
        if body.get("refresh_token").is_some() {
            issued.push("refresh_token");
        }
        if body.get("id_token").is_some() {
            issued.push("id_token");
        }
        return format!("HTTP {status} with tokens ({})", issued.join(", "));
    }
    format!(
        "HTTP {status} with {}",
        field_names(body).unwrap_or_else(|| kind(body).into())
    )
}

/// True when a Cache-Control value carries the `no-store` directive.
pub fn cache_control_has_no_store(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        v.split(',').any(|d| {
            d.trim()
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("no-store")
        })
    })
}

/// The challenge scheme of a `WWW-Authenticate` value (`Bearer error="…"` → `Bearer`) and its
/// `error` parameter, if any.
pub fn parse_www_authenticate(value: &str) -> (String, Option<String>) {
    // The Bearer challenge when the header offers one among several (`Bearer, DPoP …`),
    // else the first challenge.
    let challenges = crate::protocol::challenge::parse_challenges([value]);
    let chosen = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .or(challenges.first());
    match chosen {
        Some(c) => (c.scheme.clone(), c.param("error").map(str::to_string)),
        None => (String::new(), None),
    }
}

/// The hash OIDC Core §3.1.3.6 pairs with a JWS `alg`: SHA-256/384/512 by the alg's size;
/// EdDSA uses SHA-512 (the Ed25519 hash, as the OpenID Foundation's EdDSA guidance and Better
/// Auth do). Ed448 (SHAKE256) is not supported.
fn hash_for_alg(alg: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    match alg {
        "HS256" | "RS256" | "PS256" | "ES256" | "ES256K" => Ok(Sha256::digest(input).to_vec()),
        "HS384" | "RS384" | "PS384" | "ES384" => Ok(Sha384::digest(input).to_vec()),
        "HS512" | "RS512" | "PS512" | "ES512" | "EdDSA" | "Ed25519" => {
            Ok(Sha512::digest(input).to_vec())
        }
        other => Err(format!("no at_hash hash is defined for alg {other:?}")),
    }
}

/// `at_hash` for `access_token` under `alg`: base64url (no padding) of the left half of the
/// hash of the token's ASCII bytes (OIDC Core §3.1.3.6).
pub fn at_hash(alg: &str, access_token: &str) -> Result<String, String> {
    let digest = hash_for_alg(alg, access_token.as_bytes())?;
    Ok(URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
}

/// The ID token claims the harness checks (OIDC Core §2).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdTokenClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nonce: Option<String>,
    pub at_hash: Option<String>,
    pub sid: Option<String>,
    pub auth_time: Option<i64>,
}

fn numeric_date(claims: &Value, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("`{name}` is {}, not a number", kind(v))),
    }
}

/// Parses a JWT claims set into [`IdTokenClaims`] (`aud` may be a string or an array).
pub fn parse_id_token_claims(claims: &Value) -> Result<IdTokenClaims, String> {
    if !claims.is_object() {
        return Err(format!(
            "the claims are {}, not a JSON object",
            kind(claims)
        ));
    }
    let aud = match claims.get("aud") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`aud` holds {}", kind(v)))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`aud` is {}", kind(other))),
    };
    Ok(IdTokenClaims {
        iss: string_field(claims, "iss")?,
        sub: string_field(claims, "sub")?,
        aud,
        azp: string_field(claims, "azp")?,
        exp: numeric_date(claims, "exp")?,
        iat: numeric_date(claims, "iat")?,
        nonce: string_field(claims, "nonce")?,
        at_hash: string_field(claims, "at_hash")?,
        sid: string_field(claims, "sid")?,
        auth_time: numeric_date(claims, "auth_time")?,
    })
}

/// `iss` equals the issuer exactly (OIDC Core §3.1.3.7 step 2).
pub fn check_id_token_iss(claims: &IdTokenClaims, issuer: &str) -> Result<(), String> {
    match &claims.iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(iss) => Err(format!("iss {iss:?}")),
        None => Err("no `iss` claim".into()),
    }
}

/// `aud` contains the client_id; with several audiences `azp` names the client (OIDC Core
/// §3.1.3.7 steps 3–5).
pub fn check_id_token_aud(claims: &IdTokenClaims, client_id: &str) -> Result<(), String> {
    if claims.aud.is_empty() {
        return Err("no `aud` claim".into());
    }
    if !claims.aud.iter().any(|a| a == client_id) {
        return Err(format!("aud {:?}", claims.aud));
    }
    if claims.aud.len() > 1 && claims.azp.as_deref() != Some(client_id) {
        return Err(format!(
            "aud {:?} with azp {:?} (several audiences need azp = client_id)",
            claims.aud, claims.azp
        ));
    }
    Ok(())
}

/// `exp` lies in the future and `iat` not in the future (both required; `now` in Unix seconds,
/// with [`CLOCK_LEEWAY_SECS`] of leeway).
pub fn check_id_token_times(claims: &IdTokenClaims, now: i64) -> Result<(), String> {
    let exp = claims.exp.ok_or("no `exp` claim")?;
    let iat = claims.iat.ok_or("no `iat` claim")?;
    if exp + CLOCK_LEEWAY_SECS <= now {
        return Err(format!("exp {exp}, {} s in the past", now - exp));
    }
    if iat > now + CLOCK_LEEWAY_SECS {
        return Err(format!("iat {iat}, {} s in the future", iat - now));
    }
    if exp <= iat {
        return Err(format!("exp {exp} not after iat {iat}"));
    }
    Ok(())
}

/// `nonce` equals the one sent at authorize (OIDC Core §3.1.3.7 step 11).
pub fn check_id_token_nonce(claims: &IdTokenClaims, sent: &str) -> Result<(), String> {
    match &claims.nonce {
        Some(n) if n == sent => Ok(()),
        Some(n) => Err(format!("nonce {n:?}")),
        None => Err("no `nonce` claim".into()),
    }
}

/// When `at_hash` is present it matches the access token (OIDC Core §3.1.3.8; the claim is
/// optional in the code flow, so its absence passes).
pub fn check_at_hash(claims: &IdTokenClaims, alg: &str, access_token: &str) -> Result<(), String> {
    let Some(found) = &claims.at_hash else {
        return Ok(());
    };
    let expected = at_hash(alg, access_token)?;
    if *found == expected {
        Ok(())
    } else {
        Err(format!(
            "at_hash {found:?}, which is not the {alg} at_hash of the access token"
        ))
    }
}

/// An ID token issued at refresh against the original one (OIDC Core §12.2): the same iss, sub
/// and aud; an iat of its own (not before the original's); and an auth_time, when present, that
/// is still the original authentication's.
pub fn check_refreshed_id_token(
    original: &IdTokenClaims,
    refreshed: &IdTokenClaims,
) -> Result<(), String> {
    if refreshed.iss != original.iss {
        return Err(format!(
            "iss {:?}, the original's {:?}",
            refreshed.iss, original.iss
        ));
    }
    if refreshed.sub != original.sub {
        return Err(format!(
            "sub {:?}, the original's {:?}",
            refreshed.sub, original.sub
        ));
    }
    let (mut refreshed_aud, mut original_aud) = (refreshed.aud.clone(), original.aud.clone());
    refreshed_aud.sort();
    original_aud.sort();
    if refreshed_aud != original_aud {
        return Err(format!(
            "aud {:?}, the original's {:?}",
            refreshed.aud, original.aud
        ));
    }
    match (refreshed.iat, original.iat) {
        (Some(new), Some(old)) if new < old => {
            return Err(format!("iat {new}, before the original's {old}"));
        }
        (None, _) => return Err("no `iat` claim".into()),
        _ => {}
    }
    if let Some(auth_time) = refreshed.auth_time
        && original.auth_time != Some(auth_time)
    {
        return Err(format!(
            "auth_time {auth_time}, not the original authentication's {:?}",
            original.auth_time
        ));
    }
    Ok(())
}

/// `subject_types_supported` is present with at least one value (OIDC Discovery §3: REQUIRED).
pub fn check_subject_types(doc: &Value) -> Result<(), String> {
    match doc.get("subject_types_supported") {
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Ok(())
        }
        Some(other) => Err(format!("subject_types_supported is {other}")),
        None => Err("no subject_types_supported".into()),
    }
}

/// When `scopes_supported` is listed it names `openid` (OIDC Discovery §3: the server MUST
/// support the openid scope value).
pub fn check_scopes_name_openid(doc: &Value) -> Result<(), String> {
    match doc.get("scopes_supported") {
        None => Ok(()),
        Some(Value::Array(items)) if items.iter().any(|v| v.as_str() == Some("openid")) => Ok(()),
        Some(other) => Err(format!("scopes_supported is {other}, without \"openid\"")),
    }
}

/// No member of the metadata is an empty list (OIDC Discovery §3: members with zero elements
/// are omitted).
pub fn check_no_empty_lists(doc: &Value) -> Result<(), String> {
    let empty: Vec<&str> = doc
        .as_object()
        .map(|members| {
            members
                .iter()
                .filter(|(_, v)| v.as_array().is_some_and(Vec::is_empty))
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(format!("empty lists: {}", empty.join(", ")))
    }
}

/// `id_token_signing_alg_values_supported` includes RS256 (OIDC Discovery §3: "MUST be
/// included").
pub fn check_rs256_listed(doc: &Discovery) -> Result<(), String> {
    match &doc.id_token_signing_alg_values_supported {
        Some(list) if list.iter().any(|a| a == "RS256") => Ok(()),
        Some(list) => Err(format!("id_token_signing_alg_values_supported {list:?}")),
        None => Err("no id_token_signing_alg_values_supported".into()),
    }
}

/// A token request for a grant the server must not serve (the password grant, gone in OAuth
/// 2.1) is refused: a 4xx JSON error, and no token.
pub fn check_grant_refused(status: u16, body: &Value) -> Result<(), String> {
    if body.get("access_token").is_some() || !(400..500).contains(&status) {
        return Err(describe_token_answer(status, body));
    }
    parse_oauth_error(body)
        .map(|_| ())
        .map_err(|_| describe_token_answer(status, body))
}

/// The RFC 8414 metadata URL for `issuer`: the well-known segment goes between the origin and
/// the issuer's path (RFC 8414 §3.1).
pub fn authorization_server_metadata_url(issuer: &str) -> Result<String, String> {
    let url = Url::parse(issuer).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
    let path = url.path().trim_end_matches('/');
    Ok(format!(
        "{}/.well-known/oauth-authorization-server{path}",
        url.origin().ascii_serialization()
    ))
}

/// Seconds of clock skew the time checks allow between the harness and the server.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// After an authorization request with `max_age`, the ID token carries `auth_time` (OIDC Core
/// §3.1.2.1, §2: REQUIRED then), and it is not older than `max_age`: an older authentication
/// must have been renewed before the code was issued (§3.1.2.1).
pub fn check_auth_time(claims: &IdTokenClaims, now: i64, max_age: i64) -> Result<(), String> {
    let Some(auth_time) = claims.auth_time else {
        return Err("no `auth_time` claim".into());
    };
    if auth_time > now + CLOCK_SKEW_SECS {
        return Err(format!(
            "auth_time {auth_time} is in the future (now {now})"
        ));
    }
    if now - auth_time > max_age + CLOCK_SKEW_SECS {
        return Err(format!(
            "auth_time {auth_time} is {} s old, beyond max_age {max_age}: the user was not re-authenticated",
            now - auth_time
        ));
    }
    Ok(())
}

/// Credential parameters a redirect hands to the client, in its query or its fragment
/// (`code`, `access_token`, `id_token`): what an implicit or hybrid answer would carry.
pub fn delivered_credentials(params: &RedirectParams) -> Vec<String> {
    let fragment: Vec<(String, String)> = params
        .url
        .fragment()
        .map(|f| {
            url::form_urlencoded::parse(f.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    params
        .params
        .iter()
        .chain(fragment.iter())
        .filter(|(n, _)| matches!(n.as_str(), "code" | "access_token" | "id_token"))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The ID token's `alg` is one `id_token_signing_alg_values_supported` lists (OIDC Discovery
/// §3: the member is REQUIRED; what the OP promises is what it issues).
pub fn check_alg_advertised(alg: &str, advertised: Option<&[String]>) -> Result<(), String> {
    match advertised {
        None => Err("the discovery document has no id_token_signing_alg_values_supported".into()),
        Some(list) if list.iter().any(|a| a == alg) => Ok(()),
        Some(list) => Err(format!(
            "the ID token is signed with {alg:?}, which id_token_signing_alg_values_supported {list:?} does not list"
        )),
    }
}

/// A grant for a request that named a scope the server does not know: the unknown scope is not
/// granted, and since the grant differs from the request, the token response says what was
/// granted (RFC 6749 §3.3: the server may ignore part of the scope, and then MUST state it).
pub fn check_unknown_scope_left_out(granted: Option<&str>, unknown: &str) -> Result<(), String> {
    match granted {
        None => Err(format!(
            "a token response without `scope`, although the grant cannot include {unknown:?} and so differs from the request"
        )),
        Some(scope) if scope.split(' ').any(|s| s == unknown) => {
            Err(format!("scope {scope:?}: the unknown scope was granted"))
        }
        Some(_) => Ok(()),
    }
}

/// The end-session URL (OIDC RP-Initiated Logout 1.0 §2).
pub fn end_session_url(
    endpoint: &str,
    id_token_hint: &str,
    post_logout_redirect_uri: &str,
    state: &str,
) -> Result<Url, String> {
    let mut url =
        Url::parse(endpoint).map_err(|e| format!("end_session_endpoint {endpoint:?}: {e}"))?;
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token_hint)
        .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
        .append_pair("state", state);
    Ok(url)
}

fn field_names(v: &Value) -> Option<String> {
    v.as_object().map(|m| {
        format!(
            "fields {}",
            m.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference_discovery() -> Value {
        // Trimmed from the real reference (reference-observations O01).
        json!({
            "issuer": "http://127.0.0.1:3000/api/auth",
            "authorization_endpoint": "http://127.0.0.1:3000/api/auth/oauth2/authorize",
            "token_endpoint": "http://127.0.0.1:3000/api/auth/oauth2/token",
            "jwks_uri": "http://127.0.0.1:3000/api/auth/jwks",
            "userinfo_endpoint": "http://127.0.0.1:3000/api/auth/oauth2/userinfo",
            "end_session_endpoint": "http://127.0.0.1:3000/api/auth/oauth2/end-session",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "id_token_signing_alg_values_supported": ["EdDSA"]
        })
    }

    #[test]
    fn optional_endpoints_are_read() {
        let mut doc = reference_discovery();
        doc["revocation_endpoint"] = json!("http://127.0.0.1:3000/api/auth/oauth2/revoke");
        doc["introspection_endpoint"] = json!("http://127.0.0.1:3000/api/auth/oauth2/introspect");
        let d = parse_discovery(&doc).unwrap();
        assert_eq!(
            d.revocation_endpoint.as_deref(),
            Some("http://127.0.0.1:3000/api/auth/oauth2/revoke")
        );
        assert!(d.introspection_endpoint.is_some());
        assert_eq!(d.registration_endpoint, None);
        doc["registration_endpoint"] = json!(1);
        assert!(
            parse_discovery(&doc)
                .unwrap_err()
                .contains("registration_endpoint")
        );
    }

    #[test]
    fn error_responses_at_the_client() {
        let base = "http://127.0.0.1:3000/api/auth/oauth2/authorize";
        // Reference transcript O60 (prompt=none without a session).
        let ok = RedirectParams::parse(
            "http://127.0.0.1:4000/callback?error=login_required&error_description=authentication+required&state=st-1&iss=http%3A%2F%2F127.0.0.1%3A3000%2Fapi%2Fauth",
            base,
        )
        .unwrap();
        check_error_response(&ok, "login_required", Some("st-1")).unwrap();
        let e = check_error_response(&ok, "access_denied", Some("st-1")).unwrap_err();
        assert!(e.contains("error=login_required"), "{e}");
        let e = check_error_response(&ok, "login_required", Some("other")).unwrap_err();
        assert!(e.contains("state [\"st-1\"]"), "{e}");
        let no_state =
            RedirectParams::parse("http://127.0.0.1:4000/callback?error=access_denied", base)
                .unwrap();
        let e = check_error_response(&no_state, "access_denied", Some("st-1")).unwrap_err();
        assert!(e.contains("without the state"), "{e}");
        let code = RedirectParams::parse(
            "http://127.0.0.1:4000/callback?code=abc&error=access_denied&state=st-1",
            base,
        )
        .unwrap();
        let e = check_error_response(&code, "access_denied", Some("st-1")).unwrap_err();
        assert!(e.contains("a code was issued") && !e.contains("abc"), "{e}");
        let nothing =
            RedirectParams::parse("http://127.0.0.1:4000/callback?state=st-1", base).unwrap();
        assert!(
            check_error_response(&nothing, "access_denied", Some("st-1"))
                .unwrap_err()
                .contains("no `error`")
        );
    }

    #[test]
    fn a_code_of_another_client_must_be_refused() {
        // Reference: {"error_description":"invalid client_id","error":"invalid_grant"}.
        let grant = json!({"error": "invalid_grant", "error_description": "invalid client_id"});
        check_foreign_code_refused(400, &grant).unwrap();
        check_foreign_code_refused(401, &json!({"error": "invalid_client"})).unwrap();
        check_foreign_code_refused(400, &json!({"error": "invalid_client"})).unwrap();
        assert!(check_foreign_code_refused(401, &grant).is_err());
        assert!(check_foreign_code_refused(400, &json!({"error": "invalid_request"})).is_err());
        let e = check_foreign_code_refused(
            200,
            &json!({"access_token": "a", "token_type": "Bearer", "id_token": "x"}),
        )
        .unwrap_err();
        assert!(e.contains("HTTP 200 with tokens"), "{e}");
    }

    #[test]
    fn introspection_without_credentials_must_be_refused() {
        // Reference transcript O45.
        let refused =
            json!({"error_description": "missing required credentials", "error": "invalid_client"});
        check_introspection_refused(401, &refused).unwrap();
        assert!(check_introspection_refused(400, &refused).is_err());
        let e = check_introspection_refused(200, &json!({"active": true, "sub": "u"})).unwrap_err();
        assert!(e.contains("active: true"), "{e}");
        let e = check_introspection_refused(200, &json!({"active": false})).unwrap_err();
        assert!(e.contains("active: false"), "{e}");
    }

    #[test]
    fn revocation_and_introspection_forms() {
        let form = revocation_form("rt", "refresh_token", "cid");
        assert!(form.contains(&("token".into(), "rt".into())));
        assert!(form.contains(&("token_type_hint".into(), "refresh_token".into())));
        assert!(form.contains(&("client_id".into(), "cid".into())));
        let form = introspection_form("at", "cid");
        assert!(!form.iter().any(|(n, _)| n == "client_secret"));
        let body = public_client_registration("x", "http://127.0.0.1:4000/callback");
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(body["redirect_uris"][0], "http://127.0.0.1:4000/callback");
    }

    #[test]
    fn the_reference_discovery_document_passes_every_check() {
        let d = parse_discovery(&reference_discovery()).unwrap();
        let issuer = expected_issuer("http://127.0.0.1:3000", "/api/auth");
        assert_eq!(issuer, "http://127.0.0.1:3000/api/auth");
        check_issuer(&d, &issuer).unwrap();
        check_endpoints(&d).unwrap();
        check_pkce_methods(&d).unwrap();
        check_response_types(&d).unwrap();
        assert!(d.authorization_response_iss_parameter_supported);
        assert_eq!(
            discovery_url(&issuer),
            "http://127.0.0.1:3000/api/auth/.well-known/openid-configuration"
        );
    }

    #[test]
    fn discovery_shape_errors() {
        assert!(parse_discovery(&json!([])).is_err());
        assert!(parse_discovery(&json!({})).unwrap_err().contains("issuer"));
        let mut doc = reference_discovery();
        doc["code_challenge_methods_supported"] = json!("S256");
        assert!(parse_discovery(&doc).unwrap_err().contains("not an array"));
    }

    #[test]
    fn issuer_must_match_exactly() {
        let d = parse_discovery(&reference_discovery()).unwrap();
        assert!(check_issuer(&d, "http://127.0.0.1:3000").is_err());
        assert!(check_issuer(&d, "http://127.0.0.1:3000/api/auth/").is_err());
    }

    #[test]
    fn missing_or_relative_endpoints_fail() {
        let mut doc = reference_discovery();
        doc.as_object_mut().unwrap().remove("userinfo_endpoint");
        doc["jwks_uri"] = json!("/api/auth/jwks");
        let e = check_endpoints(&parse_discovery(&doc).unwrap()).unwrap_err();
        assert!(e.contains("no `userinfo_endpoint`"), "{e}");
        assert!(e.contains("jwks_uri"), "{e}");
    }

    #[test]
    fn plain_pkce_or_missing_s256_fails() {
        for methods in [json!(["S256", "plain"]), json!(["plain"]), json!([])] {
            let mut doc = reference_discovery();
            doc["code_challenge_methods_supported"] = methods;
            assert!(check_pkce_methods(&parse_discovery(&doc).unwrap()).is_err());
        }
        let mut doc = reference_discovery();
        doc.as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        assert!(check_pkce_methods(&parse_discovery(&doc).unwrap()).is_err());
    }

    #[test]
    fn response_types_need_plain_code() {
        let mut doc = reference_discovery();
        doc["response_types_supported"] = json!(["code id_token", "token"]);
        assert!(check_response_types(&parse_discovery(&doc).unwrap()).is_err());
        doc["response_types_supported"] = json!(["code id_token", "code"]);
        assert!(check_response_types(&parse_discovery(&doc).unwrap()).is_ok());
    }

    #[test]
    fn paths_on_the_same_origin_only() {
        assert_eq!(
            path_on_origin(
                "http://127.0.0.1:3000/api/auth/oauth2/authorize?x=1",
                "http://127.0.0.1:3000"
            )
            .unwrap(),
            "/api/auth/oauth2/authorize?x=1"
        );
        assert!(path_on_origin("http://evil.example/api", "http://127.0.0.1:3000").is_err());
        assert!(path_on_origin("/relative", "http://127.0.0.1:3000").is_err());
    }

    #[test]
    fn authorize_urls_carry_every_parameter_encoded() {
        let request = AuthorizeRequest {
            client_id: "client".into(),
            redirect_uri: "http://127.0.0.1:4000/callback".into(),
            scope: "openid profile".into(),
            state: Some("a b+c/=&dé~".into()),
            nonce: Some("n-1".into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            extra: vec![("prompt".into(), "consent".into())],
            response_type: None,
        };
        let url = request
            .url("http://127.0.0.1:3000/api/auth/oauth2/authorize?keep=1")
            .unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("keep".into(), "1".into()));
        assert!(pairs.contains(&("response_type".into(), "code".into())));
        assert!(pairs.contains(&("state".into(), "a b+c/=&dé~".into())));
        assert!(pairs.contains(&(
            "redirect_uri".into(),
            "http://127.0.0.1:4000/callback".into()
        )));
        assert!(pairs.contains(&("code_challenge_method".into(), "S256".into())));
        assert!(pairs.contains(&("prompt".into(), "consent".into())));
        let bare = AuthorizeRequest {
            client_id: "c".into(),
            redirect_uri: "http://x/cb".into(),
            scope: "openid".into(),
            ..Default::default()
        };
        assert!(!bare.params().iter().any(|(n, _)| n == "code_challenge"));
    }

    #[test]
    fn redirects_parse_and_classify() {
        let base = "http://127.0.0.1:3000/api/auth/oauth2/authorize";
        let redirect_uri = "http://127.0.0.1:4000/callback";
        let consent = RedirectParams::parse(
            "/consent?response_type=code&state=st-1&client_id=c&ba_param=state&sig=abc%3D",
            base,
        )
        .unwrap();
        assert_eq!(
            consent.url.as_str().split('?').next(),
            Some("http://127.0.0.1:3000/consent")
        );
        assert_eq!(consent.get("sig"), Some("abc="));
        assert!(consent.raw_query().starts_with("response_type=code"));
        assert!(matches!(
            classify_hop(consent, redirect_uri),
            AuthorizeHop::Interaction(_)
        ));

        let back = RedirectParams::parse(
            "http://127.0.0.1:4000/callback?code=XYZ&state=a+b%2Bc%2F%3D%26d%C3%A9%7E&iss=http%3A%2F%2F127.0.0.1%3A3000%2Fapi%2Fauth",
            base,
        )
        .unwrap();
        assert_eq!(back.code(), Some("XYZ"));
        assert_eq!(back.state(), Some("a b+c/=&dé~"));
        assert_eq!(back.iss(), Some("http://127.0.0.1:3000/api/auth"));
        assert!(!back.describe().contains("XYZ"));
        assert!(matches!(
            classify_hop(back, redirect_uri),
            AuthorizeHop::Client(_)
        ));

        let error_page = RedirectParams::parse(
            "http://127.0.0.1:3000/api/auth/error?error=invalid_redirect&error_description=x",
            base,
        )
        .unwrap();
        assert!(matches!(
            classify_hop(error_page, redirect_uri),
            AuthorizeHop::ServerError(_)
        ));
        let elsewhere =
            RedirectParams::parse("http://127.0.0.1:4000/callback-evil?code=1", base).unwrap();
        assert!(!elsewhere.is_at(redirect_uri));
        assert!(matches!(
            classify_hop(elsewhere, redirect_uri),
            AuthorizeHop::Other(_)
        ));
    }

    #[test]
    fn redirect_targets_compare_origin_path_and_registered_query() {
        let at = |loc: &str, uri: &str| RedirectParams::parse(loc, "http://x/").unwrap().is_at(uri);
        assert!(at(
            "http://127.0.0.1:4000/callback?code=1",
            "http://127.0.0.1:4000/callback"
        ));
        assert!(!at(
            "http://127.0.0.1:4001/callback?code=1",
            "http://127.0.0.1:4000/callback"
        ));
        assert!(!at(
            "https://127.0.0.1:4000/callback",
            "http://127.0.0.1:4000/callback"
        ));
        assert!(!at(
            "http://127.0.0.1:4000/callback/x",
            "http://127.0.0.1:4000/callback"
        ));
        assert!(at(
            "http://app.test/cb?tenant=a&code=1",
            "http://app.test/cb?tenant=a"
        ));
        assert!(!at(
            "http://app.test/cb?code=1",
            "http://app.test/cb?tenant=a"
        ));
    }

    #[test]
    fn json_redirects() {
        assert_eq!(
            parse_json_redirect(&json!({"redirect": true, "url": "/consent?x=1"})).unwrap(),
            "/consent?x=1"
        );
        assert!(parse_json_redirect(&json!({"redirect": false, "token": "t"})).is_err());
        assert!(parse_json_redirect(&json!({"url": "/x"})).is_err());
        assert!(parse_json_redirect(&json!(null)).is_err());
    }

    #[test]
    fn token_responses() {
        let body = json!({
            "access_token": "ouLkwEDKegUqifgVsqNUarGiiDnSQAoy", "expires_in": 3600,
            "expires_at": 1795423159, "token_type": "Bearer",
            "refresh_token": "UXRHGYZuPMdWcmhyoksGFQyPMqgUBcVH",
            "scope": "openid profile email offline_access", "id_token": "a.b.c"
        });
        let t = parse_token_response(&body).unwrap();
        assert!(t.is_bearer());
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.secrets().len(), 3);
        assert!(!format!("{t:?}").contains("ouLk"));
        let lower = json!({"access_token": "x", "token_type": "bearer"});
        let t = parse_token_response(&lower).unwrap();
        assert!(t.is_bearer() && t.refresh_token.is_none() && t.expires_in.is_none());
        assert!(parse_token_response(&json!({"token_type": "Bearer"})).is_err());
        assert!(parse_token_response(&json!({"access_token": "x"})).is_err());
        assert!(
            parse_token_response(
                &json!({"access_token": "x", "token_type": "Bearer", "expires_in": "3600"})
            )
            .is_err()
        );
        assert!(
            !parse_token_response(&json!({"access_token": "x", "token_type": "mac"}))
                .unwrap()
                .is_bearer()
        );
    }

    #[test]
    fn oauth_errors() {
        let e = parse_oauth_error(
            &json!({"error_description": "invalid code", "error": "invalid_grant"}),
        )
        .unwrap();
        assert_eq!(e.error, "invalid_grant");
        assert_eq!(e.to_string(), "invalid_grant (\"invalid code\")");
        assert!(parse_oauth_error(&json!({"message": "x", "code": "Y"})).is_err());
        assert_eq!(
            describe_token_answer(
                401,
                &json!({"error": "invalid_request", "error_description": "code verification failed"})
            ),
            "HTTP 401 with error invalid_request (\"code verification failed\")"
        );
        assert_eq!(
            describe_token_answer(200, &json!({"access_token": "x", "id_token": "y"})),
            "HTTP 200 with tokens (access_token, id_token)"
        );
    }

    #[test]
    fn cache_control_and_www_authenticate() {
        assert!(cache_control_has_no_store(Some("no-store")));
        assert!(cache_control_has_no_store(Some("private, No-Store")));
        assert!(!cache_control_has_no_store(Some("no-cache")));
        assert!(!cache_control_has_no_store(None));
        assert_eq!(
            parse_www_authenticate(
                r#"Bearer error="invalid_token", error_description="Invalid access token""#
            ),
            ("Bearer".to_string(), Some("invalid_token".to_string()))
        );
        assert_eq!(
            parse_www_authenticate(r#"Bearer realm="x""#),
            ("Bearer".to_string(), None)
        );
        assert_eq!(
            parse_www_authenticate("Bearer"),
            ("Bearer".to_string(), None)
        );
        // A provider that also offers DPoP lists both challenges in one header.
        assert_eq!(
            parse_www_authenticate(r#"Bearer, DPoP algs="EdDSA ES256""#),
            ("Bearer".to_string(), None)
        );
        assert_eq!(
            parse_www_authenticate(r#"DPoP algs="ES256", Bearer error="invalid_token""#),
            ("Bearer".to_string(), Some("invalid_token".to_string()))
        );
    }

    #[test]
    fn at_hash_vectors() {
        // OIDC Core A.3 (RS256): access token and at_hash from the spec's example.
        assert_eq!(
            at_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").unwrap(),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // Better Auth 1.7.5 with the EdDSA key (probed on the reference): SHA-512, left half.
        assert_eq!(
            at_hash("EdDSA", "XUBdhVPkrfsIWYjiUiBDauUmqXsyXaEE").unwrap(),
            "nV82rp0kyvReALrYPdGcEn4A9s_kGlRWq4uRP4I3MFs"
        );
        // Reference observations O28 (RS256).
        assert_eq!(
            at_hash("RS256", "ouLkwEDKegUqifgVsqNUarGiiDnSQAoy").unwrap(),
            "KEbkpeYfaKJlYPKElJeuZA"
        );
        assert_eq!(at_hash("ES384", "x").unwrap().len(), 32);
        assert!(at_hash("none", "x").is_err());
    }

    fn claims() -> IdTokenClaims {
        parse_id_token_claims(&json!({
            "auth_time": 1795419559, "acr": "0", "at_hash": "KEbkpeYfaKJlYPKElJeuZA",
            "iss": "http://127.0.0.1:3000/api/auth", "sub": "AN7m1UPIXOFHFuplCQGZkltfwQa01PMS",
            "aud": "NiHjFztmeImNkyTbvgXYmraqGRhBfPbR", "nonce": "n-1",
            "iat": 1795419559, "exp": 1795455559
        }))
        .unwrap()
    }

    #[test]
    fn id_token_claim_checks_pass_on_the_reference_token() {
        let c = claims();
        check_id_token_iss(&c, "http://127.0.0.1:3000/api/auth").unwrap();
        check_id_token_aud(&c, "NiHjFztmeImNkyTbvgXYmraqGRhBfPbR").unwrap();
        check_id_token_times(&c, 1795419600).unwrap();
        check_id_token_nonce(&c, "n-1").unwrap();
        check_at_hash(&c, "RS256", "ouLkwEDKegUqifgVsqNUarGiiDnSQAoy").unwrap();
    }

    #[test]
    fn id_token_claim_checks_catch_each_problem() {
        let c = claims();
        assert!(check_id_token_iss(&c, "http://127.0.0.1:3000").is_err());
        assert!(check_id_token_aud(&c, "other").is_err());
        assert!(check_id_token_times(&c, 1795455559 + 3600).is_err());
        assert!(
            check_id_token_times(&c, 1795419559 - 3600).is_err(),
            "iat in the future"
        );
        assert!(check_id_token_nonce(&c, "n-2").is_err());
        assert!(check_at_hash(&c, "RS256", "another-access-token").is_err());
        let mut no_nonce = c.clone();
        no_nonce.nonce = None;
        assert!(check_id_token_nonce(&no_nonce, "n-1").is_err());
        let mut no_at_hash = c.clone();
        no_at_hash.at_hash = None;
        assert!(check_at_hash(&no_at_hash, "RS256", "anything").is_ok());
        let mut multi = c.clone();
        multi.aud = vec!["NiHjFztmeImNkyTbvgXYmraqGRhBfPbR".into(), "api".into()];
        assert!(check_id_token_aud(&multi, "NiHjFztmeImNkyTbvgXYmraqGRhBfPbR").is_err());
        multi.azp = Some("NiHjFztmeImNkyTbvgXYmraqGRhBfPbR".into());
        assert!(check_id_token_aud(&multi, "NiHjFztmeImNkyTbvgXYmraqGRhBfPbR").is_ok());
        assert!(parse_id_token_claims(&json!({"aud": 5})).is_err());
        assert!(parse_id_token_claims(&json!({"exp": "soon"})).is_err());
    }

    #[test]
    fn end_session_urls() {
        let url = end_session_url(
            "http://127.0.0.1:3000/api/auth/oauth2/end-session",
            "a.b.c",
            "http://127.0.0.1:4000/logged-out",
            "ls 1",
        )
        .unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("id_token_hint".into(), "a.b.c".into()),
                (
                    "post_logout_redirect_uri".into(),
                    "http://127.0.0.1:4000/logged-out".into()
                ),
                ("state".into(), "ls 1".into()),
            ]
        );
    }

    #[test]
    fn auth_time_must_be_present_and_within_max_age() {
        let c = claims();
        let auth_time = 1795419559;
        check_auth_time(&c, auth_time + 100, 600).unwrap();
        let e = check_auth_time(&c, auth_time + 600 + CLOCK_SKEW_SECS + 1, 600).unwrap_err();
        assert!(e.contains("beyond max_age"), "{e}");
        let e = check_auth_time(&c, auth_time - CLOCK_SKEW_SECS - 1, 600).unwrap_err();
        assert!(e.contains("future"), "{e}");
        let mut without = c.clone();
        without.auth_time = None;
        assert!(check_auth_time(&without, auth_time, 600).is_err());
    }

    #[test]
    fn credentials_in_query_or_fragment_are_found() {
        let base = "http://127.0.0.1:4000/";
        let error = RedirectParams::parse(
            "http://127.0.0.1:4000/callback?error=unsupported_response_type&state=s",
            base,
        )
        .unwrap();
        assert!(delivered_credentials(&error).is_empty());
        let implicit = RedirectParams::parse(
            "http://127.0.0.1:4000/callback#access_token=x&token_type=Bearer&state=s",
            base,
        )
        .unwrap();
        assert_eq!(delivered_credentials(&implicit), ["access_token"]);
        let fragment_error = RedirectParams::parse(
            "http://127.0.0.1:4000/callback#error=unsupported_response_type&state=s",
            base,
        )
        .unwrap()
        .with_fragment_params();
        check_error_response(&fragment_error, "unsupported_response_type", Some("s")).unwrap();
        let code = RedirectParams::parse("http://127.0.0.1:4000/callback?code=c", base).unwrap();
        assert_eq!(delivered_credentials(&code), ["code"]);
    }

    #[test]
    fn the_id_token_alg_must_be_advertised() {
        let list = vec!["EdDSA".to_string(), "RS256".to_string()];
        check_alg_advertised("EdDSA", Some(&list)).unwrap();
        assert!(check_alg_advertised("ES256", Some(&list)).is_err());
        assert!(check_alg_advertised("EdDSA", None).is_err());
    }

    #[test]
    fn a_missing_bound_parameter_is_refused_with_400() {
        check_missing_parameter_refused(400, &json!({"error": "invalid_request"})).unwrap();
        check_missing_parameter_refused(400, &json!({"error": "invalid_grant"})).unwrap();
        assert!(
            check_missing_parameter_refused(401, &json!({"error": "invalid_request"})).is_err()
        );
        assert!(
            check_missing_parameter_refused(
                200,
                &json!({"access_token": "a", "token_type": "Bearer"})
            )
            .is_err()
        );
    }

    #[test]
    fn a_refreshed_id_token_keeps_the_original_identity() {
        let original = claims();
        let mut refreshed = original.clone();
        refreshed.iat = original.iat.map(|t| t + 30);
        refreshed.exp = original.exp.map(|t| t + 30);
        check_refreshed_id_token(&original, &refreshed).unwrap();
        let mut other = refreshed.clone();
        other.sub = Some("someone-else".into());
        assert!(
            check_refreshed_id_token(&original, &other)
                .unwrap_err()
                .contains("sub")
        );
        let mut later = refreshed.clone();
        later.auth_time = refreshed.iat;
        assert!(
            check_refreshed_id_token(&original, &later)
                .unwrap_err()
                .contains("auth_time")
        );
        let mut without = refreshed.clone();
        without.auth_time = None;
        check_refreshed_id_token(&original, &without).unwrap();
    }

    #[test]
    fn introspection_answers_are_read() {
        assert_eq!(
            introspection_active(200, &json!({"active": true, "sub": "u"})),
            Ok(true)
        );
        assert_eq!(
            introspection_active(200, &json!({"active": false})),
            Ok(false)
        );
        assert!(introspection_active(401, &json!({"error": "invalid_client"})).is_err());
        assert!(introspection_active(200, &json!({"active": "yes"})).is_err());
    }

    #[test]
    fn discovery_document_members() {
        let doc = reference_discovery();
        check_no_empty_lists(&doc).unwrap();
        check_scopes_name_openid(&json!({})).unwrap();
        assert!(check_scopes_name_openid(&json!({"scopes_supported": ["email"]})).is_err());
        assert!(check_no_empty_lists(&json!({"claims_supported": []})).is_err());
        check_subject_types(&json!({"subject_types_supported": ["public"]})).unwrap();
        assert!(check_subject_types(&json!({})).is_err());
        assert!(check_subject_types(&json!({"subject_types_supported": []})).is_err());
        assert_eq!(
            authorization_server_metadata_url("http://127.0.0.1:3000/api/auth").unwrap(),
            "http://127.0.0.1:3000/.well-known/oauth-authorization-server/api/auth"
        );
    }

    #[test]
    fn the_password_grant_must_be_refused() {
        check_grant_refused(400, &json!({"error": "unsupported_grant_type"})).unwrap();
        assert!(check_grant_refused(200, &json!({"access_token": "a"})).is_err());
        assert!(check_grant_refused(400, &json!({"access_token": "a", "error": "x"})).is_err());
        assert!(check_grant_refused(500, &json!({"error": "server_error"})).is_err());
    }

    #[test]
    fn introspection_must_describe_the_token_truthfully() {
        let body = json!({"active": true, "client_id": "c", "sub": "u", "scope": "openid email", "exp": 2000});
        check_introspection_truthful(&body, "c", "u", "openid email profile", 1000).unwrap();
        assert!(check_introspection_truthful(&body, "c", "other", "openid email", 1000).is_err());
        assert!(check_introspection_truthful(&body, "d", "u", "openid email", 1000).is_err());
        assert!(check_introspection_truthful(&body, "c", "u", "openid", 1000).is_err());
        assert!(
            check_introspection_truthful(&json!({"active": false}), "c", "u", "openid", 1000)
                .is_err()
        );
    }

    #[test]
    fn an_unknown_scope_is_left_out_and_the_grant_stated() {
        check_unknown_scope_left_out(Some("openid email"), "x-unknown").unwrap();
        assert!(check_unknown_scope_left_out(Some("openid x-unknown"), "x-unknown").is_err());
        assert!(check_unknown_scope_left_out(None, "x-unknown").is_err());
    }
}
