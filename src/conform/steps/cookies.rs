//! The session cookie and its attributes, signing, separate Set-Cookie lines, and clearing.

use cucumber::then;
use time::OffsetDateTime;

use super::json_body;
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Exchange, Request};
use crate::protocol::cookie::{
    SetCookie, describe_chars, folded_cookie_names, invalid_value_chars, signature_matches,
    split_signed_value,
};
use crate::protocol::session::parse_session_answer;

/// How far the cookie's Max-Age may be from the session's remaining lifetime: covers the time
/// between sign-in and the get-session that reads expiresAt, and modest clock skew.
const LIFETIME_TOLERANCE_SECS: i64 = 300;

/// The session cookie in the last response: by its documented name, else (so attribute rules
/// still report on it when only the name is wrong) any cookie whose name ends in session_token.
fn session_cookie_in(world: &AuthWorld, exchange: &Exchange) -> Option<SetCookie> {
    let name = world.session_cookie_name();
    let cookies = exchange.set_cookies();
    cookies
        .iter()
        .rev()
        .find(|c| c.name == name && !c.value.is_empty())
        .or_else(|| {
            cookies
                .iter()
                .rev()
                .find(|c| c.name.ends_with("session_token") && !c.value.is_empty())
        })
        .cloned()
}

/// Fails `rule` with `expected`, quoting `cookie`'s Set-Cookie line (its value redacted).
pub(crate) fn fail_quoting_cookie(
    world: &mut AuthWorld,
    rule: &str,
    expected: impl Into<String>,
    cookie: &SetCookie,
) -> StepFailure {
    let quoted = world.secrets().redact_set_cookie(&cookie.raw);
    world.fail(rule, expected, quoted)
}

fn require_session_cookie(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(Exchange, SetCookie), StepFailure> {
    let exchange = world.last_exchange()?;
    match session_cookie_in(world, &exchange) {
        Some(c) => Ok((exchange, c)),
        None => {
            let name = world.session_cookie_name();
            Err(world.fail(
                rule,
                format!("a Set-Cookie for `{name}`"),
                describe_set_cookies(&exchange),
            ))
        }
    }
}

/// Every Set-Cookie line of an answer, values redacted, for failure messages.
pub(crate) fn describe_set_cookies(exchange: &Exchange) -> String {
    let lines = exchange.set_cookie_lines();
    if lines.is_empty() {
        "no Set-Cookie header".into()
    } else {
        format!(
            "Set-Cookie: {}",
            lines
                .iter()
                .map(|l| exchange.secrets.redact_set_cookie(l))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    }
}

#[then("the response sets the session cookie")]
async fn sets_session_cookie(world: &mut AuthWorld) -> StepResult {
    let rule = "a new session is sent to the browser as the session cookie";
    let exchange = world.last_exchange()?;
    let name = world.session_cookie_name();
    if let Some(cookie) = exchange.set_cookie(&name).filter(|c| !c.value.is_empty()) {
        let bad = invalid_value_chars(&cookie.value);
        if bad.is_empty() {
            return Ok(());
        }
        return Err(world.fail(
            "the session cookie's value is RFC 6265 cookie-octets (visible ASCII, as encodeURIComponent makes it)",
            format!("a `{name}` value of ASCII cookie-octets"),
            format!("the value of `{name}` holds {}", describe_chars(&bad)),
        ));
    }
    Err(world.fail(
        rule,
        format!("a Set-Cookie for `{name}` with a value"),
        describe_set_cookies(&exchange),
    ))
}

#[then("the response sets no session cookie")]
async fn sets_no_session_cookie(world: &mut AuthWorld) -> StepResult {
    let rule = "a refused request starts no session (no session cookie, no cookie cache)";
    let exchange = world.last_exchange()?;
    let session_cookie = |name: &str| {
        ["session_token", "session_data", "dont_remember"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
    };
    fail_on_first_line(
        world,
        &exchange,
        rule,
        "no session cookie with a value",
        |line| names_set(line).iter().any(|n| session_cookie(n)),
    )
}

/// The names of the cookies a Set-Cookie `line` sets with a value, comma-folded ones included.
fn names_set(line: &str) -> Vec<String> {
    let mut names: Vec<String> = SetCookie::parse(line)
        .ok()
        .filter(|c| !c.value.is_empty())
        .map(|c| vec![c.name])
        .unwrap_or_default();
    names.extend(folded_cookie_names(line));
    names
}

/// Fails `rule` with `expected`, quoting the first Set-Cookie line of `exchange` that `breaks`
/// it (redacted).
fn fail_on_first_line(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
    expected: &str,
    breaks: impl Fn(&str) -> bool,
) -> StepResult {
    match exchange.set_cookie_lines().into_iter().find(|l| breaks(l)) {
        Some(line) => Err(world.fail(rule, expected, world.secrets().redact_set_cookie(line))),
        None => Ok(()),
    }
}

#[then("the session cookie has the documented name")]
async fn documented_name(world: &mut AuthWorld) -> StepResult {
    let name = world.session_cookie_name();
    let rule = format!(
        "the session cookie is named `{name}` (`<prefix>.session_token`, with `__Secure-` on https)"
    );
    let (_, cookie) = require_session_cookie(world, &rule)?;
    if cookie.name != name {
        return Err(world.fail(&rule, format!("`{name}`"), format!("`{}`", cookie.name)));
    }
    Ok(())
}

#[then("the session cookie is HttpOnly")]
async fn http_only(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie is HttpOnly (page scripts cannot read it)";
    let (_, cookie) = require_session_cookie(world, rule)?;
    if !cookie.http_only {
        return Err(fail_quoting_cookie(
            world,
            rule,
            "the HttpOnly attribute",
            &cookie,
        ));
    }
    Ok(())
}

#[then("the session cookie has SameSite=Lax")]
async fn same_site_lax(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie is SameSite=Lax";
    let (_, cookie) = require_session_cookie(world, rule)?;
    let value = cookie.same_site.as_deref();
    let lax = cookie.same_site_is("Lax");
    require_attribute(world, rule, &cookie, ("SameSite", "Lax"), value, lax)
}

/// Fails `rule` unless the session cookie's attribute `name` is `want`: `value` is what it
/// carries, `matches` whether that is `want` as the attribute is compared.
fn require_attribute(
    world: &mut AuthWorld,
    rule: &str,
    cookie: &SetCookie,
    (name, want): (&str, &str),
    value: Option<&str>,
    matches: bool,
) -> StepResult {
    if matches {
        return Ok(());
    }
    let actual = match value {
        Some(v) => format!("{name}={v}"),
        None => format!("no {name} attribute"),
    };
    Err(world.fail(
        rule,
        format!("{name}={want}"),
        format!(
            "{actual} in {}",
            world.secrets().redact_set_cookie(&cookie.raw)
        ),
    ))
}

#[then("the session cookie has Path=/")]
async fn path_root(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie has Path=/ (sent to every route of the app)";
    let (_, cookie) = require_session_cookie(world, rule)?;
    let value = cookie.path.as_deref();
    require_attribute(
        world,
        rule,
        &cookie,
        ("Path", "/"),
        value,
        value == Some("/"),
    )
}

#[then("the session cookie is Secure exactly when the base URL is https")]
async fn secure_iff_https(world: &mut AuthWorld) -> StepResult {
    let https = world.target().is_https();
    let rule = if https {
        "on an https base URL the session cookie is Secure"
    } else {
        "on an http base URL the session cookie is not Secure (a browser would drop it)"
    };
    let (_, cookie) = require_session_cookie(world, rule)?;
    if cookie.secure != https {
        let expected = if https {
            "the Secure attribute"
        } else {
            "no Secure attribute"
        };
        return Err(fail_quoting_cookie(world, rule, expected, &cookie));
    }
    Ok(())
}

#[then("the session cookie has a Max-Age equal to the session's lifetime")]
async fn max_age_matches_lifetime(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie's Max-Age equals the session's lifetime (session.expiresAt)";
    let (_, cookie) = require_session_cookie(world, rule)?;
    let Some(max_age) = cookie.max_age else {
        let actual = match &cookie.max_age_raw {
            Some(raw) => format!("Max-Age={raw}, which is not a number"),
            None => "no Max-Age attribute".into(),
        };
        return Err(world.fail(
            rule,
            "Max-Age=<seconds until session.expiresAt>",
            format!(
                "{actual}: {}",
                world.secrets().redact_set_cookie(&cookie.raw)
            ),
        ));
    };
    // Read the session's expiry through get-session with exactly this cookie.
    let mut probe = Client::new(world.target().endpoint())
        .map_err(|e| world.fail(rule, "an HTTP client", e.to_string()))?;
    let exchange = probe
        .send(
            Request::get("/get-session").cookies(CookieChoice::Exactly(vec![(
                cookie.name.clone(),
                cookie.value.clone(),
            )])),
        )
        .await
        .map_err(|e| world.fail(rule, "an answer from get-session", e.to_string()))?;
    // Quoted on failure, but not made the "last" exchange: later steps check the sign-in answer.
    let probe = Some(exchange.excerpt());
    let answer = exchange
        .json()
        .map_err(|e| e.to_string())
        .and_then(|b| parse_session_answer(&b));
    let session = match answer {
        Ok(Some(s)) => s,
        Ok(None) => {
            let m = "get-session with the cookie returns the session";
            return Err(world.fail_on(rule, m, "null", probe));
        }
        Err(e) => {
            return Err(world.fail_on(rule, "get-session returns {session, user}", e, probe));
        }
    };
    let remaining = (session.expires_at - OffsetDateTime::now_utc()).whole_seconds();
    if (max_age - remaining).abs() > LIFETIME_TOLERANCE_SECS {
        return Err(world.fail(
            rule,
            format!(
                "Max-Age ≈ {remaining} s (session.expiresAt {})",
                session.expires_at
            ),
            format!(
                "Max-Age={max_age}: {}",
                world.secrets().redact_set_cookie(&cookie.raw)
            ),
        ));
    }
    Ok(())
}

#[then("the session cookie has neither Max-Age nor Expires")]
async fn browser_session_cookie(world: &mut AuthWorld) -> StepResult {
    let rule = "with rememberMe false the session cookie ends with the browser session (no Max-Age, no Expires)";
    let (_, cookie) = require_session_cookie(world, rule)?;
    if cookie.max_age_raw.is_some() || cookie.expires.is_some() {
        return Err(fail_quoting_cookie(
            world,
            rule,
            "neither Max-Age nor Expires",
            &cookie,
        ));
    }
    Ok(())
}

#[then("the response sets a signed dont_remember cookie")]
async fn dont_remember_cookie(world: &mut AuthWorld) -> StepResult {
    let name = world.cookie_name("dont_remember");
    let rule = format!("with rememberMe false the server sets a signed `{name}` cookie");
    let exchange = world.last_exchange()?;
    let Some(cookie) = exchange.set_cookie(&name).filter(|c| !c.value.is_empty()) else {
        return Err(world.fail(
            &rule,
            format!("a Set-Cookie for `{name}`"),
            describe_set_cookies(&exchange),
        ));
    };
    let secret = world.target().secret.clone();
    match split_signed_value(&cookie.decoded_value()) {
        Ok(signed) if signed.value == "true" => match secret {
            Some(secret) if !signature_matches(&secret, &signed) => Err(world.fail(
                &rule,
                "`true.<HMAC-SHA256 of \"true\" under the server secret>`",
                "a signature that does not match the server secret",
            )),
            _ => Ok(()),
        },
        Ok(_) => Err(world.fail(
            &rule,
            "the value `true.<signature>`",
            "another signed value",
        )),
        Err(e) => Err(world.fail(&rule, "the value `true.<signature>`", e.to_string())),
    }
}

#[then("the session cookie value is a token signed with an HMAC-SHA256 signature")]
async fn value_is_signed(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie value is signed: `<token>.<base64 HMAC-SHA256>`";
    let (_, cookie) = require_session_cookie(world, rule)?;
    if let Err(e) = split_signed_value(&cookie.decoded_value()) {
        return Err(world.fail(
            rule,
            "<token>.<44-character base64 signature>",
            e.to_string(),
        ));
    }
    Ok(())
}

#[then("the token in the session cookie is the session token in the response body")]
async fn cookie_token_matches_body(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie carries the session token the response body names";
    let (exchange, cookie) = require_session_cookie(world, rule)?;
    let body = json_body(world, &exchange, rule)?;
    let Some(token) = body
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
    else {
        return Err(world.fail(rule, "a `token` in the body", "no `token` string"));
    };
    match split_signed_value(&cookie.decoded_value()) {
        Ok(signed) if signed.value == token => Ok(()),
        Ok(_) => Err(world.fail(
            rule,
            "the cookie's token part equal to the body's `token`",
            "a different token",
        )),
        Err(e) => Err(world.fail(rule, "<token>.<signature>", e.to_string())),
    }
}

#[then("the session cookie's signature verifies with the server secret")]
async fn signature_verifies(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie's signature is HMAC-SHA256 of the token under the server secret";
    let (_, cookie) = require_session_cookie(world, rule)?;
    let Some(secret) = world.target().secret.clone() else {
        return Err(world.fail(
            rule,
            "a known server secret",
            "none was given (this scenario needs @server-secret)",
        ));
    };
    match split_signed_value(&cookie.decoded_value()) {
        Ok(signed) if signature_matches(&secret, &signed) => Ok(()),
        Ok(_) => Err(world.fail(
            rule,
            "base64(HMAC-SHA256(secret, token))",
            "a signature that does not match",
        )),
        Err(e) => Err(world.fail(rule, "<token>.<signature>", e.to_string())),
    }
}

#[then(expr = "the response sets at least {int} cookies")]
async fn at_least_cookies(world: &mut AuthWorld, count: usize) -> StepResult {
    let rule = format!("this response sets at least {count} cookies");
    let exchange = world.last_exchange()?;
    let names: Vec<String> = exchange
        .set_cookie_lines()
        .iter()
        .flat_map(|l| {
            let mut names: Vec<String> = SetCookie::parse(l)
                .map(|c| vec![c.name])
                .unwrap_or_default();
            names.extend(folded_cookie_names(l));
            names
        })
        .collect();
    if names.len() < count {
        return Err(world.fail(
            &rule,
            format!("{count} or more cookies"),
            describe_set_cookies(&exchange),
        ));
    }
    Ok(())
}

/// Fails `rule` when a Set-Cookie line of `exchange` carries more than one cookie (comma-folded).
pub(crate) fn check_no_folded_lines(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> StepResult {
    for line in exchange.set_cookie_lines() {
        let folded = folded_cookie_names(line);
        if !folded.is_empty() {
            return Err(world.fail(
                rule,
                "one cookie per Set-Cookie line",
                format!(
                    "one line also carries {}: {}",
                    folded.join(", "),
                    world.secrets().redact_set_cookie(line)
                ),
            ));
        }
    }
    Ok(())
}

#[then("every Set-Cookie header line carries exactly one cookie")]
async fn one_cookie_per_line(world: &mut AuthWorld) -> StepResult {
    let rule =
        "every cookie arrives in its own Set-Cookie header line, never comma-folded into one";
    let exchange = world.last_exchange()?;
    check_no_folded_lines(world, &exchange, rule)?;
    fail_on_first_line(
        world,
        &exchange,
        rule,
        "a `name=value` pair on each line",
        |line| SetCookie::parse(line).is_err(),
    )
}

#[then("the session cookie is cleared")]
async fn session_cookie_cleared(world: &mut AuthWorld) -> StepResult {
    let name = world.session_cookie_name();
    let rule = format!("sign-out clears `{name}` (empty value, Max-Age=0, Path=/)");
    let exchange = world.last_exchange()?;
    check_cleared(world, &exchange, &name, &rule)
}

#[then("every cookie set when the session started is cleared")]
async fn all_session_cookies_cleared(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let mut started: Vec<String> = Vec::new();
    if let Some(e) = world.session_start.as_ref() {
        for line in e.set_cookie_lines() {
            started.extend(names_set(line));
        }
    }
    started.dedup();
    check_all_cleared(world, &exchange, started, |name| {
        format!("sign-out clears every cookie the sign-in set, including `{name}`")
    })
}

/// Fails unless `exchange` clears each of the `started` cookies (the rule for one is
/// `rule_for(name)`); a session that started with no cookie fails its precondition.
pub(crate) fn check_all_cleared(
    world: &mut AuthWorld,
    exchange: &Exchange,
    started: Vec<String>,
    rule_for: impl Fn(&str) -> String,
) -> StepResult {
    if started.is_empty() {
        return Err(world.fail(
            "a session was started (precondition)",
            "cookies set by sign-in",
            "none",
        ));
    }
    for name in started {
        check_cleared(world, exchange, &name, &rule_for(&name))?;
    }
    Ok(())
}

pub(crate) fn check_cleared(
    world: &mut AuthWorld,
    exchange: &Exchange,
    name: &str,
    rule: &str,
) -> StepResult {
    let Some(cookie) = exchange.set_cookie(name) else {
        return Err(world.fail(
            rule,
            format!("Set-Cookie: {name}=; Max-Age=0; Path=/"),
            describe_set_cookies(exchange),
        ));
    };
    let expires_in_past = cookie
        .expires
        .as_deref()
        .is_some_and(|e| e.contains("1970"));
    let expired =
        cookie.max_age.is_some_and(|m| m <= 0) || (cookie.max_age.is_none() && expires_in_past);
    // A browser deletes a cookie whose Max-Age is 0 (or Expires is past) and whose Path matches
    // the one it was set with; the value does not matter, so it is not checked.
    if !expired || cookie.path.as_deref() != Some("/") {
        return Err(fail_quoting_cookie(
            world,
            rule,
            format!("{name}=; Max-Age=0; Path=/"),
            &cookie,
        ));
    }
    Ok(())
}

#[then("every cookie the response sets is Secure and __Secure- prefixed")]
async fn all_cookies_secure(world: &mut AuthWorld) -> StepResult {
    let rule = "on https every auth cookie is Secure and named with the __Secure- prefix";
    let exchange = world.last_exchange()?;
    let cookies = exchange.set_cookies();
    if cookies.is_empty() {
        return Err(world.fail(rule, "Set-Cookie lines", "none"));
    }
    for cookie in cookies {
        if !cookie.secure || !cookie.name.starts_with("__Secure-") {
            return Err(fail_quoting_cookie(
                world,
                rule,
                "__Secure-<name>=…; …; Secure",
                &cookie,
            ));
        }
    }
    Ok(())
}

#[then("every cookie the response sets is HttpOnly")]
async fn all_cookies_http_only(world: &mut AuthWorld) -> StepResult {
    let rule = "every cookie the auth server sets is HttpOnly (session data, the remember-me marker and the session token alike)";
    let exchange = world.last_exchange()?;
    let cookies = exchange.set_cookies();
    if cookies.is_empty() {
        return Err(world.fail(
            "a session was started (precondition)",
            "Set-Cookie lines",
            "none",
        ));
    }
    if let Some(cookie) = cookies.iter().find(|c| !c.http_only && !c.value.is_empty()) {
        return Err(fail_quoting_cookie(
            world,
            rule,
            format!("HttpOnly on `{}`", cookie.name),
            cookie,
        ));
    }
    Ok(())
}

#[then("the session cookie is host-only")]
async fn host_only(world: &mut AuthWorld) -> StepResult {
    let rule = "the session cookie is host-only: no Domain attribute widens it to other hosts (RFC 6265bis §5.7)";
    let (_, cookie) = require_session_cookie(world, rule)?;
    if let Some(domain) = &cookie.domain {
        return Err(world.fail(
            rule,
            "no Domain attribute",
            format!(
                "Domain={domain}, sent to every host under it: {}",
                world.secrets().redact_set_cookie(&cookie.raw)
            ),
        ));
    }
    Ok(())
}
