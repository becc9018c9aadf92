//! The server under test: where it is and what it offers.

use std::collections::BTreeSet;
use std::time::Duration;

use url::Url;

use crate::error::HarnessError;
use crate::http::{Client, Endpoint, HttpError, Observers, Request, normalise_base_path};

/// The OAuth client the harness uses against the provider plugin.
#[derive(Clone, Debug, Default)]
pub struct OAuthClient {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
}

/// The target's password-reset and session-lifetime settings, which no server publishes
/// (`--mailbox`, `--revoke-sessions-on-password-reset`, `--reset-token-expires-in`,
/// `--session-expires-in`, `--fresh-age`, or the bundled reference's ready line): the
/// @mailbox and lifetime scenarios run only when they are known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSettings {
    /// Where the harness reads the last password-reset link sent to an address
    /// (`GET <mailbox>?email=ADDRESS` → `{"token", "url"}`, docs/configuration.md).
    pub mailbox: Option<Url>,
    /// emailAndPassword.revokeSessionsOnPasswordReset is on.
    pub revoke_sessions_on_password_reset: bool,
    /// emailAndPassword.resetPasswordTokenExpiresIn in seconds.
    pub reset_token_expires_in: Option<u64>,
    /// session.expiresIn in seconds.
    pub session_expires_in: Option<u64>,
    /// session.freshAge in seconds.
    pub fresh_age: Option<u64>,
}

impl AccountSettings {
    /// These settings with each one `given` declares in its place.
    pub fn overridden_by(&self, given: &AccountSettings) -> AccountSettings {
        AccountSettings {
            mailbox: given.mailbox.clone().or_else(|| self.mailbox.clone()),
            revoke_sessions_on_password_reset: given.revoke_sessions_on_password_reset
                || self.revoke_sessions_on_password_reset,
            reset_token_expires_in: given.reset_token_expires_in.or(self.reset_token_expires_in),
            session_expires_in: given.session_expires_in.or(self.session_expires_in),
            fresh_age: given.fresh_age.or(self.fresh_age),
        }
    }

    /// The capabilities these settings give (see [`CAPABILITIES`]).
    fn capabilities(&self) -> Vec<&'static str> {
        let short =
            |secs: Option<u64>| secs.is_some_and(|s| s > 0 && s <= LONGEST_LIFETIME_WAIT_SECS);
        let mut capabilities = Vec::new();
        if self.mailbox.is_some() {
            capabilities.push("mailbox");
            if self.revoke_sessions_on_password_reset {
                capabilities.push("reset-revokes-sessions");
            }
            if short(self.reset_token_expires_in) {
                capabilities.push("short-reset-token");
            }
        }
        if short(self.session_expires_in) {
            capabilities.push("short-session");
        }
        if short(self.fresh_age) {
            capabilities.push("short-fresh-age");
        }
        capabilities
    }
}

/// The longest lifetime (session, freshness, reset token) the harness waits out: waiting
/// longer is not a conformance test. A longer one declared with a flag is a usage error.
pub const LONGEST_LIFETIME_WAIT_SECS: u64 = 120;

/// A declared lifetime (`--session-expires-in`, `--fresh-age`, `--reset-token-expires-in`, or
/// its target-file key), refused when the harness would not wait it out.
pub fn short_lifetime(what: &str, text: &str) -> Result<u64, String> {
    let secs: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{what} `{text}` is not a number of seconds"))?;
    if secs == 0 || secs > LONGEST_LIFETIME_WAIT_SECS {
        return Err(format!(
            "{what} {secs} s: the harness waits out at most {LONGEST_LIFETIME_WAIT_SECS} s \
             (waiting longer is not a conformance test); configure the deployment under test \
             with a shorter one, or leave it out (its scenarios are skipped)"
        ));
    }
    Ok(secs)
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
    /// An existing account to use when sign-up is closed (`--user-email/--user-password`).
    pub account: Option<Account>,
    /// Further existing accounts (`--users-file`): scenarios lease them one each, so scenarios
    /// that end every session of their account do not wait for each other.
    pub more_accounts: Vec<Account>,
    /// What discovery saw when it tried to sign up (`EMAIL_PASSWORD_SIGN_UP_DISABLED`, HTTP
    /// 4xx): sign-up is closed, and scenarios that need a fresh account are skipped.
    pub sign_up_closed: Option<String>,
    /// What discovery saw when the account it had just signed up tried to sign in, when that
    /// was refused (`EMAIL_NOT_VERIFIED`, HTTP 403: emailAndPassword.requireEmailVerification):
    /// fresh accounts cannot start a session, and scenarios that need one are skipped.
    pub fresh_sign_in_refused: Option<String>,
    /// The jwt plugin's `jwt.issuer` and `jwt.audience` as the deployment declares them
    /// (`--jwt-issuer`, `--jwt-audience`; the bundled reference's are its origin). Without them
    /// the JWT claims are judged against Better Auth's default, the base URL's origin.
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// emailAndPassword.minPasswordLength and maxPasswordLength as the deployment declares them
    /// (`--min-password-length`, `--max-password-length`; the bundled reference's are Better
    /// Auth's defaults). Without them the length scenarios try the defaults, 8 and 128.
    pub min_password_length: Option<usize>,
    pub max_password_length: Option<usize>,
    /// Sign-in requests allowed per window before 429 (`--rate-limit-max`), for @rate-limit.
    pub rate_limit_max: Option<u32>,
    /// Rate limiting declared off (`--rate-limit-max 0`): the probe scenarios do not run.
    pub rate_limit_off: bool,
    /// The cookie cache's lifetime in seconds, read from the session_data cookie's Max-Age.
    pub cookie_cache_max_age: Option<i64>,
    /// session.updateAge in seconds (`--session-update-age`), for @session-refresh.
    pub session_update_age: Option<u64>,
    /// The authorization code lifetime in seconds (`--code-lifetime`; the oauth-provider's
    /// codeExpiresIn), for @code-lifetime.
    pub code_lifetime: Option<u64>,
    /// Password-reset mailbox and lifetimes (`--mailbox`, `--session-expires-in`, ...).
    pub account_settings: AccountSettings,
    /// The OpenID discovery document, when the target serves one.
    pub openid_configuration: Option<serde_json::Value>,
    /// What discovery found or could not find, for the report header.
    pub discovery_notes: Vec<String>,
    /// The Next.js app that mounts this Better Auth (`--next-app`, or the bundled one), for @next-app.
    pub next_app: Option<Url>,
    /// A private CA (PEM) the target's certificate chains to (--ca-cert, or the bundled https CA).
    pub ca_pem: Option<std::sync::Arc<String>>,
    /// The app that mounts Better Auth at the target (`--target-kind`, or a bundled framework
    /// app): its app-level scenarios (@express, @nestjs, @tanstack-start, @next-app) apply.
    pub kind: Option<TargetKind>,
    /// A resource server that verifies the target's JWTs (`--resource`, or the bundled FastAPI
    /// backend): the URL it answers `Authorization: Bearer <JWT>` at, for @resource-server.
    pub resource_server: Option<Url>,
    /// Who issues the JWTs the resource server verifies, when not plainly the target (the
    /// bundled issuer, or `--issuer-profiles` / `--jwks-rotation-interval`).
    pub resource_issuer: Option<ResourceIssuer>,
    /// What every client of the run reports its exchanges to (the account ledger, the snapshot
    /// recorder): set by the run that owns them.
    pub observers: Observers,
    /// Where the run's clients count the time they waited out the target's rate limit.
    pub limit_waits: std::sync::Arc<crate::http::LimitWaits>,
    /// The run's X-Forwarded-For addresses, one per client.
    pub client_ips: std::sync::Arc<crate::http::ClientIps>,
    /// The run's redaction (made by the command from `--show-secrets`), handed to every client.
    pub secrets: crate::redact::Secrets,
    /// The values the run makes up (random names, states, nonces), for snapshots.
    pub made_up: std::sync::Arc<crate::test_user::MadeUp>,
}

/// What kind of app mounts Better Auth at a target (`--target-kind`): it decides which app-level
/// scenarios apply. `node` is Better Auth on its own (no app-level features).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetKind {
    Express,
    Nestjs,
    TanstackStart,
    Nextjs,
    Node,
}

impl TargetKind {
    /// The capability tag the kind's app-level scenarios carry (`@express`, ...).
    pub fn capability(self) -> Option<&'static str> {
        match self {
            TargetKind::Express => Some("express"),
            TargetKind::Nestjs => Some("nestjs"),
            TargetKind::TanstackStart => Some("tanstack-start"),
            TargetKind::Nextjs => Some("next-app"),
            TargetKind::Node => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Express => "express",
            TargetKind::Nestjs => "nestjs",
            TargetKind::TanstackStart => "tanstack-start",
            TargetKind::Nextjs => "nextjs",
            TargetKind::Node => "node",
        }
    }
}

/// The longest rotation interval the harness waits out to see a key rotate.
pub const LONGEST_ROTATION_WAIT_SECS: u64 = 10;

/// What the harness knows about the issuer of the JWTs a resource server verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceIssuer {
    /// Scheme, host and port of the issuing Better Auth.
    pub base_url: Url,
    /// Where Better Auth is mounted on it (`/api/auth`).
    pub base_path: String,
    /// It serves the bundled reference's JWT_TEST_PROFILES (wrong issuer, wrong audience,
    /// expired), each at `/profiles/<name>` + `base_path`, on the same keys and sessions.
    pub profiles: bool,
    /// Its `jwks.rotationInterval` in seconds, when known.
    pub rotation_interval_secs: Option<u64>,
}

impl ResourceIssuer {
    /// The base path of one of the JWT_TEST_PROFILES instances.
    pub fn profile_base_path(&self, profile: &str) -> String {
        format!("/profiles/{profile}{}", self.base_path)
    }

    /// The issuer's JWKS URL (what a resource server is configured with).
    pub fn jwks_url(&self) -> String {
        format!(
            "{}{}/jwks",
            self.base_url.origin().ascii_serialization(),
            self.base_path
        )
    }

    /// The jwt plugin's default `iss` and `aud`: the base URL's origin.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }
}

pub use crate::users_file::Account;

/// The http(s) URL given with `flag`, or a usage error; `give` says what a right one is.
pub fn http_url(flag: &str, url: &str, give: &str) -> Result<Url, HarnessError> {
    let parsed = Url::parse(url).map_err(|e| {
        HarnessError::Usage(format!("{flag} `{url}` is not a URL ({e}); give {give}"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(HarnessError::Usage(format!(
            "{flag} `{url}` must be an http:// or https:// URL with a host"
        )));
    }
    Ok(parsed)
}

impl Target {
    pub fn new(base_url: &str, base_path: &str, timeout: Duration) -> Result<Self, HarnessError> {
        let url = http_url(
            "--target",
            base_url,
            "scheme, host and port, e.g. http://127.0.0.1:3000",
        )?;
        Ok(Target {
            base_url: url,
            base_path: normalise_base_path(base_path),
            cookie_prefix: "better-auth".into(),
            secret: None,
            oauth: OAuthClient::default(),
            timeout,
            description: base_url.to_string(),
            capabilities: BTreeSet::new(),
            account: None,
            more_accounts: Vec::new(),
            sign_up_closed: None,
            fresh_sign_in_refused: None,
            jwt_issuer: None,
            jwt_audience: None,
            min_password_length: None,
            max_password_length: None,
            rate_limit_max: None,
            rate_limit_off: false,
            cookie_cache_max_age: None,
            session_update_age: None,
            code_lifetime: None,
            account_settings: AccountSettings::default(),
            openid_configuration: None,
            discovery_notes: Vec::new(),
            ca_pem: None,
            next_app: None,
            kind: None,
            resource_server: None,
            resource_issuer: None,
            observers: Observers::default(),
            limit_waits: Default::default(),
            client_ips: Default::default(),
            secrets: Default::default(),
            made_up: Default::default(),
        })
    }

    /// Registers what the target was configured with (its signing secret, the given accounts'
    /// passwords) with the run's redaction, before anything of the run is printed.
    pub fn register_credentials(&self) {
        if let Some(secret) = &self.secret {
            self.secrets.register(secret);
        }
        for account in self.accounts() {
            self.secrets.register(&account.password);
        }
    }

    /// Every given account: `--user-email` first, then `--users-file`.
    pub fn accounts(&self) -> Vec<Account> {
        self.account
            .iter()
            .chain(self.more_accounts.iter())
            .cloned()
            .collect()
    }

    /// Better Auth adds the `__Secure-` prefix and `Secure` attribute when the base URL is https.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    pub fn endpoint(&self) -> Endpoint {
        let mut endpoint = Endpoint::new(&self.base_url, &self.base_path, self.timeout);
        endpoint.ca_pem = self.ca_pem.clone();
        endpoint.observers = self.observers.clone();
        endpoint.limit_waits = self.limit_waits.clone();
        endpoint.client_ips = self.client_ips.clone();
        endpoint.secrets = self.secrets.clone();
        endpoint
    }

    pub fn auth_url(&self) -> String {
        self.endpoint().url_for("", false)
    }

    /// The issuer of the JWTs the resource server verifies: the one configured, else the target
    /// (no test profiles, rotation interval unknown).
    pub fn resource_issuer(&self) -> ResourceIssuer {
        self.resource_issuer
            .clone()
            .unwrap_or_else(|| ResourceIssuer {
                base_url: self.base_url.clone(),
                base_path: self.base_path.clone(),
                profiles: false,
                rotation_interval_secs: None,
            })
    }

    /// Capabilities that follow from the configuration alone.
    pub fn declare_configured_capabilities(&mut self) {
        if self.secret.is_some() {
            self.capabilities.insert("server-secret".into());
        }
        if self.is_https() {
            self.capabilities.insert("https".into());
        }
        if self.rate_limit_max.is_some() {
            self.capabilities.insert("rate-limit".into());
        }
        if !self.rate_limit_off {
            self.capabilities.insert("rate-limit-probe".into());
        }
        if self.next_app.is_some() {
            self.capabilities.insert("next-app".into());
        }
        if let Some(capability) = self.kind.and_then(|kind| kind.capability()) {
            self.capabilities.insert(capability.into());
        }
        if self.resource_server.is_some() {
            self.capabilities.insert("resource-server".into());
            let issuer = self.resource_issuer();
            if issuer.profiles {
                self.capabilities.insert("issuer-profiles".into());
            }
            if positive_up_to(issuer.rotation_interval_secs, LONGEST_ROTATION_WAIT_SECS) {
                self.capabilities.insert("key-rotation".into());
            }
        }
        if self
            .session_update_age
            .is_some_and(|age| age <= SHORT_UPDATE_AGE_SECS)
        {
            self.capabilities.insert("session-refresh".into());
        }
        if positive_up_to(self.code_lifetime, LONGEST_CODE_LIFETIME_SECS) {
            self.capabilities.insert("code-lifetime".into());
        }
        if positive_up_to(self.cookie_cache_max_age, SHORT_COOKIE_CACHE_SECS) {
            self.capabilities.insert("short-cookie-cache".into());
        }
        for capability in self.account_settings.capabilities() {
            self.capabilities.insert(capability.into());
        }
        if self.oauth.client_id.is_some() && self.oauth.redirect_uri.is_some() {
            self.capabilities.insert("oauth-client".into());
            if self.oauth.post_logout_redirect_uri.is_some() {
                self.capabilities.insert("end-session".into());
            }
        }
    }

    /// Fails fast, with exit code 3, when nothing answers HTTP at the target. Any HTTP answer
    /// counts as reachable: whether it is the right one is for the scenarios to say.
    pub async fn check_reachable(&self) -> Result<(), HarnessError> {
        let mut client =
            Client::new(self.endpoint()).map_err(|e| HarnessError::Usage(e.to_string()))?;
        match client.send(Request::get("/get-session")).await {
            Ok(_) => Ok(()),
            // A status line arrived: the server answers HTTP, however badly. The scenarios say
            // what is wrong with the answers (a stalled or truncated body, ...).
            Err(e) if e.server_answered() => Ok(()),
            Err(HttpError::Connect { url, detail }) => Err(HarnessError::Unreachable {
                cause: format!("nothing accepted a connection at {url} ({detail})"),
                fix: "start the server, or check --target (scheme, host and port) and --base-path"
                    .into(),
            }),
            Err(HttpError::Timeout { url, seconds }) => Err(HarnessError::Unreachable {
                cause: format!(
                    "{url} accepted the connection but sent no answer within {seconds} s"
                ),
                fix: "check that the server is healthy, or raise --timeout".into(),
            }),
            Err(HttpError::Tls { url, detail }) => Err(HarnessError::Unreachable {
                cause: format!("the TLS handshake with {url} failed ({detail})"),
                fix: if detail.to_ascii_lowercase().contains("certificate") {
                    "the server's certificate is not trusted or not valid for that host: for a \
                     private CA give its certificate with --ca-cert FILE (PEM); otherwise fix the \
                     certificate (it must chain to a trusted root and name the host in --target)"
                        .into()
                } else {
                    "check that the target serves https on that port (or use http://)".into()
                },
            }),
            Err(HttpError::Body { url, detail, .. } | HttpError::Unsendable { url, detail })
            | Err(HttpError::Other { url, detail }) => Err(HarnessError::Unreachable {
                cause: format!("the request to {url} failed: {detail}"),
                fix: "check --target (for https: the certificate must be valid for that host)"
                    .into(),
            }),
        }
    }
}

/// The jwt plugin's `jwt.issuer` and `jwt.audience` as a deployment declares them: the same flags
/// for `conform` and for `load`'s jwt-verification.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct JwtClaimArgs {
    /// The jwt plugin's `jwt.issuer` on the target, when it sets one: every JWT's iss must be it.
    /// Default: the base URL's origin (Better Auth's default); with nothing declared, conform
    /// skips a JWT whose iss is another well-formed value, naming this flag.
    #[arg(long, value_name = "ISS")]
    pub jwt_issuer: Option<String>,

    /// The jwt plugin's `jwt.audience` on the target, when it sets one (as --jwt-issuer, for aud).
    #[arg(long, value_name = "AUD")]
    pub jwt_audience: Option<String>,
}

/// A setting that is given, above zero and at most `longest` (seconds): short enough for the
/// scenarios that wait it out.
fn positive_up_to<T: PartialOrd + Default>(value: Option<T>, longest: T) -> bool {
    value.is_some_and(|v| v > T::default() && v <= longest)
}

/// The longest session.updateAge the harness waits out to see get-session extend a session.
pub const SHORT_UPDATE_AGE_SECS: u64 = 10;

/// The longest cookie cache lifetime the harness waits out to measure the revocation delay.
pub const SHORT_COOKIE_CACHE_SECS: i64 = 30;

/// The longest authorization code lifetime the harness waits out to see an expired code
/// refused: RFC 6749 §4.1.2 recommends ten minutes at most, so waiting longer proves nothing.
pub const LONGEST_CODE_LIFETIME_SECS: u64 = 600;

/// Every capability tag: the capability, and why a scenario needing it is skipped without it.
pub const CAPABILITIES: &[(&str, &str)] = &[
    (
        "sign-up",
        "sign-up is closed (the discovery sign-up was refused), and these scenarios check sign-up itself",
    ),
    (
        "sign-up-session",
        "sign-up starts no session on this target (it answered {\"token\": null} and set no cookie: emailAndPassword.autoSignIn false, or requireEmailVerification), and these scenarios check the session sign-up starts, or its refusal of a taken email (which such a server answers like a fresh sign-up, so as not to reveal the account)",
    ),
    (
        "server-secret",
        "the server's signing secret is not known (give --secret to verify HMAC signatures)",
    ),
    ("https", "the target's base URL is not https"),
    (
        "bearer",
        "sign-in sent no set-auth-token header (bearer plugin not enabled)",
    ),
    (
        "cookie-cache",
        "sign-in set no session_data cookie (session.cookieCache not enabled)",
    ),
    ("jwt", "no JWKS at <base>/jwks (jwt plugin not enabled)"),
    (
        "next-app",
        "no Next.js app given (--next-app URL, or run without --target to use the bundled one)",
    ),
    (
        "resource-server",
        "no resource server given (--resource URL, or run without --target to use the bundled FastAPI backend)",
    ),
    (
        "issuer-profiles",
        "the issuer does not serve the bundled reference's JWT test profiles (wrong issuer, wrong audience, expired); give --issuer-profiles for a targets/better-auth server run with JWT_TEST_PROFILES=on",
    ),
    (
        "key-rotation",
        "the issuer's key rotation interval is not known or over 10 s (give --jwks-rotation-interval SECS for an issuer with jwks.rotationInterval that short)",
    ),
    (
        "express",
        "the target is not an Express app (give --target-kind express, or --apps express for the bundled one)",
    ),
    (
        "nestjs",
        "the target is not a NestJS app (give --target-kind nestjs, or --apps nestjs for the bundled one)",
    ),
    (
        "tanstack-start",
        "the target is not a TanStack Start app (give --target-kind tanstack-start, or --apps tanstack-start for the bundled one)",
    ),
    (
        "oauth-provider",
        "no OpenID discovery document at <base>/.well-known/openid-configuration",
    ),
    (
        "oauth-client",
        "no OAuth client: give --client-id and --redirect-uri, or enable dynamic client registration",
    ),
    (
        "end-session",
        "no post-logout redirect URI for a client with end session enabled (give --post-logout-redirect-uri)",
    ),
    (
        "rate-limit",
        "no sign-in rate limit declared (--rate-limit-max N checks that exact limit; without it the @rate-limit-probe scenarios probe the limit)",
    ),
    (
        "rate-limit-probe",
        "rate limiting declared off (--rate-limit-max 0)",
    ),
    (
        "session-refresh",
        "session.updateAge is not known or over 10 s (give --session-update-age SECS for a deployment with a short one)",
    ),
    (
        "code-lifetime",
        "the authorization code lifetime is not known (give --code-lifetime SECS, the server's codeExpiresIn, 600 s at most)",
    ),
    (
        "mailbox",
        "no mailbox the harness can read the password-reset link from (give --mailbox URL: GET URL?email=ADDRESS answers {\"token\", \"url\"} of the last reset message, docs/configuration.md)",
    ),
    (
        "reset-revokes-sessions",
        "emailAndPassword.revokeSessionsOnPasswordReset is not declared on (give --revoke-sessions-on-password-reset for a server that sets it, and --mailbox)",
    ),
    (
        "short-reset-token",
        "emailAndPassword.resetPasswordTokenExpiresIn is not known or over 120 s (give --reset-token-expires-in SECS for a deployment configured with a short one, and --mailbox; the bundled reference: --reference-profile short-sessions)",
    ),
    (
        "short-session",
        "session.expiresIn is not known or over 120 s (give --session-expires-in SECS for a deployment configured with a short one; the bundled reference: --reference-profile short-sessions)",
    ),
    (
        "short-fresh-age",
        "session.freshAge is not known or over 120 s (give --fresh-age SECS for a deployment configured with a short one; the bundled reference: --reference-profile short-sessions)",
    ),
    (
        "short-cookie-cache",
        "the cookie cache lifetime (session_data Max-Age) is over 30 s: the harness does not wait that long to see the cache expire",
    ),
];

/// Why a scenario that needs a fresh account is skipped on a target with closed sign-up.
pub const SIGN_UP_CLOSED: &str =
    "sign-up is closed: give --user-email/--user-password (or --users-file)";

/// Why a scenario that needs a fresh account to sign in is skipped on a target that refuses
/// the sign-in of an account just signed up (followed by what discovery saw).
pub const FRESH_SIGN_IN_REFUSED: &str = "a freshly signed-up account cannot sign in on this target (emailAndPassword.requireEmailVerification?): give verified accounts with --users-file (or --user-email/--user-password)";

/// Reads `--users-file`: one `email,password` per line; blank lines and `#` comments are
/// ignored. Passwords are registered as secrets before anything else sees them.
pub fn read_users_file(path: &std::path::Path) -> Result<Vec<Account>, HarnessError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HarnessError::Usage(format!("--users-file {}: {e}", path.display())))?;
    parse_users(&text)
        .map_err(|e| HarnessError::Usage(format!("--users-file {}: {e}", path.display())))
}

/// The accounts of a users file (see [`read_users_file`]).
pub fn parse_users(text: &str) -> Result<Vec<Account>, String> {
    let mut accounts = Vec::new();
    for (number, email, password) in crate::users_file::account_lines(text)? {
        let (email, password) = (email.trim(), password.trim());
        if email.is_empty() || password.is_empty() {
            return Err(format!("line {number} has an empty email or password"));
        }
        accounts.push(Account {
            email: email.to_string(),
            password: password.to_string(),
        });
    }
    Ok(accounts)
}

/// What a scenario tag requires of the target, and why it would be skipped without it.
pub fn capability_for_tag(tag: &str) -> Option<(&'static str, &'static str)> {
    CAPABILITIES.iter().copied().find(|(name, _)| *name == tag)
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
    fn every_capability_a_target_can_declare_has_a_skip_reason() {
        let mut t = Target::new("https://a.test", "/api/auth", Duration::from_secs(1)).unwrap();
        t.secret = Some("s".into());
        t.rate_limit_max = Some(3);
        t.session_update_age = Some(3);
        t.code_lifetime = Some(5);
        t.cookie_cache_max_age = Some(5);
        t.next_app = Some(Url::parse("http://127.0.0.1:1").unwrap());
        for kind in [
            TargetKind::Express,
            TargetKind::Nestjs,
            TargetKind::TanstackStart,
        ] {
            t.kind = Some(kind);
            t.declare_configured_capabilities();
        }
        t.resource_server = Some(Url::parse("http://127.0.0.1:2/api/me").unwrap());
        t.resource_issuer = Some(ResourceIssuer {
            base_url: t.base_url.clone(),
            base_path: t.base_path.clone(),
            profiles: true,
            rotation_interval_secs: Some(4),
        });
        t.oauth.client_id = Some("c".into());
        t.oauth.redirect_uri = Some("r".into());
        t.oauth.post_logout_redirect_uri = Some("p".into());
        t.account_settings = AccountSettings {
            mailbox: Some(Url::parse("http://127.0.0.1:3/mailbox").unwrap()),
            revoke_sessions_on_password_reset: true,
            reset_token_expires_in: Some(3),
            session_expires_in: Some(8),
            fresh_age: Some(3),
        };
        t.declare_configured_capabilities();
        for capability in &t.capabilities {
            assert!(
                capability_for_tag(capability).is_some(),
                "{capability} has no CAPABILITIES entry"
            );
        }
    }

    #[test]
    fn users_file_lines_are_email_comma_password() {
        let accounts = parse_users("# staging\n\na@x.test, pw-one\nb@x.test,pw,two\n").unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].email, "a@x.test");
        assert_eq!(accounts[0].password, "pw-one");
        // Only the first comma splits: a password may hold commas.
        assert_eq!(accounts[1].password, "pw,two");
        let error = parse_users("a@x.test secret-pw\n").unwrap_err();
        assert!(
            error.contains("line 1") && !error.contains("secret-pw"),
            "{error}"
        );
        assert!(parse_users("# nothing\n").is_err());
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
