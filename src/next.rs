//! Next.js server actions as a browser without JavaScript submits them: find the form and its
//! hidden action fields in the page HTML, post them as multipart/form-data.
//!
//! A `<form action={serverAction}>` renders (React 19, Next 16) as
//! `<form action="" encType="multipart/form-data" method="POST">` with, for an unbound action, a
//! hidden `$ACTION_ID_<hex id>` field (empty value), and for a bound or `useActionState` action
//! the fields `$ACTION_REF_<n>`, `$ACTION_<n>:0` (JSON `{"id": "<hex id>", "bound": …}`),
//! `$ACTION_<n>:1`… (the bound arguments) and `$ACTION_KEY`. React's `decodeAction` keys on those
//! prefixes; the harness copies every field the page rendered, in document order, fills in the
//! visible ones, and posts the lot to the page URL with the app's own Origin (Next refuses an
//! action whose Origin host differs from Host / X-Forwarded-Host). A redirecting action answers
//! 303 See Other with `Location` and, with Better Auth's `nextCookies()`, the session Set-Cookie.
//!
//! The parsing and the cookie comparison are pure and unit-tested on HTML captured from the
//! bundled app (targets/nextjs); [`submit`] and [`http_client`] do the I/O.

use std::time::{Duration, Instant};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};
use url::Url;

use crate::http::{Exchange, HttpError};
use crate::protocol::cookie::SetCookie;

/// How a server-action form names its action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// An unbound action: a hidden `$ACTION_ID_<id>` field.
    Id(String),
    /// A bound or `useActionState` action: `$ACTION_REF_<n>` with `$ACTION_<n>:0` holding the
    /// action's id (when it is readable JSON) and `$ACTION_KEY`.
    Ref {
        prefix: String,
        id: Option<String>,
        key: Option<String>,
    },
}

/// One form of a page whose fields include a server-action marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionForm {
    /// The form's `action` attribute as rendered (Next renders `""`: post to the page itself).
    pub action: String,
    pub method: String,
    pub enctype: String,
    /// The controls a browser would submit, in document order: hidden action fields and inputs
    /// with their rendered values (checkboxes and radios only when checked; no buttons).
    pub fields: Vec<(String, String)>,
    pub kind: ActionKind,
}

impl ActionForm {
    /// The server action's id, when the page shows it.
    pub fn action_id(&self) -> Option<&str> {
        match &self.kind {
            ActionKind::Id(id) => Some(id),
            ActionKind::Ref { id, .. } => id.as_deref(),
        }
    }

    /// Whether the form has a field named `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// The fields to post: the rendered ones in document order, with `values` replacing the
    /// value of the field of that name (values for fields the form lacks are appended, as a
    /// script adding them would; the caller checks with [`ActionForm::has_field`] first).
    pub fn fill(&self, values: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(n, v)| {
                let value = values
                    .iter()
                    .find(|(name, _)| name == n)
                    .map(|(_, value)| value.to_string())
                    .unwrap_or_else(|| v.clone());
                (n.clone(), value)
            })
            .collect();
        for (name, value) in values {
            if !self.has_field(name) {
                out.push((name.to_string(), value.to_string()));
            }
        }
        out
    }

    /// For reports: which marker the form carries and the action id.
    pub fn describe(&self) -> String {
        let id = self.action_id().unwrap_or("(id not shown)");
        match &self.kind {
            ActionKind::Id(_) => format!("server action {id} ($ACTION_ID_ form)"),
            ActionKind::Ref { prefix, .. } => {
                format!("server action {id} ($ACTION_REF_{prefix} form: bound or useActionState)")
            }
        }
    }

    /// The visible (non-`$ACTION`) field names, for reports.
    pub fn input_names(&self) -> Vec<&str> {
        self.fields
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !n.starts_with('$'))
            .collect()
    }
}

/// Every server-action form of a page, in document order.
pub fn find_action_forms(html: &str) -> Vec<ActionForm> {
    let mut forms = Vec::new();
    let mut current: Option<RawForm> = None;
    for token in Tokens::new(html) {
        match token {
            // Browsers ignore a <form> inside a <form>; so does this.
            Token::Start { name, attrs } if name == "form" && current.is_none() => {
                current = Some(RawForm {
                    attrs,
                    fields: Vec::new(),
                });
            }
            Token::End { name } if name == "form" => {
                if let Some(form) = current.take().and_then(RawForm::into_action_form) {
                    forms.push(form);
                }
            }
            Token::Start { name, attrs } if name == "input" => {
                if let Some(form) = current.as_mut()
                    && let Some(field) = input_field(&attrs)
                {
                    form.fields.push(field);
                }
            }
            Token::Textarea { attrs, text } => {
                if let Some(form) = current.as_mut()
                    && let Some(name) = attr(&attrs, "name")
                    && attr(&attrs, "disabled").is_none()
                {
                    form.fields.push((name.to_string(), decode_entities(&text)));
                }
            }
            _ => {}
        }
    }
    forms
}

/// The first server-action form that has every one of `fields` (no fields: the first form).
pub fn select_form<'a>(forms: &'a [ActionForm], fields: &[&str]) -> Option<&'a ActionForm> {
    forms
        .iter()
        .find(|f| fields.iter().all(|name| f.has_field(name)))
}

/// Where the form posts: its `action` resolved against the page URL (`""` is the page itself,
/// without its fragment).
pub fn action_url(page: &Url, form: &ActionForm) -> Url {
    let mut url = if form.action.trim().is_empty() {
        page.clone()
    } else {
        page.join(form.action.trim())
            .unwrap_or_else(|_| page.clone())
    };
    url.set_fragment(None);
    url
}

/// The request body as a report shows it: the fields as a JSON object (a repeated name keeps
/// its last value), so the report's redaction hides `password` by name.
pub fn describe_fields(fields: &[(String, String)]) -> String {
    let mut map = serde_json::Map::new();
    for (n, v) in fields {
        map.insert(n.clone(), serde_json::Value::String(v.clone()));
    }
    format!("multipart/form-data {}", serde_json::Value::Object(map))
}

/// A reqwest client as the harness's [`crate::http::Client`] builds one: no redirects followed,
/// the per-request timeout, and an extra trusted CA when the target has one.
pub fn http_client(
    timeout: Duration,
    ca_pem: Option<&str>,
    origin: &str,
) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = ca_pem {
        let certificate =
            reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| HttpError::Other {
                url: origin.to_string(),
                detail: format!("the CA certificate is not valid PEM: {e}"),
            })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("ba-harness/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpError::Other {
            url: origin.to_string(),
            detail: e.to_string(),
        })
}

/// Posts `fields` to `url` as multipart/form-data, as a browser submits a server-action form
/// without JavaScript: `Origin` is the page's origin, `cookies` go in one Cookie header, and
/// `extra_headers` (X-Forwarded-For, say) are added. Records the exchange, with the run's
/// redaction (`secrets`) for its excerpt.
pub async fn submit(
    http: &reqwest::Client,
    timeout: Duration,
    secrets: &crate::redact::Secrets,
    url: &Url,
    fields: &[(String, String)],
    cookies: &[(String, String)],
    extra_headers: &[(String, String)],
) -> Result<Exchange, HttpError> {
    let target = url.to_string();
    let origin = url.origin().ascii_serialization();
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    let content_type = format!("multipart/form-data; boundary={}", form.boundary());
    let mut headers: Vec<(String, String)> = extra_headers.to_vec();
    headers.push(("origin".into(), origin));
    if !cookies.is_empty() {
        headers.push((
            "cookie".into(),
            cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    for (n, v) in &headers {
        if reqwest::header::HeaderValue::from_str(v).is_err() {
            return Err(HttpError::Unsendable {
                url: target,
                detail: format!(
                    "the {n} header would hold control characters (from a value the server sent)"
                ),
            });
        }
    }
    let mut builder = http.post(url.clone());
    for (n, v) in &headers {
        builder = builder.header(n, v);
    }
    headers.push(("content-type".into(), content_type));
    let started = Instant::now();
    let response = builder
        .multipart(form)
        .send()
        .await
        .map_err(|e| crate::http::classify(&target, timeout, e))?;
    let (status, response_headers, bytes, truncated) =
        crate::http::read_response(response, &target, timeout).await?;
    Ok(Exchange {
        method: "POST".into(),
        url: target,
        request_headers: headers,
        request_body: Some(describe_fields(fields)),
        status,
        headers: response_headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        body_truncated: truncated,
        elapsed: started.elapsed(),
        secrets: secrets.clone(),
    })
}

/// Applies a response's Set-Cookie lines to a browser jar (`name=value` pairs, raw values): a
/// cookie with Max-Age ≤ 0 or an Expires in the past is removed, others replace their name.
pub fn apply_set_cookies(jar: &mut Vec<(String, String)>, exchange: &Exchange) {
    let date = exchange.header("date").and_then(parse_http_date);
    for cookie in exchange.set_cookies() {
        jar.retain(|(n, _)| *n != cookie.name);
        let expired = match (cookie.max_age, cookie.expires.as_deref()) {
            (Some(m), _) => m <= 0,
            (None, Some(e)) => match (parse_http_date(e), date) {
                (Some(at), Some(now)) => at <= now,
                (Some(at), None) => at <= OffsetDateTime::now_utc(),
                _ => false,
            },
            (None, None) => false,
        };
        if !expired {
            jar.push((cookie.name, cookie.value));
        }
    }
}

/// How a cookie set by a server action may differ from the same cookie set by the route handler
/// and still mean the same to a browser: attribute names and SameSite's case, attribute order,
/// and an added `Expires` that agrees with `Max-Age` (Next writes both). This many seconds of
/// slack cover the time between the two answers and the rounding of Expires to whole seconds.
pub const LIFETIME_SLACK_SECS: i64 = 60;

/// What differs in meaning between `action`'s cookie (dated `action_date`, its response's Date)
/// and `route`'s (dated `route_date`): empty when a browser would store the two the same way.
pub fn meaning_differences(
    action: &SetCookie,
    action_date: Option<OffsetDateTime>,
    route: &SetCookie,
    route_date: Option<OffsetDateTime>,
) -> Vec<String> {
    let mut out = Vec::new();
    let show = |v: Option<&str>| v.map(|s| format!("`{s}`")).unwrap_or("absent".into());
    if action.path != route.path {
        out.push(format!(
            "Path {} (route handler: {})",
            show(action.path.as_deref()),
            show(route.path.as_deref())
        ));
    }
    let domain = |c: &SetCookie| {
        c.domain
            .as_deref()
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
    };
    if domain(action) != domain(route) {
        out.push(format!(
            "Domain {} (route handler: {})",
            show(action.domain.as_deref()),
            show(route.domain.as_deref())
        ));
    }
    if action.http_only != route.http_only {
        out.push(format!(
            "HttpOnly {} (route handler: {})",
            yes_no(action.http_only),
            yes_no(route.http_only)
        ));
    }
    if action.secure != route.secure {
        out.push(format!(
            "Secure {} (route handler: {})",
            yes_no(action.secure),
            yes_no(route.secure)
        ));
    }
    let same_site = |c: &SetCookie| c.same_site.as_deref().map(str::to_ascii_lowercase);
    if same_site(action) != same_site(route) {
        out.push(format!(
            "SameSite {} (route handler: {})",
            show(action.same_site.as_deref()),
            show(route.same_site.as_deref())
        ));
    }
    match (lifetime(action, action_date), lifetime(route, route_date)) {
        (Lifetime::Unreadable(why), _) => out.push(why),
        (_, Lifetime::Unreadable(why)) => out.push(format!("route handler: {why}")),
        (Lifetime::Session, Lifetime::Session) => {}
        (Lifetime::Seconds(a), Lifetime::Seconds(r)) => {
            if (a - r).abs() > LIFETIME_SLACK_SECS {
                out.push(format!("a lifetime of {a} s (route handler: {r} s)"));
            }
        }
        (a, r) => out.push(format!(
            "a lifetime of {} (route handler: {})",
            a.describe(),
            r.describe()
        )),
    }
    if let Some(why) = expires_disagrees(action, action_date) {
        out.push(why);
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "set" } else { "absent" }
}

/// How long a browser keeps a cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Lifetime {
    /// Neither Max-Age nor Expires: until the browser closes.
    Session,
    Seconds(i64),
    Unreadable(String),
}

impl Lifetime {
    fn describe(&self) -> String {
        match self {
            Lifetime::Session => "the browser session (no Max-Age, no Expires)".into(),
            Lifetime::Seconds(s) => format!("{s} s"),
            Lifetime::Unreadable(why) => why.clone(),
        }
    }
}

/// RFC 6265 §5.3: Max-Age wins over Expires; Expires counts from the response's Date.
fn lifetime(cookie: &SetCookie, date: Option<OffsetDateTime>) -> Lifetime {
    if let Some(m) = cookie.max_age {
        return Lifetime::Seconds(m);
    }
    if let Some(raw) = &cookie.max_age_raw {
        return Lifetime::Unreadable(format!("Max-Age `{raw}` is not a number"));
    }
    match cookie.expires.as_deref() {
        None => Lifetime::Session,
        Some(e) => match parse_http_date(e) {
            Some(at) => {
                let now = date.unwrap_or_else(OffsetDateTime::now_utc);
                Lifetime::Seconds((at - now).whole_seconds())
            }
            None => Lifetime::Unreadable(format!("Expires `{e}` is not an HTTP date")),
        },
    }
}

/// A cookie with both Max-Age and Expires whose Expires is not Date + Max-Age: browsers that
/// read only Expires would keep it for another time.
fn expires_disagrees(cookie: &SetCookie, date: Option<OffsetDateTime>) -> Option<String> {
    let max_age = cookie.max_age?;
    let raw = cookie.expires.as_deref()?;
    let Some(at) = parse_http_date(raw) else {
        return Some(format!("Expires `{raw}` is not an HTTP date"));
    };
    let now = date.unwrap_or_else(OffsetDateTime::now_utc);
    let by_expires = (at - now).whole_seconds();
    if max_age <= 0 {
        // A deletion: Expires must not keep it alive.
        return (by_expires > 0)
            .then(|| format!("Max-Age={max_age} deletes it but Expires `{raw}` is in the future"));
    }
    ((by_expires - max_age).abs() > LIFETIME_SLACK_SECS).then(|| {
        format!(
            "Expires `{raw}` is {by_expires} s after the response's Date while Max-Age says {max_age} s"
        )
    })
}

/// An IMF-fixdate (`Mon, 30 Nov 2026 12:22:20 GMT`), the form Set-Cookie Expires and Date
/// use; the day name is not checked. Also reads the RFC 850 form Set-Cookie parsers accept
/// (`Monday, 30-Nov-26 12:22:20 GMT`).
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let (_, rest) = text.trim().split_once(',')?;
    let parts: Vec<&str> = rest
        .split(|c: char| c.is_ascii_whitespace() || c == '-')
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year, clock, zone] = parts.as_slice() else {
        return None;
    };
    if !zone.eq_ignore_ascii_case("GMT") && !zone.eq_ignore_ascii_case("UTC") {
        return None;
    }
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| m.eq_ignore_ascii_case(month))
    .and_then(|i| Month::try_from(i as u8 + 1).ok())?;
    let mut year: i32 = year.parse().ok()?;
    if year < 100 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let clock: Vec<u8> = clock.split(':').filter_map(|p| p.parse().ok()).collect();
    let [h, m, sec] = clock.as_slice() else {
        return None;
    };
    let date = Date::from_calendar_date(year, month, day.parse().ok()?).ok()?;
    let time = Time::from_hms(*h, *m, *sec).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The text of the page's `role="alert"` elements (the app's error messages), for reports.
pub fn alert_text(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth: Option<(String, String)> = None;
    for token in Tokens::new(html) {
        match (&mut depth, token) {
            (None, Token::Start { name, attrs })
                if attr(&attrs, "role").is_some_and(|r| r.eq_ignore_ascii_case("alert")) =>
            {
                depth = Some((name, String::new()));
            }
            (Some((_, text)), Token::Text(t)) => text.push_str(&decode_entities(&t)),
            (Some((tag, text)), Token::End { name }) if *tag == name => {
                out.push(text.trim().to_string());
                depth = None;
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A small HTML tokenizer: start tags with attributes, end tags, text; comments, doctype and the
// raw text of <script>/<style> skipped, <textarea> read whole. Enough for server-rendered forms.

struct RawForm {
    attrs: Vec<(String, String)>,
    fields: Vec<(String, String)>,
}

impl RawForm {
    fn into_action_form(self) -> Option<ActionForm> {
        let kind = action_kind(&self.fields)?;
        Some(ActionForm {
            action: attr(&self.attrs, "action").unwrap_or_default().to_string(),
            method: attr(&self.attrs, "method")
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            enctype: attr(&self.attrs, "enctype")
                .unwrap_or("application/x-www-form-urlencoded")
                .to_string(),
            fields: self.fields,
            kind,
        })
    }
}

fn action_kind(fields: &[(String, String)]) -> Option<ActionKind> {
    if let Some(id) = fields
        .iter()
        .find_map(|(n, _)| n.strip_prefix("$ACTION_ID_"))
    {
        return Some(ActionKind::Id(id.to_string()));
    }
    let prefix = fields
        .iter()
        .find_map(|(n, _)| n.strip_prefix("$ACTION_REF_"))?
        .to_string();
    let id = fields
        .iter()
        .find(|(n, _)| *n == format!("$ACTION_{prefix}:0"))
        .and_then(|(_, v)| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string));
    let key = fields
        .iter()
        .find(|(n, _)| n == "$ACTION_KEY")
        .map(|(_, v)| v.clone());
    Some(ActionKind::Ref { prefix, id, key })
}

/// What a browser submits for an `<input>`: None for unnamed, disabled, unchecked or button-like
/// inputs.
fn input_field(attrs: &[(String, String)]) -> Option<(String, String)> {
    let name = attr(attrs, "name")?;
    if name.is_empty() || attr(attrs, "disabled").is_some() {
        return None;
    }
    let kind = attr(attrs, "type").unwrap_or("text").to_ascii_lowercase();
    match kind.as_str() {
        "submit" | "button" | "reset" | "image" | "file" => None,
        "checkbox" | "radio" => attr(attrs, "checked").map(|_| {
            (
                name.to_string(),
                attr(attrs, "value").unwrap_or("on").to_string(),
            )
        }),
        _ => Some((
            name.to_string(),
            attr(attrs, "value").unwrap_or_default().to_string(),
        )),
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    Text(String),
    Textarea {
        attrs: Vec<(String, String)>,
        text: String,
    },
}

struct Tokens<'a> {
    html: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn new(html: &'a str) -> Self {
        Tokens { html, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.html[self.at..]
    }

    /// Skips to just after `needle` (case-insensitive), or to the end.
    fn skip_past(&mut self, needle: &str) -> &'a str {
        let rest = self.rest();
        let lower = rest.to_ascii_lowercase();
        match lower.find(needle) {
            Some(i) => {
                self.at += i + needle.len();
                &rest[..i]
            }
            None => {
                self.at = self.html.len();
                rest
            }
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                self.at += end;
                return Some(Token::Text(rest[..end].to_string()));
            }
            if rest.starts_with("<!--") {
                self.at += 4;
                self.skip_past("-->");
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                self.skip_past(">");
                continue;
            }
            if let Some(after) = rest.strip_prefix("</") {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
                    .to_ascii_lowercase();
                self.skip_past(">");
                if name.is_empty() {
                    continue;
                }
                return Some(Token::End { name });
            }
            let after = &rest[1..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
                .to_ascii_lowercase();
            if name.is_empty() {
                // A lone `<` in text.
                self.at += 1;
                return Some(Token::Text("<".into()));
            }
            self.at += 1 + name.len();
            let attrs = self.attributes();
            match name.as_str() {
                "script" | "style" => {
                    self.skip_past(&format!("</{name}"));
                    self.skip_past(">");
                    continue;
                }
                "textarea" => {
                    let text = self.skip_past("</textarea").to_string();
                    self.skip_past(">");
                    return Some(Token::Textarea { attrs, text });
                }
                _ => return Some(Token::Start { name, attrs }),
            }
        }
    }
}

impl Tokens<'_> {
    /// Reads attributes up to the tag's `>` (or `/>`), names lowercased, values decoded.
    fn attributes(&mut self) -> Vec<(String, String)> {
        let bytes = self.html.as_bytes();
        let mut attrs = Vec::new();
        loop {
            while self.at < bytes.len()
                && (bytes[self.at].is_ascii_whitespace() || bytes[self.at] == b'/')
            {
                self.at += 1;
            }
            if self.at >= bytes.len() {
                return attrs;
            }
            if bytes[self.at] == b'>' {
                self.at += 1;
                return attrs;
            }
            let start = self.at;
            while self.at < bytes.len()
                && !bytes[self.at].is_ascii_whitespace()
                && !matches!(bytes[self.at], b'=' | b'>' | b'/')
            {
                self.at += 1;
            }
            let name = self.html[start..self.at].to_ascii_lowercase();
            while self.at < bytes.len() && bytes[self.at].is_ascii_whitespace() {
                self.at += 1;
            }
            let mut value = String::new();
            if self.at < bytes.len() && bytes[self.at] == b'=' {
                self.at += 1;
                while self.at < bytes.len() && bytes[self.at].is_ascii_whitespace() {
                    self.at += 1;
                }
                if self.at < bytes.len() && matches!(bytes[self.at], b'"' | b'\'') {
                    let quote = bytes[self.at];
                    self.at += 1;
                    let start = self.at;
                    while self.at < bytes.len() && bytes[self.at] != quote {
                        self.at += 1;
                    }
                    value = decode_entities(&self.html[start..self.at]);
                    self.at = (self.at + 1).min(bytes.len());
                } else {
                    let start = self.at;
                    while self.at < bytes.len()
                        && !bytes[self.at].is_ascii_whitespace()
                        && bytes[self.at] != b'>'
                    {
                        self.at += 1;
                    }
                    value = decode_entities(&self.html[start..self.at]);
                }
            }
            if !name.is_empty() {
                attrs.push((name, value));
            }
        }
    }
}

/// Decodes the character references React and browsers emit in attribute values and text:
/// `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric `&#NN;` / `&#xHH;`.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let entity = &rest[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-up page of targets/nextjs as `next start` (Next 16.4.6) renders it: a server
    /// component form with an unbound action.
    const SIGN_UP: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><script src="/_next/static/chunks/1bcwht2wgqlw6.js" async=""></script><title>ba-harness Next.js app</title></head><body><div hidden=""><!--$--><!--/$--></div><main><h1>Sign up</h1><form action="" encType="multipart/form-data" method="POST"><input type="hidden" name="$ACTION_ID_4092ffe290e73f883944bce0bd871d3b21452b6e39"/><label>Name <input required="" name="name"/></label><label>Email <input type="email" required="" name="email"/></label><label>Password <input type="password" required="" name="password"/></label><button type="submit">Sign up</button></form></main><script>self.__next_f.push([1,"<form action=\"fake\"><input name=\"$ACTION_ID_bogus\"/></form>"])</script></body></html>"#;

    /// The sign-in page: a client component form with `useActionState`.
    const SIGN_IN: &str = r#"<main><h1>Sign in</h1><form action="" encType="multipart/form-data" method="POST"><input type="hidden" name="$ACTION_REF_1"/><input type="hidden" name="$ACTION_1:0" value="{&quot;id&quot;:&quot;6029adf691ab5332eaa7d8b9705575a0665ea47fcb&quot;,&quot;bound&quot;:&quot;$@1&quot;}"/><input type="hidden" name="$ACTION_1:1" value="[null]"/><input type="hidden" name="$ACTION_KEY" value="kd254a3bf22bba1bd504db9683ce80f94"/><label>Email <input type="email" required="" name="email"/></label><label>Password <input type="password" required="" name="password"/></label><button type="submit">Sign in</button></form></main>"#;

    /// The same form after a failed sign-in: the action's state rendered as an alert.
    const SIGN_IN_FAILED: &str = r#"<form action="" encType="multipart/form-data" method="POST"><input type="hidden" name="$ACTION_REF_1"/><p role="alert">Invalid email or password</p><label>Email <input type="email" required="" name="email"/></label></form>"#;

    /// The dashboard: the user's name and a sign-out form, no visible fields.
    const DASHBOARD: &str = r#"<main><h1>Dashboard</h1><p>Signed in as <strong id="user-name">Ann Example</strong> (<!-- -->ann@example.test<!-- -->)</p><form action="" encType="multipart/form-data" method="POST"><input type="hidden" name="$ACTION_ID_00eb8078a23eccbad097824a8b2b3e9ee156ca8386"/><button type="submit">Sign out</button></form></main>"#;

    #[test]
    fn finds_an_unbound_action_form_and_skips_script_text() {
        let forms = find_action_forms(SIGN_UP);
        assert_eq!(forms.len(), 1, "{forms:?}");
        let form = &forms[0];
        assert_eq!(
            form.kind,
            ActionKind::Id("4092ffe290e73f883944bce0bd871d3b21452b6e39".into())
        );
        assert_eq!(form.method, "POST");
        assert_eq!(form.enctype, "multipart/form-data");
        assert_eq!(form.action, "");
        assert_eq!(form.input_names(), vec!["name", "email", "password"]);
        assert_eq!(
            form.fields[0],
            (
                "$ACTION_ID_4092ffe290e73f883944bce0bd871d3b21452b6e39".into(),
                String::new()
            )
        );
    }

    #[test]
    fn finds_a_use_action_state_form_with_its_id_and_key() {
        let forms = find_action_forms(SIGN_IN);
        assert_eq!(forms.len(), 1);
        let form = &forms[0];
        assert_eq!(
            form.kind,
            ActionKind::Ref {
                prefix: "1".into(),
                id: Some("6029adf691ab5332eaa7d8b9705575a0665ea47fcb".into()),
                key: Some("kd254a3bf22bba1bd504db9683ce80f94".into()),
            }
        );
        assert_eq!(
            form.action_id(),
            Some("6029adf691ab5332eaa7d8b9705575a0665ea47fcb")
        );
        // The bound-argument JSON is decoded from its entities, exactly as the browser posts it.
        assert!(form.fields.contains(&(
            "$ACTION_1:0".into(),
            r#"{"id":"6029adf691ab5332eaa7d8b9705575a0665ea47fcb","bound":"$@1"}"#.into()
        )));
        assert!(form.describe().contains("useActionState"));
    }

    #[test]
    fn fill_keeps_document_order_and_hidden_fields() {
        let form = &find_action_forms(SIGN_IN)[0];
        let filled = form.fill(&[("password", "pw"), ("email", "a@b.test")]);
        let names: Vec<&str> = filled.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "$ACTION_REF_1",
                "$ACTION_1:0",
                "$ACTION_1:1",
                "$ACTION_KEY",
                "email",
                "password"
            ]
        );
        assert_eq!(filled[4].1, "a@b.test");
        assert_eq!(filled[5].1, "pw");
        assert_eq!(filled[2].1, "[null]");
    }

    #[test]
    fn selects_the_form_by_its_fields() {
        let html = format!("{DASHBOARD}{SIGN_UP}");
        let forms = find_action_forms(&html);
        assert_eq!(forms.len(), 2);
        let sign_up = select_form(&forms, &["email", "password", "name"]).unwrap();
        assert!(matches!(sign_up.kind, ActionKind::Id(ref id) if id.starts_with("4092")));
        let first = select_form(&forms, &[]).unwrap();
        assert!(matches!(first.kind, ActionKind::Id(ref id) if id.starts_with("00eb")));
        assert!(select_form(&forms, &["otp"]).is_none());
    }

    #[test]
    fn ignores_plain_forms_and_button_like_inputs() {
        let html = r#"<form method="get" action="/search"><input name="q" value="x"></form>
            <form action="/a" method=post><input type=hidden name="$ACTION_ID_ab"><input type="submit" name="go" value="Go">
            <input type="checkbox" name="remember" checked><input type="checkbox" name="off">
            <input name="disabled" disabled value="d"><textarea name="note">a &amp; b</textarea></form>"#;
        let forms = find_action_forms(html);
        assert_eq!(forms.len(), 1);
        assert_eq!(
            forms[0].fields,
            vec![
                ("$ACTION_ID_ab".to_string(), String::new()),
                ("remember".to_string(), "on".to_string()),
                ("note".to_string(), "a & b".to_string()),
            ]
        );
        assert_eq!(forms[0].method, "POST");
        let page = Url::parse("http://127.0.0.1:3000/sign-in#top").unwrap();
        assert_eq!(
            action_url(&page, &forms[0]).as_str(),
            "http://127.0.0.1:3000/a"
        );
    }

    #[test]
    fn an_empty_action_posts_to_the_page_itself() {
        let form = &find_action_forms(SIGN_IN)[0];
        let page = Url::parse("http://127.0.0.1:3000/sign-in?next=%2Fdashboard#f").unwrap();
        assert_eq!(
            action_url(&page, form).as_str(),
            "http://127.0.0.1:3000/sign-in?next=%2Fdashboard"
        );
    }

    #[test]
    fn reads_the_alert_of_a_failed_action() {
        assert_eq!(
            alert_text(SIGN_IN_FAILED),
            vec!["Invalid email or password"]
        );
        assert!(alert_text(SIGN_IN).is_empty());
    }

    #[test]
    fn decodes_character_references() {
        assert_eq!(decode_entities("a&amp;b&#39;c&#x27;d&quot;"), "a&b'c'd\"");
        assert_eq!(decode_entities("5 &lt; 6 &unknown; &"), "5 < 6 &unknown; &");
    }

    #[test]
    fn the_request_body_report_redacts_the_password_by_name() {
        let text = describe_fields(&[
            ("$ACTION_ID_ab".into(), String::new()),
            ("password".into(), "hunter2hunter2".into()),
        ]);
        assert!(text.starts_with("multipart/form-data {"));
        let shown = crate::redact::Secrets::default()
            .redact_body(text.trim_start_matches("multipart/form-data "));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    fn cookie(line: &str) -> SetCookie {
        SetCookie::parse(line).unwrap()
    }

    fn date(text: &str) -> Option<OffsetDateTime> {
        parse_http_date(text)
    }

    #[test]
    fn next_and_better_auth_session_cookies_mean_the_same() {
        // Captured: the route handler (Better Auth) and a server action (nextCookies → Next).
        let route =
            cookie("better-auth.session_token=a.b; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
        let action = cookie(
            "better-auth.session_token=c.d; Path=/; Expires=Mon, 30 Nov 2026 12:22:20 GMT; Max-Age=604800; HttpOnly; SameSite=lax",
        );
        let differences = meaning_differences(
            &action,
            date("Mon, 23 Nov 2026 12:22:20 GMT"),
            &route,
            date("Mon, 23 Nov 2026 12:22:19 GMT"),
        );
        assert!(differences.is_empty(), "{differences:?}");
    }

    #[test]
    fn attribute_differences_are_named() {
        let route =
            cookie("better-auth.session_token=a.b; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
        let action = cookie("better-auth.session_token=c.d; Path=/app; SameSite=None; Secure");
        let differences = meaning_differences(&action, None, &route, None);
        let text = differences.join("; ");
        for needle in [
            "Path `/app`",
            "HttpOnly absent",
            "Secure set",
            "SameSite `None`",
            "lifetime of the browser session",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }

    #[test]
    fn an_expires_that_disagrees_with_max_age_is_a_difference() {
        let route = cookie("s=a; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
        let action = cookie(
            "s=c; Path=/; Expires=Tue, 24 Nov 2026 12:22:20 GMT; Max-Age=604800; HttpOnly; SameSite=lax",
        );
        let differences =
            meaning_differences(&action, date("Mon, 23 Nov 2026 12:22:20 GMT"), &route, None);
        assert_eq!(differences.len(), 1, "{differences:?}");
        assert!(differences[0].contains("86400 s after"), "{differences:?}");
        // Expires alone counts from the response's Date.
        let expires_only =
            cookie("s=c; Path=/; Expires=Mon, 30 Nov 2026 12:22:20 GMT; HttpOnly; SameSite=lax");
        assert!(
            meaning_differences(
                &expires_only,
                date("Mon, 23 Nov 2026 12:22:20 GMT"),
                &route,
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn the_jar_follows_set_cookie_lines() {
        let exchange = |lines: &[&str]| Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:3000/dashboard".into(),
            request_headers: Vec::new(),
            request_body: None,
            status: 303,
            headers: lines
                .iter()
                .map(|l| ("set-cookie".to_string(), l.to_string()))
                .chain([(
                    "date".to_string(),
                    "Mon, 23 Nov 2026 12:22:20 GMT".to_string(),
                )])
                .collect(),
            body: String::new(),
            body_truncated: false,
            elapsed: Duration::ZERO,
            secrets: Default::default(),
        };
        let mut jar = Vec::new();
        apply_set_cookies(
            &mut jar,
            &exchange(&[
                "a=1; Path=/; Max-Age=60",
                "b=2; Path=/",
                "c=3; Expires=Mon, 23 Nov 2026 12:00:00 GMT",
            ]),
        );
        assert_eq!(
            jar,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        apply_set_cookies(&mut jar, &exchange(&["a=; Path=/; Max-Age=0", "b=22"]));
        assert_eq!(jar, vec![("b".into(), "22".into())]);
    }
}
