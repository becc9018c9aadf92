//! A fake Better Auth server on wiremock, for proving that every conformance scenario can fail.
//!
//! In its compliant mode ([`Flaw::None`]) it answers what the features use the way Better Auth
//! 1.7 does (email and password sign-up and sign-in, get-session, sign-out, signed cookies and
//! the cookie cache). Every other [`Flaw`] breaks exactly one documented rule, so a broken
//! server can be started per scenario and the harness must then report that scenario failed.
//!
//! The signing and encoding code here is written independently of the harness's own
//! (`ba_harness::protocol::cookie`), so that the two check each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The secret the fake signs with (and the harness is given with `--secret`).
pub const SECRET: &str = "fake-better-auth-secret-for-ba-harness-tests-0001";
/// What [`Flaw::WrongSigningSecret`] signs with instead.
const OTHER_SECRET: &str = "a-secret-the-harness-was-not-given-0002";

const BASE_PATH: &str = "/api/auth";
const PREFIX: &str = "better-auth";
/// Better Auth's default session lifetime (session.expiresIn), 7 days.
const SESSION_SECS: i64 = 7 * 24 * 60 * 60;
/// The lifetime of a session started with rememberMe false, 1 day.
const SHORT_SESSION_SECS: i64 = 24 * 60 * 60;
/// session.cookieCache.maxAge.
const COOKIE_CACHE_SECS: i64 = 300;

/// One way of breaking the documented protocol; `None` is the compliant server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// Compliant: behaves like Better Auth 1.7.
    None,

    // --- email and password -------------------------------------------------------------
    /// Sign-up answers 200 {token, user} but sets no cookie at all.
    SignUpWithoutSessionCookie,
    /// Sign-in answers with a user record that is not the user who signed in.
    SignInAnswersAnotherUser,
    /// get-session without any cookie answers 401 instead of 200 `null`.
    GetSessionAnonymous401,
    /// get-session without any cookie answers 200 `{}` instead of `null`.
    GetSessionAnonymousEmptyObject,
    /// A wrong password is answered 400 (with the right JSON body).
    WrongPassword400,
    /// A wrong password is answered 401 with a text/plain body.
    WrongPasswordTextPlain,
    /// A wrong password is answered 401 + JSON, but a session is started and its cookie set.
    WrongPasswordSetsCookie,
    /// An unknown email is answered 404 {code: USER_NOT_FOUND}.
    UnknownEmail404,
    /// An unknown email is answered 401 but with code USER_NOT_FOUND (reveals the email is new).
    UnknownEmailUserNotFoundCode,
    /// A duplicate sign-up is accepted: 200, the password is overwritten, a session starts.
    DuplicateSignUpAccepted,
    /// A duplicate sign-up is refused with 422 but still starts a session for the account.
    DuplicateSignUpSetsCookie,
    /// A duplicate sign-up is refused with 422 but overwrites the account's password anyway.
    DuplicateSignUpOverwritesPassword,
    /// A duplicate sign-up is refused with 422 but its password now signs in too.
    DuplicateSignUpAddsPassword,
    /// Sign-out answers 200 `{}` instead of `{"success": true}`.
    SignOutEmptyBody,

    // --- the session cookie -------------------------------------------------------------
    /// The session cookie is named `ba.session_token`.
    CookieRenamed,
    /// The session cookie lacks HttpOnly.
    NotHttpOnly,
    /// The session cookie is SameSite=Strict.
    SameSiteStrict,
    /// The session cookie is SameSite=None.
    SameSiteNone,
    /// The session cookie has Path=/api/auth.
    PathApiAuth,
    /// The session cookie is Secure although the base URL is http.
    SecureOnHttp,
    /// The session cookie has Max-Age=86400 while the session lives 7 days.
    MaxAgeOneDay,
    /// rememberMe false: the session cookie keeps a Max-Age (the 1-day session's), though the
    /// signed dont_remember cookie is set.
    RememberMeKeepsMaxAge,
    /// rememberMe false: the session cookie has no Max-Age, but no dont_remember cookie is set.
    RememberMeNoDontRememberCookie,
    /// rememberMe false is ignored altogether (7-day session, Max-Age, no dont_remember).
    RememberMeIgnored,
    /// The session cookie value is the bare token, not signed (get-session accepts that).
    CookieUnsigned,
    /// The body names another (valid) session's token than the cookie carries.
    CookieTokenNotBodyToken,
    /// Cookies are signed (and verified) with a secret other than the one the harness is given.
    WrongSigningSecret,
    /// get-session accepts any signature: it checks only the token part.
    AcceptsAnySignature,
    /// get-session accepts the bare token without a signature.
    AcceptsUnsignedToken,
    /// Every response's cookies are folded into one Set-Cookie header joined by ", ".
    FoldedSetCookie,

    // --- sign-out -----------------------------------------------------------------------
    /// Sign-out sends no deletion cookies (but still revokes the session).
    SignOutNoDeletionCookies,
    /// Sign-out's deletion of the session cookie has Path=/api/auth, not the Path it was set on.
    SignOutDeletionWrongPath,
    /// Sign-out clears the session cookie but not the session_data (cookie cache) cookie.
    SignOutKeepsSessionData,
    /// Sign-out folds its deletion cookies into one Set-Cookie header.
    SignOutFoldedCookies,
    /// Sign-out clears the cookies but does not revoke the session on the server.
    SignOutDoesNotRevoke,
}

/// A registered user.
#[derive(Clone, Debug)]
struct User {
    id: String,
    email: String,
    name: String,
    /// Passwords that sign this user in (one, except under [`Flaw::DuplicateSignUpAddsPassword`]).
    passwords: Vec<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// A server-side session.
#[derive(Clone, Debug)]
struct Session {
    id: String,
    token: String,
    user_id: String,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// The fake's database.
#[derive(Debug)]
pub struct State {
    secret: String,
    /// By lowercased email.
    users: HashMap<String, User>,
    /// By token.
    sessions: HashMap<String, Session>,
}

impl State {
    pub fn new(secret: &str) -> Self {
        State {
            secret: secret.to_string(),
            users: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.values().find(|u| u.id == id)
    }

    fn start_session(&mut self, user_id: &str, lifetime_secs: i64) -> Session {
        let now = now_millis();
        let session = Session {
            id: random_id(),
            token: random_id(),
            user_id: user_id.to_string(),
            expires_at: now + Duration::seconds(lifetime_secs),
            created_at: now,
            updated_at: now,
        };
        self.sessions.insert(session.token.clone(), session.clone());
        session
    }
}

/// The wiremock responder: one instance serves every request of a mock server.
pub struct FakeBetterAuth {
    pub state: Arc<Mutex<State>>,
    pub flaw: Flaw,
}

/// Starts a fake Better Auth on 127.0.0.1 with `flaw`, signing with [`SECRET`].
pub async fn start(flaw: Flaw) -> MockServer {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(State::new(SECRET)));
    Mock::given(any())
        .respond_with(FakeBetterAuth { state, flaw })
        .mount(&server)
        .await;
    server
}

/// One Set-Cookie line to send.
#[derive(Clone, Debug)]
struct OutCookie {
    name: String,
    value: String,
    max_age: Option<i64>,
    path: &'static str,
    http_only: bool,
    secure: bool,
    same_site: &'static str,
}

impl OutCookie {
    /// A cookie with Better Auth's attributes: `Path=/; HttpOnly; SameSite=Lax`.
    fn new(name: &str, value: String, max_age: Option<i64>) -> Self {
        OutCookie {
            name: name.to_string(),
            value,
            max_age,
            path: "/",
            http_only: true,
            secure: false,
            same_site: "Lax",
        }
    }

    /// Better Auth's deletion: empty value, `Max-Age=0`, same Path.
    fn deletion(name: &str) -> Self {
        OutCookie::new(name, String::new(), Some(0))
    }

    fn line(&self) -> String {
        let mut line = format!("{}={}", self.name, self.value);
        if let Some(max_age) = self.max_age {
            line.push_str(&format!("; Max-Age={max_age}"));
        }
        line.push_str(&format!("; Path={}", self.path));
        if self.http_only {
            line.push_str("; HttpOnly");
        }
        if self.secure {
            line.push_str("; Secure");
        }
        line.push_str(&format!("; SameSite={}", self.same_site));
        line
    }
}

fn cookie_name(name: &str) -> String {
    format!("{PREFIX}.{name}")
}

impl Respond for FakeBetterAuth {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(route) = request.url.path().strip_prefix(BASE_PATH) else {
            return ResponseTemplate::new(404);
        };
        match (request.method.as_str(), route) {
            ("POST", "/sign-up/email") => self.sign_up(&mut state, request),
            ("POST", "/sign-in/email") => self.sign_in(&mut state, request),
            ("GET", "/get-session") => self.get_session(&state, request),
            ("POST", "/sign-out") => self.sign_out(&mut state, request),
            _ => ResponseTemplate::new(404),
        }
    }
}

impl FakeBetterAuth {
    fn sign_up(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let Some((email, password, name)) = credentials(request, true) else {
            return json_error(400, "VALIDATION_ERROR", "Invalid body");
        };
        let key = email.to_lowercase();
        if let Some(existing) = state.users.get_mut(&key) {
            let existing_id = existing.id.clone();
            let refused = || {
                json_error(
                    422,
                    "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                    "User already exists. Use another email.",
                )
            };
            return match self.flaw {
                Flaw::DuplicateSignUpAccepted => {
                    existing.passwords = vec![password];
                    existing.name = name;
                    existing.updated_at = now_millis();
                    let user = existing.clone();
                    let session = state.start_session(&existing_id, SESSION_SECS);
                    let body = json!({"token": session.token, "user": user_json(&user)});
                    let cookies = self.session_cookies(state, &session, &user, true);
                    self.with_cookies(
                        ResponseTemplate::new(200).set_body_json(body),
                        cookies,
                        false,
                    )
                }
                Flaw::DuplicateSignUpSetsCookie => {
                    let user = existing.clone();
                    let session = state.start_session(&existing_id, SESSION_SECS);
                    let cookies = self.session_cookies(state, &session, &user, true);
                    self.with_cookies(refused(), cookies, false)
                }
                Flaw::DuplicateSignUpOverwritesPassword => {
                    existing.passwords = vec![password];
                    refused()
                }
                Flaw::DuplicateSignUpAddsPassword => {
                    existing.passwords.push(password);
                    refused()
                }
                _ => refused(),
            };
        }
        let now = now_millis();
        let user = User {
            id: random_id(),
            email: key.clone(),
            name,
            passwords: vec![password],
            created_at: now,
            updated_at: now,
        };
        state.users.insert(key, user.clone());
        let session = state.start_session(&user.id, SESSION_SECS);
        let body = json!({"token": session.token, "user": user_json(&user)});
        let response = ResponseTemplate::new(200).set_body_json(body);
        if self.flaw == Flaw::SignUpWithoutSessionCookie {
            return response;
        }
        let cookies = self.session_cookies(state, &session, &user, true);
        self.with_cookies(response, cookies, false)
    }

    fn sign_in(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let Some((email, password, _)) = credentials(request, false) else {
            return json_error(400, "VALIDATION_ERROR", "Invalid body");
        };
        // Better Auth's rememberMe defaults to true.
        let mut remember = body_json(request)
            .and_then(|b| b.get("rememberMe").and_then(Value::as_bool))
            .unwrap_or(true);
        if self.flaw == Flaw::RememberMeIgnored {
            remember = true;
        }
        let Some(user) = state.users.get(&email.to_lowercase()).cloned() else {
            return match self.flaw {
                Flaw::UnknownEmail404 => json_error(404, "USER_NOT_FOUND", "User not found"),
                Flaw::UnknownEmailUserNotFoundCode => {
                    json_error(401, "USER_NOT_FOUND", "User not found")
                }
                _ => invalid_credentials(),
            };
        };
        if !user.passwords.contains(&password) {
            return match self.flaw {
                Flaw::WrongPassword400 => json_error(
                    400,
                    "INVALID_EMAIL_OR_PASSWORD",
                    "Invalid email or password",
                ),
                Flaw::WrongPasswordTextPlain => {
                    ResponseTemplate::new(401).set_body_string("Invalid email or password")
                }
                Flaw::WrongPasswordSetsCookie => {
                    let session = state.start_session(&user.id, SESSION_SECS);
                    let cookies = self.session_cookies(state, &session, &user, true);
                    self.with_cookies(invalid_credentials(), cookies, false)
                }
                _ => invalid_credentials(),
            };
        }
        let lifetime = if remember {
            SESSION_SECS
        } else {
            SHORT_SESSION_SECS
        };
        let session = state.start_session(&user.id, lifetime);
        let body_token = if self.flaw == Flaw::CookieTokenNotBodyToken {
            state.start_session(&user.id, lifetime).token
        } else {
            session.token.clone()
        };
        let body_user = if self.flaw == Flaw::SignInAnswersAnotherUser {
            let now = now_millis();
            user_json(&User {
                id: random_id(),
                email: "someone-else@fake-better-auth.test".into(),
                name: "Someone Else".into(),
                passwords: Vec::new(),
                created_at: now,
                updated_at: now,
            })
        } else {
            user_json(&user)
        };
        let body = json!({"redirect": false, "token": body_token, "user": body_user});
        let cookies = self.session_cookies(state, &session, &user, remember);
        self.with_cookies(
            ResponseTemplate::new(200).set_body_json(body),
            cookies,
            false,
        )
    }

    fn get_session(&self, state: &State, request: &Request) -> ResponseTemplate {
        if request.headers.get("cookie").is_none() {
            match self.flaw {
                Flaw::GetSessionAnonymous401 => {
                    return json_error(401, "UNAUTHORIZED", "Unauthorized");
                }
                Flaw::GetSessionAnonymousEmptyObject => {
                    return ResponseTemplate::new(200).set_body_json(json!({}));
                }
                _ => {}
            }
        }
        let found = self
            .cookie_token(state, request)
            .and_then(|token| state.sessions.get(&token))
            .filter(|s| s.expires_at > OffsetDateTime::now_utc())
            .and_then(|s| state.user_by_id(&s.user_id).map(|u| (s, u)));
        match found {
            Some((session, user)) => ResponseTemplate::new(200)
                .set_body_json(json!({"session": session_json(session), "user": user_json(user)})),
            None => ResponseTemplate::new(200).set_body_raw("null", "application/json"),
        }
    }

    fn sign_out(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        // Better Auth 1.7 deletes the session the signed cookie names (if any) and always
        // answers success with the cookies cleared.
        if let Some(token) = self.cookie_token(state, request)
            && self.flaw != Flaw::SignOutDoesNotRevoke
        {
            state.sessions.remove(&token);
        }
        let body = if self.flaw == Flaw::SignOutEmptyBody {
            json!({})
        } else {
            json!({"success": true})
        };
        let mut deletions = vec![
            OutCookie::deletion(&self.session_cookie_name()),
            OutCookie::deletion(&cookie_name("session_data")),
            OutCookie::deletion(&cookie_name("dont_remember")),
        ];
        match self.flaw {
            Flaw::SignOutNoDeletionCookies => deletions.clear(),
            Flaw::SignOutKeepsSessionData => {
                deletions.retain(|c| c.name != cookie_name("session_data"))
            }
            Flaw::SignOutDeletionWrongPath => deletions[0].path = "/api/auth",
            _ => {}
        }
        let fold = self.flaw == Flaw::SignOutFoldedCookies;
        self.with_cookies(
            ResponseTemplate::new(200).set_body_json(body),
            deletions,
            fold,
        )
    }

    fn session_cookie_name(&self) -> String {
        if self.flaw == Flaw::CookieRenamed {
            "ba.session_token".into()
        } else {
            cookie_name("session_token")
        }
    }

    fn signing_secret<'a>(&self, state: &'a State) -> &'a str {
        if self.flaw == Flaw::WrongSigningSecret {
            OTHER_SECRET
        } else {
            &state.secret
        }
    }

    /// The cookies that start a session: the signed session token, the cookie cache and, with
    /// rememberMe false, the signed dont_remember marker.
    fn session_cookies(
        &self,
        state: &State,
        session: &Session,
        user: &User,
        remember: bool,
    ) -> Vec<OutCookie> {
        let secret = self.signing_secret(state);
        let value = if self.flaw == Flaw::CookieUnsigned {
            session.token.clone()
        } else {
            encode_uri_component(&format!(
                "{}.{}",
                session.token,
                hmac_base64(secret, &session.token)
            ))
        };
        let max_age = if remember { Some(SESSION_SECS) } else { None };
        let mut token = OutCookie::new(&self.session_cookie_name(), value, max_age);
        match self.flaw {
            Flaw::NotHttpOnly => token.http_only = false,
            Flaw::SameSiteStrict => token.same_site = "Strict",
            Flaw::SameSiteNone => token.same_site = "None",
            Flaw::PathApiAuth => token.path = "/api/auth",
            Flaw::SecureOnHttp => token.secure = true,
            Flaw::MaxAgeOneDay if remember => token.max_age = Some(SHORT_SESSION_SECS),
            Flaw::RememberMeKeepsMaxAge if !remember => token.max_age = Some(SHORT_SESSION_SECS),
            _ => {}
        }
        let mut cookies = vec![token];
        cookies.push(OutCookie::new(
            &cookie_name("session_data"),
            cookie_cache_value(secret, session, user),
            Some(COOKIE_CACHE_SECS),
        ));
        if !remember && self.flaw != Flaw::RememberMeNoDontRememberCookie {
            let signed = format!("true.{}", hmac_base64(secret, "true"));
            cookies.push(OutCookie::new(
                &cookie_name("dont_remember"),
                encode_uri_component(&signed),
                None,
            ));
        }
        cookies
    }

    /// Adds `cookies`, each in its own Set-Cookie header, or folded into one when `fold` is
    /// set or the flaw folds everything.
    fn with_cookies(
        &self,
        mut response: ResponseTemplate,
        cookies: Vec<OutCookie>,
        fold: bool,
    ) -> ResponseTemplate {
        if cookies.is_empty() {
            return response;
        }
        if fold || self.flaw == Flaw::FoldedSetCookie {
            let joined = cookies
                .iter()
                .map(OutCookie::line)
                .collect::<Vec<_>>()
                .join(", ");
            return response.insert_header("set-cookie", joined.as_str());
        }
        for cookie in &cookies {
            response = response.append_header("set-cookie", cookie.line().as_str());
        }
        response
    }

    /// The session token the request's session cookie carries, if its signature verifies
    /// (or the flaw accepts it anyway).
    fn cookie_token(&self, state: &State, request: &Request) -> Option<String> {
        let raw = request_cookie(request, &self.session_cookie_name())?;
        let decoded = percent_decode(&raw)?;
        match decoded.rsplit_once('.') {
            Some((token, signature)) => {
                let verifies = hmac_base64(self.signing_secret(state), token) == signature;
                (verifies || self.flaw == Flaw::AcceptsAnySignature).then(|| token.to_string())
            }
            None => matches!(self.flaw, Flaw::AcceptsUnsignedToken | Flaw::CookieUnsigned)
                .then_some(decoded)
                .filter(|t| !t.is_empty()),
        }
    }
}

/// `{email, password[, name]}` from a JSON body.
fn credentials(request: &Request, need_name: bool) -> Option<(String, String, String)> {
    let body = body_json(request)?;
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let email = field("email").filter(|e| e.contains('@'))?;
    let password = field("password").filter(|p| !p.is_empty())?;
    let name = field("name").unwrap_or_default();
    if need_name && name.is_empty() {
        return None;
    }
    Some((email, password, name))
}

fn body_json(request: &Request) -> Option<Value> {
    serde_json::from_slice(&request.body).ok()
}

/// The value of cookie `name` in the request's Cookie header(s), as sent.
fn request_cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

fn json_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"code": code, "message": message}))
}

fn invalid_credentials() -> ResponseTemplate {
    json_error(
        401,
        "INVALID_EMAIL_OR_PASSWORD",
        "Invalid email or password",
    )
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "emailVerified": false,
        "image": null,
        "createdAt": rfc3339_millis(user.created_at),
        "updatedAt": rfc3339_millis(user.updated_at),
    })
}

fn session_json(session: &Session) -> Value {
    json!({
        "id": session.id,
        "token": session.token,
        "userId": session.user_id,
        "expiresAt": rfc3339_millis(session.expires_at),
        "createdAt": rfc3339_millis(session.created_at),
        "updatedAt": rfc3339_millis(session.updated_at),
        "ipAddress": "",
        "userAgent": "",
    })
}

/// The cookie cache: base64url of `{session: {session, user}, expiresAt, signature}`.
fn cookie_cache_value(secret: &str, session: &Session, user: &User) -> String {
    let payload = json!({"session": session_json(session), "user": user_json(user)});
    let expires_at =
        (OffsetDateTime::now_utc() + Duration::seconds(COOKIE_CACHE_SECS)).unix_timestamp() * 1000;
    let signature = {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(format!("{payload}{expires_at}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    };
    let cache = json!({"session": payload, "expiresAt": expires_at, "signature": signature});
    URL_SAFE_NO_PAD.encode(cache.to_string())
}

/// Standard padded base64 of HMAC-SHA256(key = secret, message = value), as better-call signs.
fn hmac_base64(secret: &str, value: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(value.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// JavaScript's encodeURIComponent: keeps A-Z a-z 0-9 and `-_.!~*'()`.
fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Undoes percent-encoding; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// 32 random alphanumerics, like Better Auth's ids and session tokens.
fn random_id() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Now, truncated to milliseconds (what a JavaScript Date holds).
fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .expect("a whole number of milliseconds is a valid nanosecond")
}

/// `2026-11-30T11:13:17.386Z`, as JavaScript's Date.toISOString writes.
fn rfc3339_millis(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_like_javascript() {
        assert_eq!(encode_uri_component("a+b/c=.~"), "a%2Bb%2Fc%3D.~");
        assert_eq!(
            percent_decode("a%2Bb%2Fc%3D.~").as_deref(),
            Some("a+b/c=.~")
        );
        assert_eq!(percent_decode("bad%2"), None);
    }

    #[test]
    fn signatures_are_44_character_padded_base64() {
        let signature = hmac_base64(SECRET, "token");
        assert_eq!(signature.len(), 44);
        assert!(signature.ends_with('='));
    }

    #[test]
    fn dates_look_like_to_iso_string() {
        let at = OffsetDateTime::from_unix_timestamp(1_796_037_197).unwrap();
        assert_eq!(rfc3339_millis(at), "2026-11-30T11:13:17.000Z");
    }
}
