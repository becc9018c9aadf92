//! The cucumber World: one per scenario, with its own HTTP client, cookie jar and test user.

pub mod passive;
pub mod state;

use std::fmt;
use std::sync::{Arc, RwLock};

use cucumber::World;

use crate::error::HarnessError;
use crate::http::{Client, Exchange, HttpError, Request};
use crate::protocol::cookie::{SetCookie, cookie_name};
use crate::redact::Secrets;
use crate::target::Target;

/// What every scenario of one run shares.
#[derive(Debug)]
pub struct RunContext {
    pub target: Target,
    /// The given accounts (`--user-email`, `--users-file`), leased per scenario.
    pub accounts: AccountPool,
    /// The OAuth clients the run registers once for all its scenarios.
    pub clients: RegisteredClients,
}

/// OAuth clients a run registers at most once, for every scenario that needs one: dynamic
/// registration is rate-limited and leaves a client behind on the target.
#[derive(Debug, Default)]
pub struct RegisteredClients {
    /// A second public client with the first one's redirect_uri (isolation between clients).
    pub second: tokio::sync::OnceCell<String>,
    /// A confidential client (client_id, client_secret), for introspection and client
    /// authentication.
    pub confidential: tokio::sync::OnceCell<(String, String)>,
}

/// The given accounts, each behind a lock: scenarios using an account share it, a scenario that
/// ends every session of its account holds it alone. Results then do not depend on
/// --concurrency: no scenario's session is ended by another scenario.
#[derive(Debug, Default)]
pub struct AccountPool {
    entries: Vec<(crate::target::Account, Arc<tokio::sync::RwLock<()>>)>,
    next: std::sync::atomic::AtomicUsize,
}

impl AccountPool {
    pub fn new(accounts: Vec<crate::target::Account>) -> Self {
        AccountPool {
            entries: accounts
                .into_iter()
                .map(|a| (a, Arc::new(tokio::sync::RwLock::new(()))))
                .collect(),
            next: Default::default(),
        }
    }

    /// The next account in turn and its lease (shared, or `exclusive`); `None` without
    /// given accounts.
    pub async fn lease(&self, exclusive: bool) -> Option<(crate::target::Account, AccountLease)> {
        if self.entries.is_empty() {
            return None;
        }
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (account, lock) = &self.entries[turn % self.entries.len()];
        let lease = if exclusive {
            AccountLease::Exclusive(Arc::clone(lock).write_owned().await)
        } else {
            AccountLease::Shared(Arc::clone(lock).read_owned().await)
        };
        Some((account.clone(), lease))
    }
}

/// The run context of the current `conform` run. cucumber builds Worlds through a function
/// without arguments, so the context is process-wide; one process runs one conform at a time.
static CURRENT: RwLock<Option<Arc<RunContext>>> = RwLock::new(None);

pub fn set_current(context: Option<Arc<RunContext>>) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = context;
}

fn current() -> Option<Arc<RunContext>> {
    CURRENT.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub use crate::report::{StepFailure, indent};

pub type StepResult = Result<(), StepFailure>;

pub use crate::test_user::TestUser;

#[derive(World)]
#[world(init = Self::new)]
pub struct AuthWorld {
    pub ctx: Arc<RunContext>,
    pub client: Client,
    pub user: Option<TestUser>,
    /// The last exchange; the one `Then` steps check.
    pub last: Option<Exchange>,
    /// The answer that started the current session (sign-up or sign-in).
    pub session_start: Option<Exchange>,
    /// A copy of the session cookie kept before sign-out, for replay.
    pub kept_session_cookie: Option<SetCookie>,
    /// Every cookie of the session kept before sign-out (session_token and session_data), for
    /// the cookie cache replay.
    pub kept_cookies: Vec<(String, String)>,
    /// A second signed-in client of the same user (another device) and its session token.
    pub second_device: Option<(Client, String)>,
    /// A session expiry read earlier (session-refresh scenarios).
    pub kept_expiry: Option<time::OffsetDateTime>,
    /// Exchanges of a burst (rate-limit scenarios), in order.
    pub burst: Vec<Exchange>,
    /// A second password used by a duplicate sign-up, to check it did not take over the account.
    pub kept_password: Option<String>,
    /// JWT plugin scenarios' state (steps/jwt.rs).
    pub jwt: state::JwtState,
    /// OAuth provider scenarios' state (steps/oauth.rs).
    pub oauth: state::OAuthState,
    /// Resource server scenarios' state (steps/resource.rs).
    pub resource: state::ResourceState,
    /// The failure a step reported, for the run summary.
    pub failure: Option<StepFailure>,
    /// Why the scenario cannot run on this target: a precondition found missing only while it
    /// ran (sign-up closed, no second client, ...). Set, the scenario is reported skipped with
    /// this reason, never failed.
    pub skip_reason: Option<String>,
    /// The given account this scenario uses (`--user-email` or `--users-file`), leased for the
    /// whole scenario (see [`AccountLease`]).
    pub account: Option<crate::target::Account>,
    /// Held while the scenario runs: shared by scenarios that only use the account, exclusive
    /// for one that ends every session of it.
    pub account_lease: Option<AccountLease>,
    /// What the passive checks must not find in any response (steps/passive.rs).
    pub passive: passive::PassiveState,
    /// A second user of the same scenario (isolation scenarios, steps/isolation.rs).
    pub other_user: Option<state::OtherUser>,
    /// Answers to requests from origins that only look trusted (steps/origin.rs).
    pub lookalike_answers: Vec<(crate::protocol::origin::Lookalike, Exchange)>,
}

/// A lease on a given account: a read guard (the account's sessions are used) or a write guard
/// (the scenario ends every session of the account, so nothing else may use it meanwhile).
pub enum AccountLease {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Exclusive(tokio::sync::OwnedRwLockWriteGuard<()>),
}

// Hand-written so that no Debug print (cucumber shows the World on failures at higher verbosity)
// can carry a password or a cookie value.
impl fmt::Debug for AuthWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthWorld")
            .field("target", &self.ctx.target.description)
            .field("user", &self.user.as_ref().map(|u| u.email.clone()))
            .field(
                "last",
                &self
                    .last
                    .as_ref()
                    .map(|e| format!("{} {} -> {}", e.method, e.url, e.status)),
            )
            .finish_non_exhaustive()
    }
}

impl AuthWorld {
    async fn new() -> Result<Self, HarnessError> {
        let ctx = current().ok_or_else(|| {
            HarnessError::Usage(
                "no conform run is active (AuthWorld built outside conform::run)".into(),
            )
        })?;
        let client =
            Client::new(ctx.target.endpoint()).map_err(|e| HarnessError::Usage(e.to_string()))?;
        Ok(AuthWorld {
            ctx,
            client,
            user: None,
            last: None,
            session_start: None,
            kept_session_cookie: None,
            kept_password: None,
            kept_cookies: Vec::new(),
            second_device: None,
            kept_expiry: None,
            burst: Vec::new(),
            jwt: Default::default(),
            oauth: Default::default(),
            resource: Default::default(),
            failure: None,
            skip_reason: None,
            account: None,
            account_lease: None,
            passive: Default::default(),
            other_user: None,
            lookalike_answers: Vec::new(),
        })
    }

    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// The run's redaction: what its failure messages, skips and excerpts must not show.
    pub fn secrets(&self) -> &Secrets {
        &self.ctx.target.secrets
    }

    /// A random alphanumeric string of `len` characters, noted as made up by the run (snapshots
    /// replace it with a placeholder).
    pub fn random_string(&self, len: usize) -> String {
        self.target().made_up.random_string(len)
    }

    /// A fresh random user (see [`TestUser::random`]), made up by the run.
    pub fn random_user(&self) -> TestUser {
        TestUser::random(&self.target().made_up, self.secrets())
    }

    /// The run's context (shared by every scenario of the run).
    pub fn run_context(&self) -> Arc<RunContext> {
        self.ctx.clone()
    }

    /// Signs out every client of this scenario that holds a session of the given account:
    /// sessions the harness starts on an account it did not create must not pile up there
    /// (list-sessions answers at most 100). Best effort: the verdict is already made.
    pub async fn end_given_account_sessions(&mut self) {
        if self.account.is_none() {
            return;
        }
        let name = self.session_cookie_name();
        let mut clients: Vec<&mut Client> = vec![&mut self.client];
        if let Some((device, _)) = self.second_device.as_mut() {
            clients.push(device);
        }
        clients.extend(self.resource.clients());
        for client in clients {
            if client.cookie(&name).is_some() {
                let _ = client
                    .send(Request::post_json("/sign-out", serde_json::json!({})))
                    .await;
            }
        }
    }

    /// Takes this scenario's given account, if any (see [`AccountPool`]).
    pub async fn lease_account(&mut self, exclusive: bool) {
        if let Some((account, lease)) = self.ctx.accounts.lease(exclusive).await {
            self.account = Some(account);
            self.account_lease = Some(lease);
        }
    }

    /// The session cookie's documented name for this target.
    pub fn session_cookie_name(&self) -> String {
        cookie_name(
            &self.target().cookie_prefix,
            "session_token",
            self.target().is_https(),
        )
    }

    pub fn cookie_name(&self, name: &str) -> String {
        cookie_name(&self.target().cookie_prefix, name, self.target().is_https())
    }

    /// Sends a request and makes it the exchange later steps check. A transport error is a
    /// failed step naming the cause (timeout, refused, ...), never a panic.
    pub async fn send(&mut self, request: Request) -> Result<Exchange, StepFailure> {
        let what = format!("{} {}", request.method, request.path);
        match self.client.send(request).await {
            Ok(exchange) => {
                self.last = Some(exchange.clone());
                // Rules that hold for every response (protocol::passive).
                passive::observe(self, &exchange)?;
                Ok(exchange)
            }
            Err(e) => Err(self.transport_failure(&what, e)),
        }
    }

    fn transport_failure(&mut self, what: &str, error: HttpError) -> StepFailure {
        let rule = match &error {
            HttpError::Body { .. } => format!("the server answers {what} with a complete body"),
            HttpError::Unsendable { .. } => format!(
                "{what} can be sent: what the server hands out fits in a header (no control characters)"
            ),
            HttpError::Tls { .. } => format!("the TLS handshake for {what} succeeds"),
            _ => format!("the server answers {what}"),
        };
        let failure = StepFailure {
            rule,
            expected: "a complete HTTP response".into(),
            actual: self.secrets().scrub_text(&error.to_string()),
            exchange: None,
        };
        self.failure = Some(failure.clone());
        failure
    }

    /// Records and returns a failure of `rule`, quoting the last exchange.
    pub fn fail(
        &mut self,
        rule: &str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> StepFailure {
        let exchange = self.last.as_ref().map(Exchange::excerpt);
        self.fail_on(rule, expected, actual, exchange)
    }

    pub fn fail_on(
        &mut self,
        rule: &str,
        expected: impl Into<String>,
        actual: impl Into<String>,
        exchange: Option<String>,
    ) -> StepFailure {
        let failure = StepFailure {
            rule: rule.to_string(),
            expected: self.secrets().scrub_text(&expected.into()),
            actual: self.secrets().scrub_text(&actual.into()),
            exchange,
        };
        self.failure = Some(failure.clone());
        failure
    }

    /// Stops the scenario as skipped: `reason` says what is missing and the flag or setting
    /// that supplies it. The returned failure only ends the step; the report shows a skip.
    pub fn skip(&mut self, reason: impl Into<String>) -> StepFailure {
        let reason = self.secrets().scrub_text(&reason.into());
        self.skip_reason = Some(reason.clone());
        StepFailure {
            rule: "precondition".into(),
            expected: reason.clone(),
            actual: format!("skipped: {reason}"),
            exchange: None,
        }
    }

    /// The last exchange, or a failure saying a step is missing before this one.
    pub fn last_exchange(&mut self) -> Result<Exchange, StepFailure> {
        let last = self.last.clone();
        self.wired(
            last,
            "a request before this step",
            "no request was made yet (the feature file misses a When step)",
        )
    }

    pub fn user(&mut self) -> Result<TestUser, StepFailure> {
        let user = self.user.clone();
        self.wired(
            user,
            "a test user made by an earlier step",
            "no user yet (the feature file misses a Given step)",
        )
    }

    /// What an earlier step of the scenario left, or a "scenario wiring" failure saying which
    /// step the feature file misses.
    fn wired<T>(
        &mut self,
        left: Option<T>,
        expected: &str,
        actual: &str,
    ) -> Result<T, StepFailure> {
        left.ok_or_else(|| self.fail("scenario wiring", expected, actual))
    }
}

fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<StepFailure>();
}
