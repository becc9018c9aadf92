//! Steps for a Next.js app that mounts Better Auth: server-action forms (nextCookies),
//! route-handler Set-Cookie propagation, proxy.ts route protection.
//!
//! The app is `target.next_app` (`--next-app URL`, or the bundled targets/nextjs). A step that
//! enters the app points the scenario's client at it (Better Auth's route handler is mounted at
//! the target's base path there too), and the scenario then browses like a browser without
//! JavaScript: it GETs a page, submits its server-action form as multipart/form-data
//! (`crate::next`), and keeps the cookies the app sets in `world.kept_cookies`, which is the
//! visitor's cookie jar in these scenarios. `world.session_start` is the answer that started
//! the session through a server action; `world.kept_session_cookie` the session cookie the
//! route handler set, for comparison.

use super::cookies::describe_set_cookies;
use cucumber::{given, then, when};
use url::Url;

use super::accounts::{register_answer_secrets, sign_in_request, sign_up_request};
use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::{Client, CookieChoice, Endpoint, Exchange, Request};
use crate::next::{self, ActionForm};
use crate::protocol::cookie::{SetCookie, cookie_name};

const RULE_FORM: &str = "the page renders a server-action form that works without JavaScript ($ACTION_ID_ or $ACTION_REF_ fields)";
const RULE_REDIRECT: &str = "a server action that redirects answers the no-JavaScript form post with 303 See Other and Location";
const RULE_ACTION_COOKIE: &str = "a server action that signs in through auth.api sends the session cookie: nextCookies() copies Better Auth's Set-Cookie into Next's response";
const RULE_SAME_MEANING: &str = "the session cookie a server action sets means the same as the route handler's (Path, Domain, HttpOnly, Secure, SameSite, lifetime)";
const RULE_DASHBOARD: &str =
    "the session cookie opens the protected page, which shows the signed-in user";
const RULE_PROXY: &str = "a visitor without a session cookie is redirected from the protected page to sign-in (proxy.ts)";
const RULE_FORGED: &str = "the protected page validates the session itself (auth.api.getSession), not only that a session cookie is present";
const RULE_SIGN_OUT: &str = "sign-out through a server action clears every cookie the sign-in set (session cookie and cookie cache: Max-Age=0, Path=/)";
const RULE_REVOKED: &str = "after sign-out through a server action, the old session token no longer opens the protected page";
const RULE_ROUTE_LINES: &str = "the route handler (toNextJsHandler) passes every Set-Cookie through on its own line: the session cookie and the cookie cache both arrive";

/// The app under test, or a failure saying how to give one.
fn app_url(world: &mut AuthWorld) -> Result<Url, StepFailure> {
    match world.target().next_app.clone() {
        Some(url) => Ok(url),
        None => Err(world.fail(
            "a Next.js app is known (precondition)",
            "--next-app URL, or the bundled app (conform without --target)",
            "no Next.js app was given",
        )),
    }
}

fn app_name(world: &AuthWorld, name: &str) -> String {
    let secure = world
        .target()
        .next_app
        .as_ref()
        .is_some_and(|u| u.scheme() == "https");
    cookie_name(&world.target().cookie_prefix, name, secure)
}

fn session_name(world: &AuthWorld) -> String {
    app_name(world, "session_token")
}

/// Points the scenario's client at the app, with an empty cookie jar.
fn enter_app(world: &mut AuthWorld) -> StepResult {
    let url = app_url(world)?;
    let target = world.target();
    let mut endpoint = Endpoint::new(&url, &target.base_path, target.timeout);
    endpoint.ca_pem = target.ca_pem.clone();
    // The run's address pool: every client of the run has its own rate-limit bucket.
    endpoint.client_ips = target.client_ips.clone();
    endpoint.secrets = target.secrets.clone();
    world.client = Client::new(endpoint).map_err(|e| {
        world.fail(
            "a Next.js app is known (precondition)",
            "an HTTP client for the app",
            e.to_string(),
        )
    })?;
    world.client.clear_cookies();
    world.kept_cookies.clear();
    Ok(())
}

/// GETs a page of the app with exactly `cookies`; the answer's Set-Cookie lines update the jar.
async fn open(
    world: &mut AuthWorld,
    path: &str,
    cookies: Vec<(String, String)>,
) -> Result<Exchange, StepFailure> {
    let mut request = Request::get(path).cookies(CookieChoice::Exactly(cookies));
    request.absolute = true;
    let exchange = world.send(request).await?;
    register_answer_secrets(&exchange);
    next::apply_set_cookies(&mut world.kept_cookies, &exchange);
    Ok(exchange)
}

/// Submits the server-action form on `page` that has every one of `fields`, with `values`, as
/// a browser without JavaScript would; records the answer as the last exchange.
async fn submit_form(
    world: &mut AuthWorld,
    page: &str,
    fields: &[&str],
    values: &[(&str, &str)],
) -> Result<Exchange, StepFailure> {
    let jar = world.kept_cookies.clone();
    let page_exchange = open(world, page, jar).await?;
    if page_exchange.status != 200 {
        return Err(world.fail(
            RULE_FORM,
            format!("HTTP 200 with the page {page}"),
            format!(
                "HTTP {}{}",
                page_exchange.status,
                page_exchange
                    .header("location")
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let forms = next::find_action_forms(&page_exchange.body);
    let Some(form) = next::select_form(&forms, fields).cloned() else {
        let found = if forms.is_empty() {
            "no form with a $ACTION_ID_ or $ACTION_REF_ field".to_string()
        } else {
            format!(
                "{} server-action form(s), none with the inputs: {}",
                forms.len(),
                forms
                    .iter()
                    .map(|f| format!("[{}]", f.input_names().join(", ")))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        return Err(world.fail(
            RULE_FORM,
            format!(
                "a server-action form on {page} with the inputs {}",
                if fields.is_empty() {
                    "(any)".to_string()
                } else {
                    fields.join(", ")
                }
            ),
            found,
        ));
    };
    post_form(world, &page_exchange, &form, values).await
}

async fn post_form(
    world: &mut AuthWorld,
    page_exchange: &Exchange,
    form: &ActionForm,
    values: &[(&str, &str)],
) -> Result<Exchange, StepFailure> {
    let page_url = Url::parse(&page_exchange.url).map_err(|e| {
        world.fail(
            RULE_FORM,
            "a page URL",
            format!("{}: {e}", page_exchange.url),
        )
    })?;
    let target = world.target().clone();
    let origin = page_url.origin().ascii_serialization();
    let http = next::http_client(
        target.timeout,
        target.ca_pem.as_deref().map(String::as_str),
        &origin,
    )
    .map_err(|e| world.fail(RULE_FORM, "an HTTP client for the app", e.to_string()))?;
    let url = next::action_url(&page_url, form);
    let fields = form.fill(values);
    let jar = world.kept_cookies.clone();
    match next::submit(
        &http,
        target.timeout,
        &target.secrets,
        &url,
        &fields,
        &jar,
        &[],
    )
    .await
    {
        Ok(exchange) => {
            register_answer_secrets(&exchange);
            next::apply_set_cookies(&mut world.kept_cookies, &exchange);
            world.last = Some(exchange.clone());
            Ok(exchange)
        }
        Err(e) => Err(world.fail_on(
            &format!("the app answers the {}", form.describe()),
            "a complete HTTP response",
            e.to_string(),
            None,
        )),
    }
}

/// Signs a fresh user up through the app's route handler (a separate request without cookies;
/// the jar stays empty).
async fn sign_up_through_route_handler(world: &mut AuthWorld) -> StepResult {
    enter_app(world)?;
    let user = world.random_user();
    let exchange = world.send(sign_up_request(&user)).await?;
    register_answer_secrets(&exchange);
    super::require_status(
        world,
        &exchange,
        200,
        "sign-up through the app's route handler works (precondition)",
        "HTTP 200",
    )?;
    world.user = Some(user);
    Ok(())
}

async fn sign_in_through_form(world: &mut AuthWorld, page: &str) -> StepResult {
    let user = world.user()?;
    let exchange = submit_form(
        world,
        page,
        &["email", "password"],
        &[("email", &user.email), ("password", &user.password)],
    )
    .await?;
    world.session_start = Some(exchange);
    Ok(())
}

/// A 3xx answer's `Location`, resolved against the request URL.
fn redirect_target(exchange: &Exchange) -> Option<Url> {
    let base = Url::parse(&exchange.url).ok()?;
    if (300..400).contains(&exchange.status) {
        return base.join(exchange.header("location")?).ok();
    }
    None
}

fn describe_answer(exchange: &Exchange) -> String {
    let mut text = format!("HTTP {}", exchange.status);
    if let Some(location) = exchange.header("location") {
        text.push_str(&format!(", Location: {location}"));
    }
    let alerts = next::alert_text(&exchange.body);
    if !alerts.is_empty() {
        text.push_str(&format!(", the page says: {}", alerts.join(" / ")));
    }
    text
}

fn started_exchange(world: &mut AuthWorld) -> Result<Exchange, StepFailure> {
    world.session_start.clone().ok_or_else(|| {
        super::wiring(
            world,
            "a server action submitted by an earlier step",
            "none was",
        )
    })
}

/// The session cookie a server action's answer set (non-empty, not expired).
fn action_session_cookie(exchange: &Exchange, name: &str) -> Option<SetCookie> {
    exchange
        .set_cookie(name)
        .filter(|c| !c.value.is_empty() && c.max_age.is_none_or(|m| m > 0))
}

// ---------------------------------------------------------------------------------------------
// Given

#[given("a visitor of the Next.js app")]
async fn a_visitor(world: &mut AuthWorld) -> StepResult {
    enter_app(world)
}

#[given("a user who signed up through the Next.js app's route handler")]
async fn signed_up_user(world: &mut AuthWorld) -> StepResult {
    sign_up_through_route_handler(world).await
}

#[given(expr = "a user signed in through the server-action form on {string}")]
async fn signed_in_user(world: &mut AuthWorld, page: String) -> StepResult {
    sign_up_through_route_handler(world).await?;
    sign_in_through_form(world, &page).await?;
    let exchange = world.last_exchange()?;
    let name = session_name(world);
    if action_session_cookie(&exchange, &name).is_none() {
        return Err(world.fail(
            &format!("{RULE_ACTION_COOKIE} (precondition)"),
            format!("a `Set-Cookie: {name}=…` line in the server action's answer"),
            format!(
                "no Set-Cookie for `{name}`: {} ({})",
                describe_set_cookies(&exchange),
                describe_answer(&exchange)
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// When

#[when(expr = "the visitor signs up through the server-action form on {string}")]
async fn sign_up_through_form(world: &mut AuthWorld, page: String) -> StepResult {
    let user = world.random_user();
    world.user = Some(user.clone());
    let exchange = submit_form(
        world,
        &page,
        &["name", "email", "password"],
        &[
            ("name", &user.name),
            ("email", &user.email),
            ("password", &user.password),
        ],
    )
    .await?;
    world.session_start = Some(exchange);
    Ok(())
}

#[when(expr = "the user signs in through the server-action form on {string}")]
async fn sign_in_form(world: &mut AuthWorld, page: String) -> StepResult {
    sign_in_through_form(world, &page).await
}

#[when("the user signs in through the route handler")]
async fn sign_in_route_handler(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let exchange = world
        .send(sign_in_request(&user.email, &user.password, None).cookies(CookieChoice::None))
        .await?;
    register_answer_secrets(&exchange);
    super::require_status(
        world,
        &exchange,
        200,
        "sign-in through the app's route handler works (precondition)",
        "HTTP 200",
    )?;
    let name = session_name(world);
    world.kept_session_cookie = exchange.set_cookie(&name);
    Ok(())
}

#[when(expr = "the user opens {string} in the Next.js app")]
async fn user_opens(world: &mut AuthWorld, path: String) -> StepResult {
    let jar = world.kept_cookies.clone();
    open(world, &path, jar).await?;
    Ok(())
}

#[when(expr = "the visitor opens {string} without cookies")]
async fn visitor_opens_without_cookies(world: &mut AuthWorld, path: String) -> StepResult {
    open(world, &path, Vec::new()).await?;
    Ok(())
}

#[when(expr = "the visitor opens {string} with a forged session cookie")]
async fn visitor_opens_forged(world: &mut AuthWorld, path: String) -> StepResult {
    // Shaped like a real one (`<32 chars>.<base64 HMAC>`, URL-encoded), signed with no key.
    let forged = format!(
        "{}.{}",
        world.random_string(32),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
    );
    let name = session_name(world);
    open(world, &path, vec![(name, forged)]).await?;
    Ok(())
}

#[when(expr = "the user signs out through the server-action form on {string}")]
async fn sign_out_form(world: &mut AuthWorld, page: String) -> StepResult {
    submit_form(world, &page, &[], &[]).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Then

#[then(expr = "the server action answers 303 See Other to {string}")]
async fn action_redirects(world: &mut AuthWorld, path: String) -> StepResult {
    let exchange = world.last_exchange()?;
    let target = redirect_target(&exchange);
    if exchange.status == 303 && target.as_ref().is_some_and(|t| t.path() == path) {
        return Ok(());
    }
    Err(world.fail(
        RULE_REDIRECT,
        format!("HTTP 303 with Location: {path}"),
        describe_answer(&exchange),
    ))
}

#[then("the server action sets the session cookie")]
async fn action_sets_cookie(world: &mut AuthWorld) -> StepResult {
    let exchange = started_exchange(world)?;
    let name = session_name(world);
    if action_session_cookie(&exchange, &name).is_some() {
        return Ok(());
    }
    let actual = match exchange.set_cookie(&name) {
        Some(c) => format!(
            "a `{name}` Set-Cookie without a live value: {}",
            world.secrets().redact_set_cookie(&c.raw)
        ),
        None => format!(
            "no Set-Cookie for `{name}`: {} ({})",
            describe_set_cookies(&exchange),
            describe_answer(&exchange)
        ),
    };
    Err(world.fail_on(
        RULE_ACTION_COOKIE,
        format!("a `Set-Cookie: {name}=…` line in the server action's answer"),
        actual,
        Some(exchange.excerpt()),
    ))
}

#[then("the server action's session cookie means the same as the route handler's")]
async fn same_meaning(world: &mut AuthWorld) -> StepResult {
    let exchange = started_exchange(world)?;
    let name = session_name(world);
    let Some(route) = world.kept_session_cookie.clone() else {
        return Err(world.fail(
            "sign-in through the app's route handler sets the session cookie (precondition)",
            format!("a `{name}` Set-Cookie from the route handler"),
            "none",
        ));
    };
    let Some(action) = action_session_cookie(&exchange, &name) else {
        return Err(world.fail_on(
            RULE_ACTION_COOKIE,
            format!("a `Set-Cookie: {name}=…` line in the server action's answer"),
            describe_set_cookies(&exchange),
            Some(exchange.excerpt()),
        ));
    };
    let date = exchange.header("date").and_then(next::parse_http_date);
    let differences = next::meaning_differences(&action, date, &route, None);
    if differences.is_empty() {
        return Ok(());
    }
    Err(world.fail_on(
        RULE_SAME_MEANING,
        format!(
            "the route handler's attributes: {}",
            world.secrets().redact_set_cookie(&route.raw)
        ),
        format!(
            "{} ({})",
            differences.join("; "),
            world.secrets().redact_set_cookie(&action.raw)
        ),
        Some(exchange.excerpt()),
    ))
}

#[then("the page answers 200 and shows the user's name")]
async fn page_shows_user(world: &mut AuthWorld) -> StepResult {
    let (exchange, user) = super::last_exchange_and_user(world)?;
    let escaped = user
        .name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if exchange.status == 200 && exchange.body.contains(&escaped) {
        return Ok(());
    }
    let actual = if exchange.status == 200 {
        "HTTP 200 without the user's name in the page".to_string()
    } else {
        describe_answer(&exchange)
    };
    Err(world.fail(
        RULE_DASHBOARD,
        format!("HTTP 200 with `{}` in the page", user.name),
        actual,
    ))
}

#[then(expr = "the visitor is redirected to {string}")]
async fn redirected_to(world: &mut AuthWorld, path: String) -> StepResult {
    check_redirect(world, RULE_PROXY, &path)
}

#[then(expr = "the page redirects to {string} because the session is not valid")]
async fn invalid_session_redirected(world: &mut AuthWorld, path: String) -> StepResult {
    check_redirect(world, RULE_FORGED, &path)
}

fn check_redirect(world: &mut AuthWorld, rule: &str, path: &str) -> StepResult {
    let exchange = world.last_exchange()?;
    if redirect_target(&exchange).is_some_and(|t| t.path() == path) {
        return Ok(());
    }
    Err(world.fail(
        rule,
        format!("a redirect (3xx with Location) to {path}"),
        describe_answer(&exchange),
    ))
}

#[then("the server action clears the session cookie and the cookie cache")]
async fn action_clears_cookies(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let started = started_exchange(world)?;
    let date = exchange.header("date").and_then(next::parse_http_date);
    let mut names: Vec<String> = started
        .set_cookies()
        .into_iter()
        .filter(|c| !c.value.is_empty())
        .map(|c| c.name)
        .collect();
    names.dedup();
    for required in [session_name(world), app_name(world, "session_data")] {
        if !names.contains(&required) {
            names.push(required);
        }
    }
    for name in names {
        let cleared = exchange.set_cookie(&name).is_some_and(|c| {
            let expired = match (c.max_age, c.expires.as_deref()) {
                (Some(m), _) => m <= 0,
                (None, Some(e)) => {
                    next::parse_http_date(e).is_some_and(|at| date.is_none_or(|now| at <= now))
                }
                (None, None) => false,
            };
            expired && c.path.as_deref() == Some("/")
        });
        if !cleared {
            let actual = match exchange.set_cookie(&name) {
                Some(c) => world.secrets().redact_set_cookie(&c.raw),
                None => format!(
                    "no Set-Cookie for `{name}`: {} ({})",
                    describe_set_cookies(&exchange),
                    describe_answer(&exchange)
                ),
            };
            return Err(world.fail(
                RULE_SIGN_OUT,
                format!("Set-Cookie: {name}=; Max-Age=0; Path=/"),
                actual,
            ));
        }
    }
    Ok(())
}

#[then(expr = "the old session cookie alone no longer opens {string}")]
async fn old_cookie_refused(world: &mut AuthWorld, path: String) -> StepResult {
    let started = started_exchange(world)?;
    let name = session_name(world);
    let Some(cookie) = action_session_cookie(&started, &name) else {
        return Err(world.fail(
            "a session was started (precondition)",
            format!("a `{name}` cookie from the sign-in"),
            "none was set",
        ));
    };
    let exchange = open(world, &path, vec![(cookie.name, cookie.value)]).await?;
    let user = world.user()?;
    let refused = match redirect_target(&exchange) {
        Some(_) => true,
        None => exchange.status != 200 || !exchange.body.contains(&user.name),
    };
    if refused && exchange.status < 500 {
        return Ok(());
    }
    Err(world.fail(
        RULE_REVOKED,
        format!("{path} redirects to sign-in (the session is gone from the database)"),
        if exchange.status == 200 {
            "HTTP 200 with the user's page".to_string()
        } else {
            describe_answer(&exchange)
        },
    ))
}

#[then(
    "the route handler sends the session cookie and the cookie cache each on its own Set-Cookie line"
)]
async fn route_handler_lines(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    super::cookies::check_no_folded_lines(world, &exchange, RULE_ROUTE_LINES)?;
    for name in [session_name(world), app_name(world, "session_data")] {
        let found = exchange
            .set_cookies()
            .iter()
            .any(|c| c.name == name && !c.value.is_empty());
        if !found {
            return Err(world.fail(
                RULE_ROUTE_LINES,
                format!(
                    "a `Set-Cookie: {name}=…` line of its own (with session.cookieCache on, sign-in sets session_token and session_data)"
                ),
                format!("none for `{name}`: {}", describe_set_cookies(&exchange)),
            ));
        }
    }
    Ok(())
}
