//! The server under test: where it is and what it offers.

use std::collections::BTreeSet;
use std::time::Duration;

use url::Url;

use crate::error::HarnessError;
use crate::http::{Client, Endpoint, HttpError, Request, normalise_base_path};

/// The OAuth client the harness uses against the provider plugin.
#[derive(Clone, Debug, Default)]
pub struct OAuthClient {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
}

/// Everything a runner needs to know about the target.
#[derive(Clone, Debug)]
pub struct Target {
    /// Scheme, host and port of the server (a path in the URL given is ignored; the auth
    /// mount point is `base_path`).
    pub base_url: Url,
    pub base_path: String,
    pub cookie_prefix: String,
    /// The server's signing secret, when known (the bundled reference, or `--secret`): lets the
    /// harness verify cookie signatures, not only their shape.
    pub secret: Option<String>,
    pub oauth: OAuthClient,
    pub timeout: Duration,
    /// What the target is, for the report header.
    pub description: String,
    /// Capabilities the target offers (tags without `@`).
    pub capabilities: BTreeSet<String>,
}

impl Target {
    pub fn new(base_url: &str, base_path: &str, timeout: Duration) -> Result<Self, HarnessError> {
        let url = Url::parse(base_url).map_err(|e| {
            HarnessError::Usage(format!(
                "--target `{base_url}` is not a URL ({e}); give scheme, host and port, e.g. http://127.0.0.1:3000"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(HarnessError::Usage(format!(
                "--target `{base_url}` must be an http:// or https:// URL with a host"
            )));
        }
        Ok(Target {
            base_url: url,
            base_path: normalise_base_path(base_path),
            cookie_prefix: "better-auth".into(),
            secret: None,
            oauth: OAuthClient::default(),
            timeout,
            description: base_url.to_string(),
            capabilities: BTreeSet::new(),
        })
    }

    /// Better Auth adds the `__Secure-` prefix and `Secure` attribute when the base URL is https.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new(&self.base_url, &self.base_path, self.timeout)
    }

    pub fn auth_url(&self) -> String {
        self.endpoint().url_for("", false)
    }

    /// Capabilities that follow from the configuration alone.
    pub fn declare_configured_capabilities(&mut self) {
        if self.secret.is_some() {
            self.capabilities.insert("server-secret".into());
        }
        if self.is_https() {
            self.capabilities.insert("https".into());
        }
    }

    /// Fails fast, with exit code 3, when nothing answers HTTP at the target. Any HTTP answer
    /// counts as reachable: whether it is the right one is for the scenarios to say.
    pub async fn check_reachable(&self) -> Result<(), HarnessError> {
        let mut client =
            Client::new(self.endpoint()).map_err(|e| HarnessError::Usage(e.to_string()))?;
        match client.send(Request::get("/get-session")).await {
            Ok(_) => Ok(()),
            Err(HttpError::Connect { url, detail }) => Err(HarnessError::Unreachable {
                cause: format!("nothing accepted a connection at {url} ({detail})"),
                fix: "start the server, or check --target (scheme, host and port) and --base-path"
                    .into(),
            }),
            Err(HttpError::Timeout { url, seconds }) => Err(HarnessError::Unreachable {
                cause: format!(
                    "{url} accepted the connection but sent no complete answer within {seconds} s"
                ),
                fix: "check that the server is healthy, or raise --timeout".into(),
            }),
            Err(HttpError::Other { url, detail }) => Err(HarnessError::Unreachable {
                cause: format!("the request to {url} failed: {detail}"),
                fix: "check --target (for https: the certificate must be valid for that host)"
                    .into(),
            }),
        }
    }
}

/// What a scenario tag requires of the target, and why it would be skipped without it.
pub fn capability_for_tag(tag: &str) -> Option<(&'static str, &'static str)> {
    match tag {
        "server-secret" => Some((
            "server-secret",
            "the server's signing secret is not known (give --secret to verify HMAC signatures)",
        )),
        "https" => Some(("https", "the target's base URL is not https")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_targets_with_a_usage_error() {
        assert!(matches!(
            Target::new("ftp://x", "/api/auth", Duration::from_secs(1)),
            Err(HarnessError::Usage(_))
        ));
        assert!(matches!(
            Target::new("not a url", "/api/auth", Duration::from_secs(1)),
            Err(HarnessError::Usage(_))
        ));
    }

    #[test]
    fn configured_capabilities() {
        let mut t = Target::new(
            "https://auth.example.test",
            "api/auth/",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(t.base_path, "/api/auth");
        t.secret = Some("s".into());
        t.declare_configured_capabilities();
        assert!(t.capabilities.contains("https") && t.capabilities.contains("server-secret"));
        assert_eq!(t.auth_url(), "https://auth.example.test/api/auth");
    }
}
