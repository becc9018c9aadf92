//! Rate limiting (RFC 6585 §4, Better Auth's rateLimit): how a 429 says when to retry, and
//! how long the harness waits when a limit it did not ask for stops it.

use std::time::Duration;

use serde_json::Value;

/// How many failed sign-ins the probe sends from one client before it concludes that no limit
/// applies (Better Auth's production default allows 3 per 10 s; custom rules rarely exceed 20).
pub const PROBE_ATTEMPTS: usize = 30;

/// The longest single wait for a limit the harness did not ask for.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The wait when a 429 gives no usable retry header: Better Auth's default window.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The retry delay a 429 announces: Better Auth's `X-Retry-After`, else the standard
/// `Retry-After` (RFC 9110 §10.2.3), as delta-seconds. `None` when neither header is there;
/// `Some(Err(value))` when one is there but is not a whole number of seconds.
pub fn announced_retry(
    x_retry_after: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Result<u64, String>> {
    let value = x_retry_after.or(retry_after)?;
    Some(value.trim().parse::<u64>().map_err(|_| value.to_string()))
}

/// How long to wait before retrying a request a 429 refused: what the server announced (at
/// least one second), bounded by [`LONGEST_WAIT`]; [`DEFAULT_WAIT`] when it announced nothing
/// usable.
pub fn wait_before_retry(announced: Option<Result<u64, String>>) -> Duration {
    match announced {
        Some(Ok(seconds)) => Duration::from_secs(seconds.max(1)).min(LONGEST_WAIT),
        _ => DEFAULT_WAIT,
    }
}

/// Whether a 429's body explains the refusal (RFC 6585 §4: "SHOULD include details"): JSON
/// with a non-empty `message` or `error`, as Better Auth sends.
pub fn body_explains(body: &str) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(body).map_err(|_| "the body is not JSON".to_string())?;
    let explained = ["message", "error"].iter().any(|key| {
        value
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    });
    if explained {
        Ok(())
    } else {
        Err("JSON without a `message` or `error`".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn better_auths_header_wins_over_the_standard_one() {
        assert_eq!(announced_retry(Some("7"), Some("9")), Some(Ok(7)));
        assert_eq!(announced_retry(None, Some(" 9 ")), Some(Ok(9)));
        assert_eq!(announced_retry(None, None), None);
        assert_eq!(
            announced_retry(Some("soon"), None),
            Some(Err("soon".to_string()))
        );
    }

    #[test]
    fn waits_are_bounded() {
        assert_eq!(wait_before_retry(Some(Ok(0))), Duration::from_secs(1));
        assert_eq!(wait_before_retry(Some(Ok(4))), Duration::from_secs(4));
        assert_eq!(wait_before_retry(Some(Ok(3600))), LONGEST_WAIT);
        assert_eq!(wait_before_retry(None), DEFAULT_WAIT);
        assert_eq!(wait_before_retry(Some(Err("x".into()))), DEFAULT_WAIT);
    }

    #[test]
    fn a_429_body_explains_itself_in_json() {
        assert!(
            body_explains(r#"{"message":"Too many requests. Please try again later."}"#).is_ok()
        );
        assert!(body_explains(r#"{"error":"rate_limited"}"#).is_ok());
        assert!(body_explains("Too many requests").is_err());
        assert!(body_explains(r#"{"message":""}"#).is_err());
    }
}
