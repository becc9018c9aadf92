//! Hygiene on real servers: the accounts a run creates are deleted at its end, where the target
//! allows it (Better Auth's `POST /delete-user`, on when `user.deleteUser.enabled` is set), so
//! repeated CI runs against a staging server do not pile up accounts.
//!
//! Every successful `POST /sign-up/email` a client of the run makes is noted in the run's
//! [`Ledger`] (an exchange observer the run owns), with the session cookies its answer set; later successful sign-ins to that account
//! add theirs. At the end the harness replays those cookies, newest session first, to
//! `POST /delete-user` with an empty body: a session younger than `session.freshAge` (a day by
//! default) deletes its user without a password check, so cleanup costs no password hash. Only
//! when every session is gone (the scenario signed out or revoked them) does it sign in again,
//! which costs the server one hash.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{Body, Client, CookieChoice, Endpoint, Exchange, ExchangeObserver, Request};

/// One account a harness client created on a target.
#[derive(Clone)]
pub struct CreatedAccount {
    /// Where it was created (`origin` + auth base path): cleanup only touches its own target.
    pub auth_url: String,
    pub email: String,
    pub password: String,
    /// Sessions the harness saw start for this account (sign-up, then sign-ins), oldest first:
    /// `name=value` of every cookie each answer set.
    pub sessions: Vec<Vec<(String, String)>>,
}

// Never print the password or the cookies.
impl fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedAccount")
            .field("auth_url", &self.auth_url)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The accounts one run created: an exchange observer on every client of the run.
#[derive(Debug, Default)]
pub struct Ledger(Mutex<Vec<CreatedAccount>>);

impl Ledger {
    fn accounts(&self) -> std::sync::MutexGuard<'_, Vec<CreatedAccount>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes one exchange: a successful sign-up adds its account, a sign-in adds its session,
    /// and a successful delete-user drops the account it was sent for.
    pub fn note_exchange(&self, endpoint: &Endpoint, request: &Request, exchange: &Exchange) {
        // An account a scenario deleted itself (delete-user scenarios) is not left for the
        // cleanup, which would report it as left behind.
        if request.method == Method::POST
            && !request.absolute
            && request.path == "/delete-user"
            && exchange.status == 200
        {
            let sent = exchange
                .request_headers
                .iter()
                .find(|(n, _)| n == "cookie")
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            self.accounts().retain(|a| {
                !a.sessions
                    .iter()
                    .flatten()
                    .any(|(n, v)| sent.contains(&format!("{n}={v}")))
            });
        }
        match account_event(endpoint, request, exchange) {
            Some(AccountEvent::Created(account)) => self.accounts().push(account),
            Some(AccountEvent::SignedIn { email, cookies }) => {
                let auth_url = endpoint.url_for("", false);
                // Emails are case-insensitive in Better Auth (stored lower-cased).
                if let Some(account) = self
                    .accounts()
                    .iter_mut()
                    .rev()
                    .find(|a| a.auth_url == auth_url && a.email.eq_ignore_ascii_case(&email))
                {
                    account.sessions.push(cookies);
                }
            }
            None => {}
        }
    }

    /// Takes the accounts created on this target (others stay for their own cleanup).
    pub fn take_accounts(&self, endpoint: &Endpoint) -> Vec<CreatedAccount> {
        let auth_url = endpoint.url_for("", false);
        let mut all = self.accounts();
        let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|a| a.auth_url == auth_url);
        *all = others;
        mine
    }
}

impl ExchangeObserver for Ledger {
    fn observe(&self, endpoint: &Endpoint, request: &Request, exchange: &Exchange) {
        self.note_exchange(endpoint, request, exchange);
    }
}

/// What a request/answer pair tells the ledger.
#[derive(Debug)]
pub enum AccountEvent {
    /// A successful email sign-up created this account.
    Created(CreatedAccount),
    /// A successful email sign-in started a session for this email (`name=value` cookies).
    SignedIn {
        email: String,
        cookies: Vec<(String, String)>,
    },
}

/// The ledger event of a request/answer pair: a successful email sign-up or sign-in.
pub fn account_event(
    endpoint: &Endpoint,
    request: &Request,
    exchange: &Exchange,
) -> Option<AccountEvent> {
    if request.method != Method::POST || request.absolute || exchange.status != 200 {
        return None;
    }
    let sign_up = match request.path.as_str() {
        "/sign-up/email" => true,
        "/sign-in/email" => false,
        _ => return None,
    };
    let Some(Body::Json(body)) = &request.body else {
        return None;
    };
    let email = body.get("email")?.as_str()?.to_string();
    let cookies: Vec<(String, String)> = exchange
        .set_cookies()
        .into_iter()
        .filter(|c| !c.is_deletion() && !c.value.is_empty())
        .map(|c| (c.name, c.value))
        .collect();
    if !sign_up {
        return (!cookies.is_empty()).then_some(AccountEvent::SignedIn { email, cookies });
    }
    let password = body.get("password")?.as_str()?.to_string();
    Some(AccountEvent::Created(CreatedAccount {
        auth_url: endpoint.url_for("", false),
        email,
        password,
        sessions: if cookies.is_empty() {
            Vec::new()
        } else {
            vec![cookies]
        },
    }))
}

/// What one `POST /delete-user` answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteAnswer {
    Deleted,
    /// 404: the endpoint is off (`user.deleteUser.enabled` is not set).
    Disabled,
    /// The target mails a confirmation link instead (`sendDeleteAccountVerification`).
    NeedsConfirmation,
    /// 401, or 400 SESSION_EXPIRED: the replayed session no longer works; sign in again.
    SessionGone,
    /// Anything else, described.
    Refused(String),
}

/// Classifies a `POST /delete-user` answer (Better Auth 1.7: `{success, message: "User deleted"}`).
pub fn classify_delete_answer(status: u16, body: Option<&Value>) -> DeleteAnswer {
    let code = body
        .and_then(|b| b.get("code"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = body
        .and_then(|b| b.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match status {
        200 if message == "Verification email sent" => DeleteAnswer::NeedsConfirmation,
        200 => DeleteAnswer::Deleted,
        404 => DeleteAnswer::Disabled,
        401 => DeleteAnswer::SessionGone,
        400 if code == "SESSION_EXPIRED" => DeleteAnswer::SessionGone,
        other if code.is_empty() => DeleteAnswer::Refused(format!("HTTP {other}")),
        other => DeleteAnswer::Refused(format!("HTTP {other} {code}")),
    }
}

/// What cleanup did, for the run's output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CleanupSummary {
    pub created: usize,
    pub deleted: usize,
    /// The target answered 404: deletion is off, nothing more was tried.
    pub disabled: bool,
    pub needs_confirmation: usize,
    /// Why accounts could not be deleted (redacted causes, at most a few kinds).
    pub failures: Vec<String>,
    /// Cleanup ran out of time.
    pub timed_out: bool,
}

impl fmt::Display for CleanupSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created == 0 {
            return write!(f, "cleanup: the run created no accounts");
        }
        let left = self.created - self.deleted;
        write!(
            f,
            "cleanup: deleted {} of {} accounts this run created",
            self.deleted, self.created
        )?;
        if left == 0 {
            return Ok(());
        }
        write!(
            f,
            "; {left} left behind (their emails start with conform-, load- or next-, at @ba-harness.test)"
        )?;
        if self.disabled {
            write!(
                f,
                ": the target answers 404 to POST /delete-user (enable user.deleteUser.enabled to let the harness clean up)"
            )?;
        }
        if self.needs_confirmation > 0 {
            write!(
                f,
                "; {} need an emailed confirmation (user.deleteUser.sendDeleteAccountVerification)",
                self.needs_confirmation
            )?;
        }
        if self.timed_out {
            write!(f, "; cleanup stopped at its time bound")?;
        }
        if !self.failures.is_empty() {
            write!(f, "; refused: {}", self.failures.join(", "))?;
        }
        Ok(())
    }
}

async fn post_delete(client: &mut Client, cookies: CookieChoice) -> Result<DeleteAnswer, String> {
    let exchange = client
        .send(Request::post_json("/delete-user", json!({})).cookies(cookies))
        .await
        .map_err(|e| client.endpoint().secrets.scrub_text(&e.to_string()))?;
    Ok(classify_delete_answer(
        exchange.status,
        exchange.json().ok().as_ref(),
    ))
}

/// Deletes one account: replays its sign-up session, or signs in again when that is gone.
async fn delete_account(endpoint: &Endpoint, account: &CreatedAccount) -> DeleteAnswer {
    let mut client = match Client::new(endpoint.clone()) {
        Ok(c) => c,
        Err(e) => return DeleteAnswer::Refused(e.to_string()),
    };
    for cookies in account.sessions.iter().rev() {
        match post_delete(&mut client, CookieChoice::Exactly(cookies.clone())).await {
            Ok(DeleteAnswer::SessionGone) => continue,
            Ok(answer) => return answer,
            Err(e) => return DeleteAnswer::Refused(e),
        }
    }
    let sign_in = client
        .send(
            Request::post_json(
                "/sign-in/email",
                json!({"email": account.email, "password": account.password}),
            )
            .cookies(CookieChoice::None),
        )
        .await;
    match sign_in {
        Ok(e) if e.status == 200 => {}
        // The account is gone already (a scenario deleted it) or its password changed: nothing
        // the harness can do, and nothing left to delete in the first case.
        Ok(e) => {
            return DeleteAnswer::Refused(format!("sign-in for cleanup got HTTP {}", e.status));
        }
        Err(e) => return DeleteAnswer::Refused(endpoint.secrets.scrub_text(&e.to_string())),
    }
    match post_delete(&mut client, CookieChoice::Jar).await {
        Ok(answer) => answer,
        Err(e) => DeleteAnswer::Refused(e),
    }
}

/// Deletes the accounts, `concurrency` at a time, within `bound`. Stops at the first 404 (the
/// target has deletion off: every other attempt would be refused the same way).
pub async fn delete_accounts(
    endpoint: &Endpoint,
    accounts: Vec<CreatedAccount>,
    concurrency: usize,
    bound: Duration,
) -> CleanupSummary {
    let mut summary = CleanupSummary {
        created: accounts.len(),
        ..Default::default()
    };
    if accounts.is_empty() {
        return summary;
    }
    // Cleanup traffic belongs to no scenario: the run's observers (recorder, ledger) never see it.
    let endpoint = &endpoint.unobserved();
    let deadline = tokio::time::Instant::now() + bound;
    // One probe first: against a target with deletion off, one request says so for all.
    let (probe, rest) = accounts.split_at(1);
    let mut answers = vec![delete_account(endpoint, &probe[0]).await];
    if answers[0] != DeleteAnswer::Disabled {
        let work = futures::stream::iter(rest.iter())
            .map(|account| delete_account(endpoint, account))
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>();
        match tokio::time::timeout_at(deadline, work).await {
            Ok(more) => answers.extend(more),
            Err(_) => summary.timed_out = true,
        }
    }
    for answer in answers {
        match answer {
            DeleteAnswer::Deleted => summary.deleted += 1,
            DeleteAnswer::Disabled => summary.disabled = true,
            DeleteAnswer::NeedsConfirmation => summary.needs_confirmation += 1,
            DeleteAnswer::SessionGone => push_unique(&mut summary.failures, "session gone".into()),
            DeleteAnswer::Refused(why) => push_unique(&mut summary.failures, why),
        }
    }
    summary
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) && list.len() < 5 {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn endpoint() -> Endpoint {
        endpoint_on(3000)
    }

    /// A target on this loopback port, for tests that keep two targets apart.
    fn endpoint_on(port: u16) -> Endpoint {
        Endpoint::new(
            &Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
            "/api/auth",
            Duration::from_secs(5),
        )
    }

    fn exchange(status: u16, set_cookies: &[&str]) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:3000/api/auth/sign-up/email".into(),
            request_headers: Vec::new(),
            request_body: None,
            status,
            headers: set_cookies
                .iter()
                .map(|c| ("set-cookie".to_string(), c.to_string()))
                .collect(),
            body: "{}".into(),
            body_truncated: false,
            elapsed: Duration::ZERO,
            secrets: Default::default(),
        }
    }

    /// A ledger that has noted one sign-up on the target at this port, answered with this
    /// session cookie.
    fn ledger_after_sign_up(port: u16, set_cookie: &str) -> (Ledger, Endpoint) {
        let ledger = Ledger::default();
        let here = endpoint_on(port);
        ledger.note_exchange(&here, &sign_up(), &exchange(200, &[set_cookie]));
        (ledger, here)
    }

    fn sign_up() -> Request {
        Request::post_json(
            "/sign-up/email",
            json!({"email": "conform-a@ba-harness.test", "password": "pw-1234567890", "name": "A"}),
        )
    }

    #[test]
    fn a_successful_sign_up_is_noted_with_its_session_cookies() {
        let Some(AccountEvent::Created(account)) = account_event(
            &endpoint(),
            &sign_up(),
            &exchange(
                200,
                &[
                    "better-auth.session_token=abc.sig; Path=/; HttpOnly",
                    "better-auth.dont_remember=; Max-Age=0",
                ],
            ),
        ) else {
            panic!("not a created account");
        };
        assert_eq!(account.email, "conform-a@ba-harness.test");
        assert_eq!(account.password, "pw-1234567890");
        assert_eq!(account.auth_url, "http://127.0.0.1:3000/api/auth");
        assert_eq!(
            account.sessions,
            vec![vec![(
                "better-auth.session_token".to_string(),
                "abc.sig".to_string()
            )]]
        );
        assert!(!format!("{account:?}").contains("pw-1234567890"));
    }

    #[test]
    fn refused_sign_ups_and_other_requests_are_not_noted() {
        assert!(account_event(&endpoint(), &sign_up(), &exchange(422, &[])).is_none());
        let session = Request::get("/get-session");
        assert!(account_event(&endpoint(), &session, &exchange(200, &[])).is_none());
        let mut absolute = sign_up();
        absolute.absolute = true;
        assert!(account_event(&endpoint(), &absolute, &exchange(200, &[])).is_none());
    }

    #[test]
    fn a_later_sign_in_adds_its_session_to_the_account() {
        let (ledger, here) = ledger_after_sign_up(3777, "better-auth.session_token=one.s");
        let sign_in = Request::post_json(
            "/sign-in/email",
            json!({"email": "Conform-A@BA-Harness.test", "password": "pw-1234567890"}),
        );
        ledger.note_exchange(
            &here,
            &sign_in,
            &exchange(200, &["better-auth.session_token=two.s"]),
        );
        let accounts = ledger.take_accounts(&here);
        assert_eq!(accounts.len(), 1);
        let values: Vec<&str> = accounts[0]
            .sessions
            .iter()
            .map(|s| s[0].1.as_str())
            .collect();
        assert_eq!(values, ["one.s", "two.s"]);
    }

    #[test]
    fn an_account_a_scenario_deleted_itself_leaves_the_ledger() {
        let (ledger, here) = ledger_after_sign_up(3778, "better-auth.session_token=gone.s");
        let mut deleted = exchange(200, &[]);
        deleted.request_headers =
            vec![("cookie".into(), "better-auth.session_token=gone.s".into())];
        ledger.note_exchange(
            &here,
            &Request::post_json("/delete-user", json!({})),
            &deleted,
        );
        assert!(ledger.take_accounts(&here).is_empty());
    }

    #[test]
    fn delete_answers_are_classified_as_better_auth_sends_them() {
        let ok = json!({"success": true, "message": "User deleted"});
        assert_eq!(
            classify_delete_answer(200, Some(&ok)),
            DeleteAnswer::Deleted
        );
        let mail = json!({"success": true, "message": "Verification email sent"});
        assert_eq!(
            classify_delete_answer(200, Some(&mail)),
            DeleteAnswer::NeedsConfirmation
        );
        assert_eq!(classify_delete_answer(404, None), DeleteAnswer::Disabled);
        assert_eq!(
            classify_delete_answer(401, Some(&json!({"code": "UNAUTHORIZED"}))),
            DeleteAnswer::SessionGone
        );
        assert_eq!(
            classify_delete_answer(400, Some(&json!({"code": "SESSION_EXPIRED"}))),
            DeleteAnswer::SessionGone
        );
        assert_eq!(
            classify_delete_answer(400, Some(&json!({"code": "INVALID_PASSWORD"}))),
            DeleteAnswer::Refused("HTTP 400 INVALID_PASSWORD".into())
        );
        assert_eq!(
            classify_delete_answer(500, None),
            DeleteAnswer::Refused("HTTP 500".into())
        );
    }

    #[test]
    fn the_summary_names_what_was_left_and_why() {
        let all = CleanupSummary {
            created: 3,
            deleted: 3,
            ..Default::default()
        };
        assert_eq!(
            all.to_string(),
            "cleanup: deleted 3 of 3 accounts this run created"
        );
        let off = CleanupSummary {
            created: 3,
            disabled: true,
            ..Default::default()
        };
        let text = off.to_string();
        assert!(text.contains("3 left behind"), "{text}");
        assert!(text.contains("user.deleteUser.enabled"), "{text}");
    }

    #[test]
    fn take_accounts_leaves_other_targets_accounts_in_the_ledger() {
        let ledger = Ledger::default();
        let here = endpoint();
        let elsewhere = endpoint_on(3999);
        ledger.note_exchange(&here, &sign_up(), &exchange(200, &[]));
        ledger.note_exchange(&elsewhere, &sign_up(), &exchange(200, &[]));
        let mine = ledger.take_accounts(&here);
        assert!(mine.iter().all(|a| a.auth_url.contains(":3000")));
        assert!(!mine.is_empty());
        let theirs = ledger.take_accounts(&elsewhere);
        assert!(!theirs.is_empty());
        assert!(theirs.iter().all(|a| a.auth_url.contains(":3999")));
    }
}
