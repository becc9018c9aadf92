//! `WWW-Authenticate` as RFC 9110 §11.6.1 (formerly RFC 7235 §4.1) defines it: one header value
//! may carry several challenges, each a scheme and its comma-separated parameters, and quoted
//! values may contain commas. A server that offers `Bearer, DPoP algs="ES256 EdDSA"` (OAuth
//! provider releases that support DPoP do) offers a Bearer challenge: reading only the first
//! word, or splitting on every comma, would wrongly say it does not.

/// One challenge: its scheme and its `name=value` parameters (values unquoted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on commas that are not inside a quoted string.
fn split_outside_quotes(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => value.to_string(),
    }
}

fn parse_param(text: &str) -> Option<(String, String)> {
    let (name, value) = text.split_once('=')?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(' ')).then(|| (name.to_string(), unquote(value)))
}

/// Every challenge in one or more `WWW-Authenticate` header values, in order.
pub fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    for value in values {
        for element in split_outside_quotes(value) {
            let element = element.trim();
            if element.is_empty() {
                continue;
            }
            // `name=value` (spaces allowed around `=`) continues the current challenge;
            // anything else starts one: `Scheme`, `Scheme name=value`, `Scheme token68`.
            let (head, rest) = element
                .split_once(' ')
                .map(|(h, r)| (h, r.trim_start()))
                .unwrap_or((element, ""));
            let is_param = head.contains('=') || rest.starts_with('=');
            if is_param && challenges.is_empty() {
                continue;
            }
            let starts_challenge = !is_param;
            if starts_challenge {
                let mut challenge = Challenge {
                    scheme: head.to_string(),
                    params: Vec::new(),
                };
                if let Some(param) = parse_param(rest) {
                    challenge.params.push(param);
                }
                challenges.push(challenge);
            } else if let (Some(current), Some(param)) =
                (challenges.last_mut(), parse_param(element))
            {
                current.params.push(param);
            }
        }
    }
    challenges
}

/// The Bearer challenge among the header values, if the server offers one.
pub fn bearer_challenge<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    parse_challenges(values)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_beside_a_dpop_one_is_found() {
        let challenges = parse_challenges([r#"Bearer, DPoP algs="EdDSA ES256 ES512 PS256 RS256""#]);
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[0].scheme, "Bearer");
        assert!(challenges[0].params.is_empty());
        assert_eq!(challenges[1].scheme, "DPoP");
        assert_eq!(
            challenges[1].param("algs"),
            Some("EdDSA ES256 ES512 PS256 RS256")
        );
        assert!(bearer_challenge([r#"DPoP algs="ES256", Bearer error="invalid_token""#]).is_some());
    }

    #[test]
    fn parameters_belong_to_their_challenge_and_quoted_commas_stay_inside() {
        let challenges = parse_challenges([
            r#"Bearer realm="a, b", error="invalid_token", error_description="Bad, \"old\" token", DPoP algs="ES256""#,
        ]);
        assert_eq!(challenges.len(), 2);
        let bearer = &challenges[0];
        assert_eq!(bearer.param("realm"), Some("a, b"));
        assert_eq!(bearer.param("ERROR"), Some("invalid_token"));
        assert_eq!(
            bearer.param("error_description"),
            Some("Bad, \"old\" token")
        );
        assert_eq!(challenges[1].param("algs"), Some("ES256"));
    }

    #[test]
    fn several_header_values_and_odd_input() {
        let challenges = parse_challenges(["Basic realm=x", "Bearer error = \"invalid_token\""]);
        assert_eq!(challenges[1].param("error"), Some("invalid_token"));
        assert_eq!(
            challenges
                .iter()
                .map(|c| c.scheme.as_str())
                .collect::<Vec<_>>(),
            ["Basic", "Bearer"]
        );
        assert!(parse_challenges([""]).is_empty());
        assert!(bearer_challenge(["Basic realm=\"x\""]).is_none());
        // Never panics on junk.
        let _ = parse_challenges([",,=,\"", "= =", "\"unterminated, x"]);
    }
}
