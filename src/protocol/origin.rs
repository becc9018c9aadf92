//! Origins and redirect targets that merely look like a trusted origin. An origin is the
//! (scheme, host, port) triple (RFC 6454 §4); two origins are the same only when all three are,
//! after URL parsing (which lower-cases the host and drops userinfo and a default port). A
//! server that compares with `startsWith`, `endsWith`, `includes`, or ignores the scheme or the
//! port, lets these through. Better Auth parses the Origin header as a URL and compares origins
//! (api/middlewares/origin-check, auth/trusted-origins), so it refuses every one of them.
//!
//! Spellings that are the SAME origin after URL parsing (upper-case host, userinfo before the
//! host, a trailing slash, a trailing dot after an IPv4 address) are not listed: a server may
//! accept them.

use url::Url;

/// One lookalike: what trick it plays, and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookalike {
    pub trick: &'static str,
    pub value: String,
}

fn lookalike(trick: &'static str, value: String) -> Lookalike {
    Lookalike { trick, value }
}

/// Origins that are NOT `trusted` but share a prefix, a suffix or most of its text. `trusted` is
/// an origin (`http://127.0.0.1:3000`); None if it does not parse.
pub fn lookalike_origins(trusted: &str) -> Option<Vec<Lookalike>> {
    let url = Url::parse(trusted).ok()?;
    let scheme = url.scheme();
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let origin = url.origin().ascii_serialization();
    let port_part = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let other_scheme = if scheme == "https" { "http" } else { "https" };
    let other_port = if port == 65535 { port - 1 } else { port + 1 };
    let mut all = vec![
        lookalike(
            "the trusted host as a subdomain of another site",
            format!("{scheme}://{host}.evil.ba-harness.test{port_part}"),
        ),
        lookalike(
            "the trusted origin followed by more text",
            format!("{origin}.evil.ba-harness.test"),
        ),
        lookalike(
            "another host ending in the trusted host",
            format!("{scheme}://evil{host}{port_part}"),
        ),
        lookalike(
            "the trusted origin as userinfo before another host",
            format!("{origin}@evil.ba-harness.test"),
        ),
        lookalike(
            "the other scheme",
            format!("{other_scheme}://{host}{port_part}"),
        ),
        lookalike("another port", format!("{scheme}://{host}:{other_port}")),
    ];
    // A trailing dot names another origin for a domain, but not for an IPv4 address (URL
    // parsing drops it there).
    if matches!(url.host(), Some(url::Host::Domain(_))) {
        all.push(lookalike(
            "the trusted host with a trailing dot",
            format!("{scheme}://{host}.{port_part}"),
        ));
    }
    Some(all)
}

/// Redirect targets (callbackURL, redirectTo) that leave the trusted origin while looking like
/// they stay: the lookalike origins with a path, and the relative forms browsers resolve to
/// another host.
pub fn lookalike_redirects(trusted: &str) -> Option<Vec<Lookalike>> {
    let mut all: Vec<Lookalike> = lookalike_origins(trusted)?
        .into_iter()
        .map(|l| Lookalike {
            trick: l.trick,
            value: format!("{}/after", l.value),
        })
        .collect();
    all.extend([
        lookalike(
            "a protocol-relative URL to another host",
            "//evil.ba-harness.test/after".into(),
        ),
        lookalike(
            "a backslash path browsers read as another host",
            "/\\evil.ba-harness.test/after".into(),
        ),
    ]);
    Some(all)
}

/// Whether a CORS answer lets `origin` read a credentialed response: it names that origin (or
/// `*`, which browsers refuse with credentials, so it exposes nothing) in
/// Access-Control-Allow-Origin together with Access-Control-Allow-Credentials: true.
pub fn grants_credentialed_access(
    allow_origin: Option<&str>,
    allow_credentials: Option<&str>,
    origin: &str,
) -> bool {
    let credentials = allow_credentials.is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
    credentials && allow_origin.is_some_and(|a| a.trim() == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_origin(a: &str, b: &str) -> bool {
        match (Url::parse(a), Url::parse(b)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        }
    }

    #[test]
    fn no_lookalike_is_the_trusted_origin() {
        for trusted in [
            "http://127.0.0.1:3000",
            "https://app.example.com",
            "http://localhost:8080",
        ] {
            let all = lookalike_origins(trusted).unwrap();
            assert!(all.len() >= 6, "{all:?}");
            for l in &all {
                assert!(!same_origin(&l.value, trusted), "{} is {trusted}", l.value);
                assert_ne!(l.value, trusted);
            }
        }
    }

    #[test]
    fn the_tricks_a_naive_comparison_falls_for_are_present() {
        let all = lookalike_origins("https://app.example.com").unwrap();
        let values: Vec<&str> = all.iter().map(|l| l.value.as_str()).collect();
        assert!(values.contains(&"https://app.example.com.evil.ba-harness.test"));
        assert!(values.contains(&"https://evilapp.example.com"));
        assert!(values.contains(&"http://app.example.com"));
        assert!(values.contains(&"https://app.example.com:444"));
        assert!(values.contains(&"https://app.example.com@evil.ba-harness.test"));
        assert!(values.contains(&"https://app.example.com."));
        // A naive prefix check accepts most of them.
        assert!(
            values
                .iter()
                .filter(|v| v.starts_with("https://app.example.com"))
                .count()
                >= 3
        );
    }

    #[test]
    fn ipv4_hosts_get_no_trailing_dot_variant() {
        let all = lookalike_origins("http://127.0.0.1:3000").unwrap();
        assert!(all.iter().all(|l| l.value != "http://127.0.0.1.:3000"));
    }

    #[test]
    fn redirects_leave_the_origin() {
        let all = lookalike_redirects("http://127.0.0.1:3000").unwrap();
        assert!(all.iter().any(|l| l.value.starts_with("//")));
        for l in all {
            let resolved = Url::parse("http://127.0.0.1:3000/x")
                .unwrap()
                .join(&l.value)
                .map(|u| u.origin().ascii_serialization());
            assert_ne!(
                resolved.ok().as_deref(),
                Some("http://127.0.0.1:3000"),
                "{l:?}"
            );
        }
    }

    #[test]
    fn credentialed_cors_grants() {
        let o = "http://evil.test";
        assert!(grants_credentialed_access(Some(o), Some("true"), o));
        assert!(!grants_credentialed_access(Some(o), None, o));
        assert!(!grants_credentialed_access(Some("*"), Some("true"), o));
        assert!(!grants_credentialed_access(
            Some("http://127.0.0.1:3000"),
            Some("true"),
            o
        ));
    }
}
