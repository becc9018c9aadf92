//! HTML forms an End-User would submit (an OP's logout confirmation page): the first POST form
//! of a page, its action resolved, and the name=value pairs its inputs and buttons send.

use regex::Regex;
use std::sync::LazyLock;

static FORM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)<form\b([^>]*)>(.*?)</form>"#).expect("a valid regex"));
static FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)<(?:input|button)\b([^>]*)>"#).expect("a valid regex"));

/// The value of attribute `name` in a tag's attribute text (quoted with " or ').
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let pattern = format!(r#"(?i)(?:^|\s){name}\s*=\s*(?:"([^"]*)"|'([^']*)')"#);
    let re = Regex::new(&pattern).ok()?;
    let caps = re.captures(attributes)?;
    let value = caps.get(1).or_else(|| caps.get(2))?.as_str();
    Some(value.replace("&amp;", "&"))
}

/// The first `method="post"` form of `html`: its action resolved against `page_url`, and the
/// fields it sends (named inputs and buttons with their values).
pub fn post_form(html: &str, page_url: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = FORM
        .captures_iter(html)
        .find(|c| attribute(&c[1], "method").is_some_and(|m| m.eq_ignore_ascii_case("post")))?;
    let action = attribute(&form[1], "action").unwrap_or_default();
    let action = url::Url::parse(page_url)
        .ok()?
        .join(&action)
        .ok()?
        .to_string();
    let fields = FIELD
        .captures_iter(&form[2])
        .filter_map(|f| {
            let name = attribute(&f[1], "name")?;
            Some((name, attribute(&f[1], "value").unwrap_or_default()))
        })
        .collect();
    Some((action, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_form_is_read() {
        let page = r#"<main><form method="post" data-x action="http://op.test/api/auth/oauth2/end-session/confirm"><button type="submit" name="action" value="confirm">Confirm logout</button></form></main>"#;
        let (action, fields) =
            post_form(page, "http://op.test/api/auth/oauth2/end-session").unwrap();
        assert_eq!(action, "http://op.test/api/auth/oauth2/end-session/confirm");
        assert_eq!(fields, vec![("action".to_string(), "confirm".to_string())]);
    }

    #[test]
    fn relative_actions_resolve_and_get_forms_are_not_submitted() {
        let page = r#"<form method='GET' action='/x'></form><form method='POST' action='confirm?a=1&amp;b=2'><input type="hidden" name="t" value="v"></form>"#;
        let (action, fields) = post_form(page, "http://op.test/end/session").unwrap();
        assert_eq!(action, "http://op.test/end/confirm?a=1&b=2");
        assert_eq!(fields, vec![("t".to_string(), "v".to_string())]);
        assert!(post_form("<p>no form</p>", "http://op.test/").is_none());
    }
}
