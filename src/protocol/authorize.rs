//! The authorization endpoint's parameter rules as pure functions: how the harness bends a
//! well-formed request (a parameter left out, sent empty, repeated, unknown), which redirect URIs
//! differ from a registered one by one character class (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1),
//! which characters an error response may use (RFC 6749 §4.1.2.1) and where a URL carries a
//! token (RFC 6749 §10.8).

use url::Url;

use super::oauth::RedirectParams;

/// One change to a well-formed authorization request's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamEdit {
    /// Nothing changes.
    Keep,
    /// Every occurrence of the parameter is left out.
    Remove(&'static str),
    /// The parameter is sent with an empty value (`name=`), replacing its value.
    Empty(&'static str),
    /// The parameter is sent a second time, with another value.
    Repeat(&'static str, String),
    /// A parameter is appended (one the server does not know, say).
    Add(&'static str, String),
}

/// The parameters with `edit` applied, in the order they are sent.
pub fn edited_params(mut params: Vec<(String, String)>, edit: &ParamEdit) -> Vec<(String, String)> {
    match edit {
        ParamEdit::Keep => {}
        ParamEdit::Remove(name) => params.retain(|(n, _)| n != name),
        ParamEdit::Empty(name) => {
            params.retain(|(n, _)| n != name);
            params.push((name.to_string(), String::new()));
        }
        ParamEdit::Repeat(name, value) | ParamEdit::Add(name, value) => {
            params.push((name.to_string(), value.clone()))
        }
    }
    params
}

/// The authorization endpoint's URL with `params` appended to its own query.
pub fn url_with_params(endpoint: &str, params: &[(String, String)]) -> Result<Url, String> {
    let mut url =
        Url::parse(endpoint).map_err(|e| format!("authorization_endpoint {endpoint:?}: {e}"))?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url)
}

/// A URL with a fragment is not an endpoint URL (RFC 6749 §3.1): the fragment, if any.
pub fn fragment_of(url: &str) -> Option<String> {
    url.split_once('#').map(|(_, f)| f.to_string())
}

/// The registered URI with a fragment: never a redirect target (RFC 6749 §3.1.2).
pub fn with_fragment(registered: &str) -> String {
    format!(
        "{}#ba-harness-fragment",
        registered.split('#').next().unwrap_or(registered)
    )
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Variants of a registered redirect URI that exact string matching must refuse (OAuth 2.1
/// §2.3.1), each with what changed: the path's case, a path segment added, a query added, and
/// the port, except on a loopback host, where any port is allowed (RFC 8252 §7.3).
pub fn redirect_uri_variants(registered: &str) -> Result<Vec<(&'static str, String)>, String> {
    let url = Url::parse(registered).map_err(|e| format!("{registered:?}: {e}"))?;
    let mut out = Vec::new();
    let path = url.path().to_string();
    let swapped: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if swapped != path {
        let mut v = url.clone();
        v.set_path(&swapped);
        out.push(("the path's letter case changed", v.to_string()));
    }
    let mut v = url.clone();
    v.set_path(&format!("{}/ba-harness-extra", path.trim_end_matches('/')));
    out.push(("a path segment added", v.to_string()));
    let mut v = url.clone();
    v.query_pairs_mut().append_pair("ba_harness_added", "1");
    out.push(("a query parameter added", v.to_string()));
    if !is_loopback(&url) {
        let mut v = url.clone();
        let port = url.port_or_known_default().unwrap_or(443);
        v.set_port(Some(if port == 8443 { 8444 } else { 8443 }))
            .map_err(|_| format!("{registered:?} cannot take a port"))?;
        out.push(("the port changed", v.to_string()));
    }
    Ok(out)
}

/// RFC 6749 §4.1.2.1 / Appendix A.7-A.8: `error` is 1*NQSCHAR (%x21 / %x23-5B / %x5D-7E) and
/// `error_description` 1*NQSCHAR with spaces: printable ASCII without `"` and `\`.
pub fn check_error_characters(params: &RedirectParams) -> Result<(), String> {
    let nqschar = |c: char| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
    for (name, allow_space) in [("error", false), ("error_description", true)] {
        for value in params.all(name) {
            if let Some(bad) = value
                .chars()
                .find(|&c| !(nqschar(c) || (allow_space && c == ' ')))
            {
                return Err(format!(
                    "{name}={value:?} contains {bad:?}, which RFC 6749 Appendix A does not allow"
                ));
            }
            if value.is_empty() {
                return Err(format!("an empty {name}"));
            }
        }
    }
    Ok(())
}

/// The claims request parameter (OIDC Core §5.5) asking for an ID token of one subject.
pub fn claims_for_subject(sub: &str) -> String {
    serde_json::json!({"id_token": {"sub": {"value": sub}}}).to_string()
}

/// Where `url` carries a token: a token parameter (RFC 6749 §10.8) or one of `tokens` itself,
/// raw or percent-encoded. Never the token in the answer.
pub fn token_carried_by(url: &str, tokens: &[&str]) -> Option<String> {
    if let Some(name) = super::passive::token_parameter_in_url(url) {
        return Some(format!("a `{name}` parameter"));
    }
    tokens
        .iter()
        .filter(|t| t.len() >= 8)
        .enumerate()
        .find(|(_, t)| {
            let encoded: String = url::form_urlencoded::byte_serialize(t.as_bytes()).collect();
            url.contains(**t) || url.contains(&encoded)
        })
        .map(|(i, _)| format!("issued token #{} of the flow", i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn edits_change_exactly_one_parameter() {
        let base = pairs(&[
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ]);
        assert_eq!(
            edited_params(base.clone(), &ParamEdit::Remove("scope")),
            pairs(&[("response_type", "code"), ("state", "s")])
        );
        assert_eq!(
            edited_params(base.clone(), &ParamEdit::Empty("state")),
            pairs(&[
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "")
            ])
        );
        let repeated = edited_params(base.clone(), &ParamEdit::Repeat("state", "t".into()));
        assert_eq!(repeated.iter().filter(|(n, _)| n == "state").count(), 2);
        let added = edited_params(base, &ParamEdit::Add("x", "1".into()));
        assert_eq!(added.last(), Some(&("x".to_string(), "1".to_string())));
        let url = url_with_params("http://h/authorize?a=1", &added).unwrap();
        assert!(
            url.as_str()
                .starts_with("http://h/authorize?a=1&response_type=code")
        );
    }

    #[test]
    fn variants_differ_and_loopback_keeps_its_port() {
        let v = redirect_uri_variants("http://127.0.0.1:4000/callback").unwrap();
        let uris: Vec<&str> = v.iter().map(|(_, u)| u.as_str()).collect();
        assert_eq!(
            uris,
            [
                "http://127.0.0.1:4000/CALLBACK",
                "http://127.0.0.1:4000/callback/ba-harness-extra",
                "http://127.0.0.1:4000/callback?ba_harness_added=1",
            ]
        );
        let v = redirect_uri_variants("https://app.example/cb").unwrap();
        assert!(v.iter().any(|(_, u)| u == "https://app.example:8443/cb"));
        assert_eq!(
            with_fragment("http://127.0.0.1:4000/callback"),
            "http://127.0.0.1:4000/callback#ba-harness-fragment"
        );
        assert_eq!(fragment_of("https://a/authorize#x").as_deref(), Some("x"));
        assert_eq!(fragment_of("https://a/authorize"), None);
    }

    #[test]
    fn error_characters() {
        // The error parameters of a redirect to `http://c/cb?<query>`, judged.
        let judged = |query: &str| {
            check_error_characters(
                &RedirectParams::parse(&format!("http://c/cb?{query}"), "http://c").unwrap(),
            )
        };
        assert!(judged("error=invalid_request&error_description=pkce+is+required%3A+S256").is_ok());
        assert!(judged("error=invalid_request&error_description=bad+%22scope%22").is_err());
        assert!(judged("error=invalid+request").is_err());
        assert!(judged("error=x&error_description=caf%C3%A9").is_err());
    }

    #[test]
    fn tokens_in_urls() {
        let tok = "AbCdEfGhIjKlMnOp";
        assert_eq!(
            token_carried_by("http://c/cb?code=1&access_token=x", &[tok]).as_deref(),
            Some("a `access_token` parameter")
        );
        assert_eq!(
            token_carried_by(&format!("http://c/cb?t={tok}"), &[tok]).as_deref(),
            Some("issued token #1 of the flow")
        );
        assert_eq!(token_carried_by("http://c/cb?code=1", &[tok]), None);
        assert_eq!(
            claims_for_subject("abc"),
            r#"{"id_token":{"sub":{"value":"abc"}}}"#
        );
    }
}
