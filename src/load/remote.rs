//! The consent gate for load targets. A load test is real traffic: pointed at the wrong
//! environment it is an outage. Loopback (127.0.0.0/8, [::1], `localhost`) needs no consent;
//! any other host runs only when the user names that same host again with `--allow-remote`.
//! Pure: it parses and compares names, it never resolves or contacts a host.

use std::net::{IpAddr, Ipv6Addr};

use url::{Host, Url};

use crate::error::HarnessError;

/// Whether `url`'s host is this machine's loopback.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `host` as `--allow-remote` compares it: lower case, without brackets around an IPv6
/// address and without a trailing dot.
fn comparable(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Parses `url` (given with `flag`) and lets it through when it is loopback, or when its host is
/// one of `allowed` (the `--allow-remote` values). Otherwise a usage error (exit 2) that says
/// why and which flag gives consent.
pub fn check_target(url: &str, flag: &str, allowed: &[String]) -> Result<Url, HarnessError> {
    let parsed = Url::parse(url).map_err(|e| {
        HarnessError::Usage(format!(
            "{flag} `{url}` is not a URL ({e}); give scheme, host and port, e.g. http://127.0.0.1:3000"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(HarnessError::Usage(format!(
            "{flag} `{url}` must be an http:// or https:// URL"
        )));
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(HarnessError::Usage(format!("{flag} `{url}` names no host")));
    };
    if is_loopback(&parsed) {
        return Ok(parsed);
    }
    let host = comparable(host);
    if host == "0.0.0.0" || host == "::" {
        return Err(HarnessError::Usage(format!(
            "{flag} `{url}`: {host} is not an address to send requests to; give the server's host"
        )));
    }
    if allowed.iter().any(|a| comparable(a) == host) {
        return Ok(parsed);
    }
    let named = if allowed.is_empty() {
        String::new()
    } else {
        format!(
            " (--allow-remote named {}, not {host})",
            allowed
                .iter()
                .map(|a| comparable(a))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(HarnessError::Usage(format!(
        "{flag} `{url}` is not this machine's loopback: a load test sends it real traffic, so \
         it runs only with consent{named}. To load {host}, name it again: --allow-remote {host}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(hosts: &[&str]) -> Vec<String> {
        hosts.iter().map(|h| h.to_string()).collect()
    }

    fn refused(url: &str, hosts: &[&str]) -> String {
        match check_target(url, "--target", &allow(hosts)) {
            Err(HarnessError::Usage(m)) => m,
            other => panic!("{url} with {hosts:?}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn loopback_needs_no_consent() {
        for ok in [
            "http://127.0.0.1:3000",
            "http://127.8.9.10",
            "https://localhost:8443/x",
            "http://LOCALHOST:1",
            "http://[::1]:3000",
        ] {
            assert!(check_target(ok, "--target", &[]).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_remote_host_without_consent_is_a_usage_error_naming_the_flag() {
        for (url, host) in [
            ("https://auth.example.com", "auth.example.com"),
            ("http://10.0.0.1:3000", "10.0.0.1"),
            ("http://192.168.1.2", "192.168.1.2"),
            ("http://localhost.example.com", "localhost.example.com"),
            ("http://[::ffff:127.0.0.1]", "::ffff:7f00:1"),
            ("http://[2001:db8::1]:8080", "2001:db8::1"),
        ] {
            let m = refused(url, &[]);
            assert!(m.contains(&format!("--allow-remote {host}")), "{m}");
            assert!(m.contains("consent"), "{m}");
            let e = check_target(url, "--target", &[]).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::EXIT_USAGE);
        }
    }

    #[test]
    fn consent_must_name_the_same_host() {
        // Naming another environment does not consent to this one.
        let m = refused("https://auth.example.com", &["staging.example.com"]);
        assert!(m.contains("staging.example.com"), "{m}");
        assert!(m.contains("--allow-remote auth.example.com"), "{m}");
        // A parent domain is not the host either.
        refused("https://auth.example.com", &["example.com"]);
        refused("https://auth.example.com.evil.test", &["auth.example.com"]);
    }

    #[test]
    fn with_consent_the_remote_target_is_allowed() {
        let url = check_target(
            "https://auth.example.com/ignored",
            "--target",
            &allow(&["Auth.Example.COM."]),
        )
        .unwrap();
        assert_eq!(url.host_str(), Some("auth.example.com"));
        assert!(check_target("http://10.0.0.1:3000", "--target", &allow(&["10.0.0.1"])).is_ok());
        assert!(
            check_target(
                "http://[2001:db8::1]:8080",
                "--target",
                &allow(&["[2001:db8::1]"])
            )
            .is_ok()
        );
        // Several hosts may be named (a target and its resource server).
        assert!(
            check_target(
                "https://api.example.com",
                "--resource",
                &allow(&["auth.example.com", "api.example.com"])
            )
            .is_ok()
        );
    }

    #[test]
    fn not_a_target_whatever_the_consent() {
        for (bad, hosts) in [
            ("ftp://127.0.0.1", vec!["127.0.0.1"]),
            ("127.0.0.1:3000", vec![]),
            ("http://0.0.0.0:3000", vec!["0.0.0.0"]),
        ] {
            let e = check_target(bad, "--target", &allow(&hosts)).unwrap_err();
            assert!(matches!(e, HarnessError::Usage(_)), "{bad}");
        }
    }
}
