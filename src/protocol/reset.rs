//! Password reset through a mailbox: what the harness reads from the `--mailbox` endpoint
//! (docs/configuration.md) and how it finds the reset token in it.
//!
//! The contract: `GET <mailbox>?email=ADDRESS` answers the newest password-reset message sent to
//! that address as JSON `{"token": "...", "url": "..."}` (either may be left out when the other
//! is there), or 404 when none was sent. Better Auth's link is
//! `<base>/reset-password/<token>?callbackURL=...`; a link that carries `?token=` (an app's own
//! page) works too.

use serde_json::Value;
use url::Url;

/// The reset token of a mailbox message: its `token`, else the one in its `url`.
pub fn reset_token(message: &Value) -> Result<String, String> {
    if let Some(token) = message.get("token").and_then(Value::as_str)
        && !token.is_empty()
    {
        return Ok(token.to_string());
    }
    let Some(link) = message.get("url").and_then(Value::as_str) else {
        return Err("the message has neither a `token` nor a `url` string".into());
    };
    token_in_link(link).ok_or_else(|| {
        "the message's `url` carries no token (neither /reset-password/<token> nor ?token=)"
            .to_string()
    })
}

/// The token in a reset link: the segment after `/reset-password/`, else the `token` query.
pub fn token_in_link(link: &str) -> Option<String> {
    let url = Url::parse(link).ok()?;
    let segments: Vec<&str> = url.path_segments()?.collect();
    let from_path = segments
        .windows(2)
        .find(|pair| pair[0] == "reset-password" && !pair[1].is_empty())
        .map(|pair| pair[1].to_string());
    from_path.or_else(|| {
        url.query_pairs()
            .find(|(name, value)| name == "token" && !value.is_empty())
            .map(|(_, value)| value.into_owned())
    })
}

/// The mailbox URL asked for `email`'s newest message: `email` added to the mailbox's query.
pub fn mailbox_query(mailbox: &Url, email: &str) -> Url {
    let mut url = mailbox.clone();
    url.query_pairs_mut().append_pair("email", email);
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_token_field_wins_and_the_link_is_the_fallback() {
        assert_eq!(
            reset_token(&json!({"token": "abc", "url": "http://x/reset-password/zzz"})).unwrap(),
            "abc"
        );
        assert_eq!(
            reset_token(&json!({"url": "http://x/api/auth/reset-password/t0k3n?callbackURL=%2F"}))
                .unwrap(),
            "t0k3n"
        );
        assert_eq!(
            reset_token(&json!({"url": "https://app.test/reset?token=q1"})).unwrap(),
            "q1"
        );
        assert!(reset_token(&json!({"url": "https://app.test/reset"})).is_err());
        assert!(reset_token(&json!({})).is_err());
        assert!(reset_token(&json!({"token": ""})).is_err());
    }

    #[test]
    fn the_address_is_added_to_the_mailbox_query() {
        let mailbox = Url::parse("http://127.0.0.1:8025/links?key=k").unwrap();
        assert_eq!(
            mailbox_query(&mailbox, "a+b@x.test").as_str(),
            "http://127.0.0.1:8025/links?key=k&email=a%2Bb%40x.test"
        );
    }
}
