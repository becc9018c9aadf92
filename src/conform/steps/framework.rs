//! Steps for Better Auth inside a server framework (Express, NestJS, TanStack Start): the app's
//! own protected route, sign-in through the mounted handler in bounded time, and a malformed
//! body answered by Better Auth rather than by a framework body parser mounted in front of it.
//!
//! The app is the target itself (`--target URL --target-kind KIND`, or a bundled app from
//! `--apps`): Better Auth is mounted at the target's base path and the app's own routes live on
//! the same origin, so the scenario's client reaches both. A failure names the framework's
//! documented pitfall that causes it ([`pitfall`]).

use std::time::Duration;

use cucumber::{then, when};
use serde_json::Value;

use super::accounts::{register_answer_secrets, sign_in_request};
use super::json_body;
use crate::conform::world::{AuthWorld, StepResult};
use crate::framework_app::TargetKind;
use crate::http::{Body, Client, CookieChoice, HttpError, Request};
use crate::protocol::session::{is_json_content_type, parse_error_body};

/// The longest a sign-in through the app's handler may take before it counts as hanging.
pub const SIGN_IN_BOUND: Duration = Duration::from_secs(10);

const RULE_PROTECTED_OK: &str = "the app's protected route reads the session from the request's cookies (auth.api.getSession) and answers 200 with the signed-in user";
const RULE_PROTECTED_REFUSED: &str =
    "the app's protected route refuses a request without a valid session with 401";

/// What usually causes a failure of this kind in the target's framework, for the failure text.
fn pitfall(world: &AuthWorld, what: Pitfall) -> &'static str {
    let kind = world.target().kind;
    match (what, kind) {
        (Pitfall::BodyParser, Some(TargetKind::Express)) => {
            "express.json() (or another body parser) mounted before the auth handler (toNodeHandler): it reads the body first"
        }
        (Pitfall::BodyParser, Some(TargetKind::Nestjs)) => {
            "Nest's own body parser left on: NestFactory.create(AppModule, { bodyParser: false }) is what @thallesp/nestjs-better-auth needs"
        }
        (Pitfall::BodyParser, _) => {
            "a body parser in front of the Better Auth handler reads the request body first"
        }
        (Pitfall::Guard, Some(TargetKind::Nestjs)) => {
            "the route is not behind AuthGuard (disableGlobalAuthGuard set, or the route marked @AllowAnonymous())"
        }
        (Pitfall::Guard, Some(TargetKind::TanstackStart)) => {
            "the server route or server function does not check auth.api.getSession({ headers: getRequestHeaders() })"
        }
        (Pitfall::Guard, _) => {
            "the route does not check auth.api.getSession({ headers: fromNodeHeaders(req.headers) })"
        }
        (Pitfall::Headers, Some(TargetKind::Nestjs)) => {
            "the guard or @Session() does not see the request's cookies (AuthGuard reads them from the incoming request's headers)"
        }
        (Pitfall::Headers, Some(TargetKind::TanstackStart)) => {
            "the server code does not pass the incoming request's headers (getRequestHeaders()) to auth.api.getSession"
        }
        (Pitfall::Headers, _) => {
            "the route does not pass the request's own headers to auth.api.getSession (fromNodeHeaders(req.headers)), or the cookie never reaches it"
        }
    }
}

#[derive(Clone, Copy)]
enum Pitfall {
    BodyParser,
    Guard,
    Headers,
}

#[when(expr = "the user requests {string} from the app")]
async fn user_requests(world: &mut AuthWorld, path: String) -> StepResult {
    let mut request = Request::get(&path);
    request.absolute = true;
    super::send(world, request).await
}

#[when(expr = "a visitor requests {string} from the app without cookies")]
async fn visitor_requests(world: &mut AuthWorld, path: String) -> StepResult {
    let mut request = Request::get(&path).cookies(CookieChoice::None);
    request.absolute = true;
    super::send(world, request).await
}

#[when(expr = "a visitor requests {string} from the app with a forged session cookie")]
async fn visitor_requests_forged(world: &mut AuthWorld, path: String) -> StepResult {
    let name = world.session_cookie_name();
    // The shape of a real one (32-character token, dot, base64 HMAC), signed with no key.
    let forged = format!(
        "{}.{}",
        world.random_string(32),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
    );
    let mut request = Request::get(&path).cookies(CookieChoice::Exactly(vec![(name, forged)]));
    request.absolute = true;
    super::send(world, request).await
}

#[then("the app answers 200 with the signed-in user")]
async fn answers_with_user(world: &mut AuthWorld) -> StepResult {
    let (exchange, user) = super::last_exchange_and_user(world)?;
    if exchange.status != 200 {
        let hint = pitfall(world, Pitfall::Headers);
        return Err(world.fail(
            RULE_PROTECTED_OK,
            "HTTP 200 with {\"user\": {...}} of the signed-in user",
            format!(
                "HTTP {} for a request carrying the session cookie the sign-up set (check: {hint})",
                exchange.status
            ),
        ));
    }
    let body = json_body(world, &exchange, RULE_PROTECTED_OK)?;
    let found = body.get("user");
    let email = found.and_then(|u| u.get("email")).and_then(Value::as_str);
    let id = found.and_then(|u| u.get("id")).and_then(Value::as_str);
    let same_email = email.is_some_and(|e| e.eq_ignore_ascii_case(&user.email));
    let same_id = match (&user.id, id) {
        (Some(expected), Some(id)) => expected == id,
        _ => true,
    };
    if same_email && same_id {
        return Ok(());
    }
    Err(world.fail(
        RULE_PROTECTED_OK,
        format!("{{\"user\": {{\"email\": \"{}\", ...}}}}", user.email),
        match email {
            Some(email) => format!("a user with the email {email}"),
            None => "no user.email in the body".into(),
        },
    ))
}

#[then("the app refuses the request with 401")]
async fn refuses_with_401(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    if exchange.status == 401 {
        return Ok(());
    }
    let hint = pitfall(world, Pitfall::Guard);
    let shows_user = exchange
        .json()
        .ok()
        .and_then(|b| b.get("user").cloned())
        .is_some_and(|u| !u.is_null());
    Err(world.fail(
        RULE_PROTECTED_REFUSED,
        "HTTP 401",
        format!(
            "HTTP {}{} (check: {hint})",
            exchange.status,
            if shows_user { " with a user" } else { "" }
        ),
    ))
}

/// Sign-in through the app's handler with a client bounded by [`SIGN_IN_BOUND`] (or --timeout,
/// if shorter): no answer in time is a failure naming the framework's body-parser pitfall.
#[when("the user signs in through the app's auth handler")]
async fn signs_in_bounded(world: &mut AuthWorld) -> StepResult {
    let user = world.user()?;
    let bound = SIGN_IN_BOUND.min(world.target().timeout);
    let mut endpoint = world.target().endpoint();
    endpoint.timeout = bound;
    let rule = format!(
        "no request hangs: the app's auth handler answers a sign-in within {} s",
        bound.as_secs()
    );
    let mut client =
        Client::new(endpoint).map_err(|e| world.fail(&rule, "an HTTP client", e.to_string()))?;
    match client
        .send(sign_in_request(&user.email, &user.password, None))
        .await
    {
        Ok(exchange) => {
            register_answer_secrets(&exchange);
            world.last = Some(exchange);
            Ok(())
        }
        Err(error @ (HttpError::Timeout { .. } | HttpError::Body { .. })) => {
            let hint = pitfall(world, Pitfall::BodyParser);
            Err(world.fail_on(
                &rule,
                format!(
                    "an answer to POST /sign-in/email within {} s",
                    bound.as_secs()
                ),
                format!(
                    "{}: the request hangs, the usual cause being {hint}",
                    world.secrets().scrub_text(&error.to_string())
                ),
                None,
            ))
        }
        Err(error) => Err(world.fail_on(
            &rule,
            "an answer to POST /sign-in/email",
            error.to_string(),
            None,
        )),
    }
}

#[when("someone posts a truncated JSON body to sign-in")]
async fn posts_truncated_json(world: &mut AuthWorld) -> StepResult {
    let mut request = Request::post("/sign-in/email").cookies(CookieChoice::None);
    request.body = Some(Body::Raw {
        content_type: "application/json".into(),
        text: "{\"email\": \"someone@ba-harness.test\", \"password\":".into(),
    });
    super::send(world, request).await
}

#[then("Better Auth itself refuses the malformed body with a JSON error")]
async fn better_auth_refuses_malformed(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let hint = pitfall(world, Pitfall::BodyParser);
    let rule = format!(
        "the request body reaches Better Auth untouched: a malformed body gets Better Auth's 400 JSON error {{code, message}}, not a framework error page ({hint})"
    );
    let json = is_json_content_type(exchange.content_type());
    let parsed = exchange
        .json()
        .map_err(|e| e.to_string())
        .and_then(|b| parse_error_body(&b));
    if exchange.status == 400 && json && parsed.is_ok() {
        return Ok(());
    }
    Err(world.fail(
        &rule,
        "HTTP 400, content-type application/json, {\"code\":\"…\",\"message\":\"…\"}",
        format!(
            "HTTP {}, content-type {}{}",
            exchange.status,
            exchange.content_type().unwrap_or("(absent)"),
            match parsed {
                Ok(_) => String::new(),
                Err(e) => format!(", {e}"),
            }
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Server functions (TanStack Start): a sign-in form posted to a server function, as a browser
// without JavaScript posts it (multipart/form-data, the app's Origin). `world.kept_cookies` is
// the visitor's cookie jar in these steps.

const RULE_SERVER_FN_FORM: &str = "the page renders a form that posts to a server function (action=\"/_serverFn/…\", works without JavaScript)";
const RULE_SERVER_FN_REDIRECT: &str = "a server function that signs in and redirects answers the form post with a redirect to the protected page";
const RULE_SERVER_FN_COOKIE: &str = "a server function that signs in through auth.api sends the session cookie: tanstackStartCookies(), last in the plugin list, copies Better Auth's Set-Cookie into TanStack Start's response";

/// The `action` of the first `<form>` on the page that posts to a server function.
pub fn server_fn_form_action(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let tag_end = rest[start..].find('>').map(|i| start + i)?;
        let tag = &rest[start..tag_end];
        if let Some(i) = tag.find("action=\"") {
            let value = &tag[i + 8..];
            if let Some(end) = value.find('"') {
                let action = crate::next::decode_entities(&value[..end]);
                if action.contains("_serverFn") {
                    return Some(action);
                }
            }
        }
        rest = &rest[tag_end..];
    }
    None
}

#[when(expr = "the user signs in through the server-function form on {string}")]
async fn signs_in_through_server_fn(world: &mut AuthWorld, page: String) -> StepResult {
    let user = world.user()?;
    world.kept_cookies.clear();
    let mut request = Request::get(&page).cookies(CookieChoice::None);
    request.absolute = true;
    let page_exchange = world.send(request).await?;
    if page_exchange.status != 200 {
        return Err(world.fail(
            RULE_SERVER_FN_FORM,
            format!("HTTP 200 with the page {page}"),
            format!("HTTP {}", page_exchange.status),
        ));
    }
    let Some(action) = server_fn_form_action(&page_exchange.body) else {
        return Err(world.fail(
            RULE_SERVER_FN_FORM,
            format!("a <form action=\"/_serverFn/…\"> on {page}"),
            "no form posting to a server function",
        ));
    };
    let target = world.target().clone();
    let url = match target.base_url.join(&action) {
        Ok(url) => url,
        Err(e) => {
            return Err(world.fail(
                RULE_SERVER_FN_FORM,
                "a form action that is a URL",
                format!("{action}: {e}"),
            ));
        }
    };
    let http = crate::next::http_client(
        target.timeout,
        target.ca_pem.as_deref().map(String::as_str),
        target.base_url.as_str(),
    )
    .map_err(|e| world.fail(RULE_SERVER_FN_FORM, "an HTTP client", e.to_string()))?;
    let fields = vec![
        ("email".to_string(), user.email.clone()),
        ("password".to_string(), user.password.clone()),
    ];
    let forwarded = vec![(
        "x-forwarded-for".to_string(),
        format!("198.19.{}.{}", rand::random::<u8>(), rand::random::<u8>()),
    )];
    match crate::next::submit(
        &http,
        target.timeout,
        &target.secrets,
        &url,
        &fields,
        &[],
        &forwarded,
    )
    .await
    {
        Ok(exchange) => {
            register_answer_secrets(&exchange);
            crate::next::apply_set_cookies(&mut world.kept_cookies, &exchange);
            world.last = Some(exchange);
            Ok(())
        }
        Err(e) => Err(world.fail_on(
            &format!("the server answers POST {action}"),
            "a complete HTTP response",
            e.to_string(),
            None,
        )),
    }
}

#[then(expr = "the server function redirects to {string}")]
async fn server_fn_redirects(world: &mut AuthWorld, path: String) -> StepResult {
    let exchange = world.last_exchange()?;
    let location = exchange.header("location").map(str::to_string);
    let lands = location.as_deref().is_some_and(|l| {
        world
            .target()
            .base_url
            .join(l)
            .is_ok_and(|u| u.path() == path)
    });
    if (300..400).contains(&exchange.status) && lands {
        return Ok(());
    }
    Err(world.fail(
        RULE_SERVER_FN_REDIRECT,
        format!("HTTP 3xx with Location {path}"),
        format!(
            "HTTP {}{}",
            exchange.status,
            location.map(|l| format!(" to {l}")).unwrap_or_default()
        ),
    ))
}

#[then("the server function sets the session cookie")]
async fn server_fn_sets_cookie(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let name = world.session_cookie_name();
    if exchange
        .set_cookie(&name)
        .is_some_and(|c| !c.value.is_empty())
    {
        return Ok(());
    }
    Err(world.fail(
        RULE_SERVER_FN_COOKIE,
        format!("Set-Cookie: {name}=… on the server function's answer"),
        format!(
            "HTTP {} with no Set-Cookie for `{name}` ({}): the sign-in happened on the server, the browser never got its cookie",
            exchange.status,
            super::cookies::describe_set_cookies(&exchange)
        ),
    ))
}

#[when(expr = "the user opens {string} with the cookies the server function set")]
async fn opens_with_server_fn_cookies(world: &mut AuthWorld, path: String) -> StepResult {
    let jar = world.kept_cookies.clone();
    let mut request = Request::get(&path).cookies(CookieChoice::Exactly(jar));
    request.absolute = true;
    super::send(world, request).await
}

// ---------------------------------------------------------------------------------------------
// CORS for a front end on another origin (the Express guide's cors({ origin, credentials: true });
// @thallesp/nestjs-better-auth applies it for trustedOrigins).

const RULE_CORS_TRUSTED: &str = "the app lets its trusted front end call Better Auth across origins with cookies: the preflight answers 2xx with Access-Control-Allow-Origin naming that origin and Access-Control-Allow-Credentials: true";
const RULE_CORS_UNTRUSTED: &str = "the app does not let an untrusted origin call Better Auth with cookies: no Access-Control-Allow-Origin naming it (nor `*`)";

#[when(expr = "the front end at {string} sends a CORS preflight for {string}")]
async fn cors_preflight(world: &mut AuthWorld, origin: String, path: String) -> StepResult {
    let mut request = Request::get(&path)
        .cookies(CookieChoice::None)
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
    request.method = reqwest::Method::OPTIONS;
    request.absolute = true;
    super::send(world, request).await
}

#[then(expr = "the preflight allows {string} with credentials")]
async fn preflight_allows(world: &mut AuthWorld, origin: String) -> StepResult {
    let exchange = world.last_exchange()?;
    let allow_origin = exchange.header("access-control-allow-origin");
    let credentials = exchange.header("access-control-allow-credentials");
    if (200..300).contains(&exchange.status)
        && allow_origin == Some(origin.as_str())
        && credentials == Some("true")
    {
        return Ok(());
    }
    Err(world.fail(
        RULE_CORS_TRUSTED,
        format!(
            "HTTP 2xx, Access-Control-Allow-Origin: {origin}, Access-Control-Allow-Credentials: true"
        ),
        format!(
            "HTTP {}, Access-Control-Allow-Origin: {}, Access-Control-Allow-Credentials: {}",
            exchange.status,
            allow_origin.unwrap_or("(absent)"),
            credentials.unwrap_or("(absent)")
        ),
    ))
}

#[then(expr = "the preflight does not allow {string}")]
async fn preflight_refuses(world: &mut AuthWorld, origin: String) -> StepResult {
    let exchange = world.last_exchange()?;
    let allow_origin = exchange.header("access-control-allow-origin");
    if allow_origin.is_none_or(|allowed| allowed != origin && allowed != "*") {
        return Ok(());
    }
    Err(world.fail(
        RULE_CORS_UNTRUSTED,
        format!("no Access-Control-Allow-Origin for {origin}"),
        format!(
            "Access-Control-Allow-Origin: {}{}",
            allow_origin.unwrap_or_default(),
            exchange
                .header("access-control-allow-credentials")
                .map(|c| format!(", Access-Control-Allow-Credentials: {c}"))
                .unwrap_or_default()
        ),
    ))
}
