//! The target file: `ba-harness.toml` in the working directory, or `--config FILE`. It holds the
//! facts about a deployment that the harness cannot discover (where it is, how it is mounted, the
//! OAuth client registered for the harness, the accounts to sign in with, the rate limit, where
//! the secret and the passwords are), so that a CI invocation is one short line.
//!
//! Flags win over the file: [`merge`] fills only what the command line left unset. Secrets are
//! never written in the file, only the names of the environment variables that hold them.
//! Parsing and merging are pure (the environment is a lookup function) and unit-tested here;
//! `src/cli.rs` reads the file and applies the merged [`Facts`] to its arguments.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file read when no `--config` is given, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "ba-harness.toml";

/// The file as written. Unknown keys are an error (a typo must not silently drop a fact).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// `--target`: scheme, host and port.
    pub target: Option<String>,
    /// `--base-path`: where Better Auth is mounted.
    pub base_path: Option<String>,
    /// `--cookie-prefix`: Better Auth's advanced.cookiePrefix.
    pub cookie_prefix: Option<String>,
    /// `--ca-cert`: a PEM CA certificate; relative to the file's folder.
    pub ca_cert: Option<PathBuf>,
    /// The environment variable that holds the target's signing secret (`--secret`).
    pub secret_env: Option<String>,
    /// `--rate-limit-max`: sign-in requests per 10 s per client; 0 declares the limiter off.
    pub rate_limit_max: Option<u32>,
    /// `--session-update-age`: the target's session.updateAge in seconds.
    pub session_update_age: Option<u64>,
    /// `--code-lifetime`: the authorization code lifetime in seconds (600 at most).
    pub code_lifetime: Option<u64>,
    /// `--jwt-issuer`, `--jwt-audience`: the jwt plugin's jwt.issuer and jwt.audience.
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// `--min-password-length`, `--max-password-length`: emailAndPassword's password limits.
    pub min_password_length: Option<u64>,
    pub max_password_length: Option<u64>,
    /// `--mailbox`: where the last password-reset link sent to an address is read.
    pub mailbox: Option<String>,
    /// `--revoke-sessions-on-password-reset`: emailAndPassword.revokeSessionsOnPasswordReset.
    pub revoke_sessions_on_password_reset: Option<bool>,
    /// `--reset-token-expires-in`, `--session-expires-in`, `--fresh-age` (seconds, at most 120).
    pub reset_token_expires_in: Option<u64>,
    pub session_expires_in: Option<u64>,
    pub fresh_age: Option<u64>,
    /// `--users-file`: one `email,password` per line; relative to the file's folder.
    pub users_file: Option<PathBuf>,
    /// `--user-email` and the variable that holds its password.
    pub account: Option<AccountSection>,
    /// `--client-id`, `--redirect-uri`, `--post-logout-redirect-uri`.
    pub oauth: Option<OAuthSection>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    pub email: String,
    /// The environment variable that holds the password.
    pub password_env: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OAuthSection {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
}

/// The facts of one run, each from a flag or from the file (`None`: neither gives it).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub target: Option<String>,
    pub base_path: Option<String>,
    pub cookie_prefix: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub secret: Option<String>,
    pub rate_limit_max: Option<u32>,
    pub session_update_age: Option<u64>,
    pub code_lifetime: Option<u64>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub min_password_length: Option<u64>,
    pub max_password_length: Option<u64>,
    /// The password-reset mailbox and lifetimes (`--mailbox`, `--session-expires-in`, ...).
    pub account_settings: crate::target::AccountSettings,
    pub users_file: Option<PathBuf>,
    /// `(email, password)`: one account, from `--user-email/--user-password` or `[account]`.
    pub account: Option<(String, String)>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
}

impl std::fmt::Debug for Facts {
    // The secret and the password never reach a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |set: bool| {
            if set {
                Some(crate::redact::REDACTED)
            } else {
                None
            }
        };
        f.debug_struct("Facts")
            .field("target", &self.target)
            .field("base_path", &self.base_path)
            .field("cookie_prefix", &self.cookie_prefix)
            .field("ca_cert", &self.ca_cert)
            .field("secret", &redacted(self.secret.is_some()))
            .field("rate_limit_max", &self.rate_limit_max)
            .field("session_update_age", &self.session_update_age)
            .field("code_lifetime", &self.code_lifetime)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("min_password_length", &self.min_password_length)
            .field("max_password_length", &self.max_password_length)
            .field("account_settings", &self.account_settings)
            .field("users_file", &self.users_file)
            .field("account", &self.account.as_ref().map(|(email, _)| email))
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .finish()
    }
}

/// Parses the file's text; `name` is how errors name the file. An unknown key is an error that
/// names the key.
pub fn parse(text: &str, name: &str) -> Result<TargetFile, String> {
    toml::from_str(text).map_err(|e| {
        // toml's message is multi-line (it quotes the line); the first line plus the key is
        // what a user needs: "unknown field `bse_path`, expected one of ...".
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("{name}, line {line}: {message}")
            }
            None => format!("{name}: {message}"),
        }
    })
}

/// The run's facts: each one the command line gives (`flags`), else the file's. Paths in the
/// file are relative to `file_dir`; `env` looks up the variables the file names. A variable the
/// file names for a fact the flags leave unset must be set (else an error naming it).
pub fn merge(
    flags: Facts,
    file: &TargetFile,
    file_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Facts, String> {
    let from_env = |key: &str, var: &str| -> Result<String, String> {
        match env(var) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!(
                "the target file's {key} names the environment variable {var}, which is not set \
                 (set it, or give the value with a flag)"
            )),
        }
    };
    let relative = |path: &PathBuf| {
        if path.is_absolute() {
            path.clone()
        } else {
            file_dir.join(path)
        }
    };
    let oauth = file.oauth.clone().unwrap_or_default();
    // As --code-lifetime: a lifetime over RFC 6749's ten minutes is not waited out.
    if let Some(secs) = file.code_lifetime
        && !(1..=crate::target::LONGEST_CODE_LIFETIME_SECS).contains(&secs)
    {
        return Err(format!(
            "code_lifetime = {secs}: give the authorization code lifetime in seconds, 1 to {} \
             (RFC 6749 §4.1.2 recommends ten minutes at most)",
            crate::target::LONGEST_CODE_LIFETIME_SECS
        ));
    }
    let lifetime = |key: &str, secs: Option<u64>| {
        secs.map(|s| crate::target::short_lifetime(key, &s.to_string()))
            .transpose()
    };
    let file_settings = crate::target::AccountSettings {
        mailbox: file
            .mailbox
            .as_deref()
            .map(|u| url::Url::parse(u).map_err(|e| format!("mailbox `{u}` is not a URL ({e})")))
            .transpose()?,
        revoke_sessions_on_password_reset: file.revoke_sessions_on_password_reset == Some(true),
        reset_token_expires_in: lifetime("reset_token_expires_in", file.reset_token_expires_in)?,
        session_expires_in: lifetime("session_expires_in", file.session_expires_in)?,
        fresh_age: lifetime("fresh_age", file.fresh_age)?,
    };
    let secret = match (flags.secret, &file.secret_env) {
        (Some(secret), _) => Some(secret),
        (None, Some(var)) => Some(from_env("secret_env", var)?),
        (None, None) => None,
    };
    let account = match (flags.account, &file.account) {
        (Some(account), _) => Some(account),
        (None, Some(section)) => Some((
            section.email.clone(),
            from_env("account.password_env", &section.password_env)?,
        )),
        (None, None) => None,
    };
    Ok(Facts {
        target: flags.target.or_else(|| file.target.clone()),
        base_path: flags.base_path.or_else(|| file.base_path.clone()),
        cookie_prefix: flags.cookie_prefix.or_else(|| file.cookie_prefix.clone()),
        ca_cert: flags
            .ca_cert
            .or_else(|| file.ca_cert.as_ref().map(relative)),
        secret,
        rate_limit_max: flags.rate_limit_max.or(file.rate_limit_max),
        session_update_age: flags.session_update_age.or(file.session_update_age),
        code_lifetime: flags.code_lifetime.or(file.code_lifetime),
        jwt_issuer: flags.jwt_issuer.or_else(|| file.jwt_issuer.clone()),
        jwt_audience: flags.jwt_audience.or_else(|| file.jwt_audience.clone()),
        min_password_length: flags.min_password_length.or(file.min_password_length),
        max_password_length: flags.max_password_length.or(file.max_password_length),
        account_settings: file_settings.overridden_by(&flags.account_settings),
        users_file: flags
            .users_file
            .or_else(|| file.users_file.as_ref().map(relative)),
        account,
        client_id: flags.client_id.or(oauth.client_id),
        redirect_uri: flags.redirect_uri.or(oauth.redirect_uri),
        post_logout_redirect_uri: flags
            .post_logout_redirect_uri
            .or(oauth.post_logout_redirect_uri),
    })
}

/// Which file to read: `--config FILE` (it must exist), else ./ba-harness.toml when present,
/// else none.
pub fn locate(given: Option<&Path>, cwd: &Path) -> Result<Option<PathBuf>, String> {
    match given {
        Some(path) if path.is_file() => Ok(Some(path.to_path_buf())),
        Some(path) => Err(format!(
            "--config {}: no such file (write one as in docs/configuration.md, or leave --config out)",
            path.display()
        )),
        None => {
            let default = cwd.join(DEFAULT_FILE);
            Ok(default.is_file().then_some(default))
        }
    }
}

/// Reads and parses a located file.
pub fn read(path: &Path) -> Result<TargetFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the target file {}: {e}", path.display()))?;
    parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
target = "https://auth.example.com"
base_path = "/auth"
cookie_prefix = "acme"
ca_cert = "certs/ca.pem"
secret_env = "ACME_AUTH_SECRET"
rate_limit_max = 5
session_update_age = 3
code_lifetime = 8
jwt_issuer = "https://auth.example.com"
jwt_audience = "https://api.example.com"
max_password_length = 256
mailbox = "http://127.0.0.1:8025/reset-links"
revoke_sessions_on_password_reset = true
session_expires_in = 8
users_file = "accounts.txt"

[account]
email = "ci@example.com"
password_env = "ACME_CI_PASSWORD"

[oauth]
client_id = "harness-client"
redirect_uri = "http://127.0.0.1:4000/callback"
post_logout_redirect_uri = "http://127.0.0.1:4000/logged-out"
"#;

    fn env(var: &str) -> Option<String> {
        match var {
            "ACME_AUTH_SECRET" => Some("file-secret".into()),
            "ACME_CI_PASSWORD" => Some("file-password".into()),
            _ => None,
        }
    }

    /// The error merging this file alone (no flags) gives.
    fn merge_error(toml: &str) -> String {
        let file = parse(toml, "t.toml").unwrap();
        merge(Facts::default(), &file, Path::new("."), &env).unwrap_err()
    }

    #[test]
    fn every_key_of_the_documented_example_parses() {
        let file = parse(FULL, "ba-harness.toml").unwrap();
        assert_eq!(file.target.as_deref(), Some("https://auth.example.com"));
        assert_eq!(file.rate_limit_max, Some(5));
        assert_eq!(
            file.account.as_ref().unwrap().password_env,
            "ACME_CI_PASSWORD"
        );
        assert_eq!(
            file.oauth.as_ref().unwrap().client_id.as_deref(),
            Some("harness-client")
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let error = parse(
            "target = \"http://127.0.0.1:3000\"\nbse_path = \"/auth\"\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(error.contains("bse_path"), "{error}");
        assert!(error.starts_with("t.toml, line 2:"), "{error}");
        let error = parse("[oauth]\nclient = \"x\"\n", "t.toml").unwrap_err();
        assert!(error.contains("`client`"), "{error}");
    }

    #[test]
    fn a_mistyped_value_is_an_error() {
        let error = parse("rate_limit_max = \"five\"\n", "t.toml").unwrap_err();
        assert!(error.contains("t.toml, line 1"), "{error}");
    }

    #[test]
    fn a_code_lifetime_over_ten_minutes_is_an_error() {
        let error = merge_error("code_lifetime = 601\n");
        assert!(error.contains("code_lifetime = 601"), "{error}");
    }

    #[test]
    fn the_file_fills_what_the_flags_leave_unset_and_paths_are_relative_to_it() {
        let file = parse(FULL, "ba-harness.toml").unwrap();
        let facts = merge(Facts::default(), &file, Path::new("/ci/conf"), &env).unwrap();
        assert_eq!(facts.base_path.as_deref(), Some("/auth"));
        assert_eq!(facts.cookie_prefix.as_deref(), Some("acme"));
        assert_eq!(facts.ca_cert, Some(PathBuf::from("/ci/conf/certs/ca.pem")));
        assert_eq!(
            facts.users_file,
            Some(PathBuf::from("/ci/conf/accounts.txt"))
        );
        assert_eq!(facts.secret.as_deref(), Some("file-secret"));
        assert_eq!(
            facts.account,
            Some(("ci@example.com".into(), "file-password".into()))
        );
        assert_eq!(facts.session_update_age, Some(3));
        assert_eq!(facts.code_lifetime, Some(8));
        assert_eq!(
            facts.jwt_issuer.as_deref(),
            Some("https://auth.example.com")
        );
        assert_eq!(
            facts.jwt_audience.as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(facts.max_password_length, Some(256));
        assert_eq!(facts.min_password_length, None);
        assert_eq!(facts.account_settings.session_expires_in, Some(8));
        assert!(facts.account_settings.revoke_sessions_on_password_reset);
        assert_eq!(
            facts.account_settings.mailbox.map(|u| u.to_string()),
            Some("http://127.0.0.1:8025/reset-links".into())
        );
        assert_eq!(
            facts.post_logout_redirect_uri.as_deref(),
            Some("http://127.0.0.1:4000/logged-out")
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = parse(FULL, "ba-harness.toml").unwrap();
        let flags = Facts {
            target: Some("http://127.0.0.1:3000".into()),
            base_path: Some("/api/auth".into()),
            rate_limit_max: Some(0),
            account: Some(("flag@example.com".into(), "flag-password".into())),
            secret: Some("flag-secret".into()),
            client_id: Some("flag-client".into()),
            ca_cert: Some(PathBuf::from("ca.pem")),
            ..Facts::default()
        };
        let facts = merge(flags, &file, Path::new("/ci"), &env).unwrap();
        assert_eq!(facts.target.as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(facts.base_path.as_deref(), Some("/api/auth"));
        assert_eq!(facts.rate_limit_max, Some(0));
        assert_eq!(facts.secret.as_deref(), Some("flag-secret"));
        assert_eq!(facts.account.unwrap().0, "flag@example.com");
        assert_eq!(facts.client_id.as_deref(), Some("flag-client"));
        // A flag's path is the user's, relative to the working directory, not to the file.
        assert_eq!(facts.ca_cert, Some(PathBuf::from("ca.pem")));
        // What the flags leave unset still comes from the file.
        assert_eq!(facts.cookie_prefix.as_deref(), Some("acme"));
        assert_eq!(
            facts.redirect_uri.as_deref(),
            Some("http://127.0.0.1:4000/callback")
        );
    }

    #[test]
    fn a_variable_the_file_names_must_be_set_unless_a_flag_gives_the_value() {
        let toml = "secret_env = \"NOT_SET_ANYWHERE\"\n";
        let error = merge_error(toml);
        assert!(error.contains("NOT_SET_ANYWHERE"), "{error}");
        let file = parse(toml, "t.toml").unwrap();
        let flags = Facts {
            secret: Some("given".into()),
            ..Facts::default()
        };
        assert_eq!(
            merge(flags, &file, Path::new("."), &env)
                .unwrap()
                .secret
                .as_deref(),
            Some("given")
        );
        let error = merge_error(
            "[account]\nemail = \"a@example.com\"\npassword_env = \"UNSET_PASSWORD\"\n",
        );
        assert!(error.contains("UNSET_PASSWORD"), "{error}");
    }

    #[test]
    fn a_lifetime_the_harness_would_not_wait_out_is_an_error() {
        let error = merge_error("fresh_age = 86400\n");
        assert!(error.contains("fresh_age 86400 s"), "{error}");
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        let file = parse("", "t.toml").unwrap();
        let flags = Facts {
            base_path: Some("/x".into()),
            ..Facts::default()
        };
        assert_eq!(
            merge(flags.clone(), &file, Path::new("."), &env).unwrap(),
            flags
        );
    }

    #[test]
    fn a_given_config_must_exist_and_the_default_is_optional() {
        let dir = std::env::temp_dir().join(format!("ba-harness-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.toml");
        assert!(
            locate(Some(&missing), &dir)
                .unwrap_err()
                .contains("missing.toml")
        );
        assert_eq!(locate(None, &dir).unwrap(), None);
        std::fs::write(dir.join(DEFAULT_FILE), "").unwrap();
        assert_eq!(locate(None, &dir).unwrap(), Some(dir.join(DEFAULT_FILE)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_debug_print_shows_no_secret() {
        let facts = Facts {
            secret: Some("s3cr3t-value".into()),
            account: Some(("a@example.com".into(), "pa55word-value".into())),
            ..Facts::default()
        };
        let text = format!("{facts:?}");
        assert!(
            !text.contains("s3cr3t-value") && !text.contains("pa55word-value"),
            "{text}"
        );
        assert!(text.contains("a@example.com"));
    }
}
