//! SHOULD-level rules a security reviewer expects, as pure checks on an answer's JSON body.
//! Their scenarios (features/oauth-should.feature) warn, never fail a MUST.

use serde_json::Value;

use crate::protocol::oauth::AuthorizeHop;

/// RFC 7662 §2.2: an inactive token's introspection answer SHOULD NOT say more than
/// `active: false` (why it is inactive, whose it was, when it expired): a third party that
/// holds a stolen or guessed token learns nothing from it. `Err` names the extra members.
pub fn check_inactive_answer_bare(body: &Value) -> Result<(), String> {
    let Some(members) = body.as_object() else {
        return Err("an answer that is not a JSON object".into());
    };
    let extra: Vec<&str> = members
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "active")
        .collect();
    match extra.as_slice() {
        [] => Ok(()),
        named => Err(format!("active: false with {}", named.join(", "))),
    }
}

/// RFC 7591 §2: a client registered with `token_endpoint_auth_method` `none` is public and
/// SHOULD NOT be issued a client secret (it cannot keep one; a secret it is given invites
/// servers and clients to treat it as authenticated).
pub fn check_public_client_has_no_secret(body: &Value) -> Result<(), String> {
    match body.get("client_secret") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(_) => Err(format!(
            "a client_secret in the registration answer (token_endpoint_auth_method {})",
            body.get("token_endpoint_auth_method")
                .and_then(Value::as_str)
                .unwrap_or("(absent)")
        )),
    }
}

/// OIDC Core §5.4: the claims each standard scope asks for.
const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// OIDC Core §5.4: the claims in `claims` (a userinfo answer or an ID token's claims) that
/// belong to a standard scope missing from the space-separated `granted` scope: released
/// without the End-User's consent to that scope.
pub fn claims_beyond_scopes(claims: &Value, granted: &str) -> Vec<&'static str> {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    SCOPE_CLAIMS
        .iter()
        .filter(|(scope, _)| !granted.contains(scope))
        .flat_map(|(_, names)| names.iter().copied())
        .filter(|name| claims.get(name).is_some_and(|v| !v.is_null()))
        .collect()
}

/// OIDC Core §3.1.2.1: with `prompt=consent` the OP SHOULD ask the End-User for consent again,
/// even when it was given before, or answer `consent_required` (or the general
/// `interaction_required`) at the redirect URI: never a code without the consent step. `hop`
/// is where the authorization request sent the user-agent.
pub fn check_prompt_consent_asks(hop: Option<&AuthorizeHop>) -> Result<(), String> {
    match hop {
        Some(AuthorizeHop::Interaction(_)) => Ok(()),
        Some(AuthorizeHop::Client(p))
            if matches!(p.error(), Some("consent_required" | "interaction_required")) =>
        {
            Ok(())
        }
        Some(AuthorizeHop::Client(p)) if p.get("code").is_some() => {
            Err("a code at the redirect URI without the consent step".into())
        }
        Some(other) => Err(format!(
            "neither a consent page nor consent_required: {}",
            match other {
                AuthorizeHop::Client(p) => format!(
                    "error {} at the redirect URI",
                    p.error().unwrap_or("(none)")
                ),
                AuthorizeHop::ServerError(p) => format!(
                    "the server's error page with error {}",
                    p.error().unwrap_or("(none)")
                ),
                _ => "a redirect elsewhere".into(),
            }
        )),
        None => Err("no redirect".into()),
    }
}

/// RFC 6750 §3: when the request carried no credentials at all, the Bearer challenge SHOULD NOT
/// name an error code (there was no token to be invalid). An answer without a Bearer challenge
/// is not judged here: the challenge itself is rfc6750-3-a's MUST.
pub fn check_challenge_names_no_error<'a>(
    www_authenticate: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let challenge = crate::protocol::challenge::bearer_challenge(www_authenticate);
    match challenge.as_ref().and_then(|c| c.param("error")) {
        Some(error) => Err(format!("a Bearer challenge with error=\"{error}\"")),
        None => Ok(()),
    }
}

/// One answer to a request sent with an Origin: the Access-Control-Allow-Origin and Vary it
/// carried.
#[derive(Clone, Debug)]
pub struct CorsAnswer {
    pub origin: String,
    pub allow_origin: Option<String>,
    pub vary: Vec<String>,
}

/// Fetch §3.2.5: when Access-Control-Allow-Origin depends on the request's Origin (two requests
/// that differ only in Origin get different values, or one gets it and the other not), every
/// answer carrying it SHOULD say `Vary: Origin`, or a cache hands one origin's answer to
/// another. A server that sends no ACAO, or the same one whatever the Origin, is not judged.
pub fn check_vary_origin(answers: &[CorsAnswer]) -> Result<(), String> {
    let first = answers.first().map(|a| &a.allow_origin);
    if answers.iter().all(|a| Some(&a.allow_origin) == first) {
        return Ok(());
    }
    let varies = |a: &CorsAnswer| {
        a.vary
            .iter()
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case("origin") || v.trim() == "*")
    };
    match answers
        .iter()
        .find(|a| a.allow_origin.is_some() && !varies(a))
    {
        Some(a) => Err(format!(
            "Access-Control-Allow-Origin: {} for Origin {} without Vary: Origin",
            a.allow_origin.as_deref().unwrap_or_default(),
            a.origin
        )),
        None => Ok(()),
    }
}

/// OIDC Core §3.1.2.1: with `prompt=none` and an `id_token_hint` naming a user other than the
/// signed-in one, the OP SHOULD answer an error (login_required or the like): a code would be
/// the signed-in user's, handed to a client that asked about someone else.
pub fn check_no_code_for_another_hint(hop: Option<&AuthorizeHop>) -> Result<(), String> {
    match hop {
        Some(AuthorizeHop::Client(p)) if p.get("code").is_some() => Err(
            "a code for the signed-in user at the redirect URI, though the hint names another user"
                .into(),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_inactive_answer_says_only_active_false() {
        assert!(check_inactive_answer_bare(&json!({"active": false})).is_ok());
        let chatty = json!({"active": false, "sub": "u1", "exp": 1});
        let e = check_inactive_answer_bare(&chatty).unwrap_err();
        assert!(e.contains("sub") && e.contains("exp"), "{e}");
        assert!(check_inactive_answer_bare(&json!("inactive")).is_err());
    }

    #[test]
    fn claims_of_scopes_not_granted_are_found() {
        let claims = json!({"sub": "u", "email": "a@b.test", "name": "A", "email_verified": null});
        assert_eq!(
            claims_beyond_scopes(&claims, "openid"),
            vec!["name", "email"]
        );
        assert_eq!(
            claims_beyond_scopes(&claims, "openid profile"),
            vec!["email"]
        );
        assert!(claims_beyond_scopes(&claims, "openid profile email").is_empty());
        assert!(claims_beyond_scopes(&json!({"sub": "u"}), "openid").is_empty());
    }

    #[test]
    fn prompt_consent_asks_again_or_answers_consent_required() {
        use crate::protocol::oauth::RedirectParams;
        let params = |query: &str| {
            RedirectParams::parse(&format!("/cb?{query}"), "http://c.test/").expect("parses")
        };
        let page = AuthorizeHop::Interaction(params("sig=s"));
        assert!(check_prompt_consent_asks(Some(&page)).is_ok());
        let refused = AuthorizeHop::Client(params("error=consent_required"));
        assert!(check_prompt_consent_asks(Some(&refused)).is_ok());
        let code = AuthorizeHop::Client(params("code=c&state=s"));
        let e = check_prompt_consent_asks(Some(&code)).unwrap_err();
        assert!(e.contains("without the consent step"), "{e}");
        assert!(check_prompt_consent_asks(None).is_err());
        assert!(check_no_code_for_another_hint(Some(&code)).is_err());
        let login = AuthorizeHop::Client(params("error=login_required"));
        assert!(check_no_code_for_another_hint(Some(&login)).is_ok());
    }

    #[test]
    fn a_challenge_to_a_request_without_credentials_names_no_error() {
        assert!(check_challenge_names_no_error([r#"Bearer realm="api""#]).is_ok());
        assert!(check_challenge_names_no_error(Vec::<&str>::new()).is_ok());
        let e = check_challenge_names_no_error([r#"Bearer error="invalid_token""#]).unwrap_err();
        assert!(e.contains("invalid_token"), "{e}");
    }

    #[test]
    fn an_allow_origin_that_follows_the_origin_needs_vary_origin() {
        let answer = |origin: &str, acao: Option<&str>, vary: &[&str]| CorsAnswer {
            origin: origin.into(),
            allow_origin: acao.map(str::to_string),
            vary: vary.iter().map(|v| v.to_string()).collect(),
        };
        let own = "http://a.test";
        let other = "http://b.test";
        // No ACAO at all, or the same static one: nothing depends on the Origin.
        assert!(check_vary_origin(&[answer(own, None, &[]), answer(other, None, &[])]).is_ok());
        let star = [answer(own, Some("*"), &[]), answer(other, Some("*"), &[])];
        assert!(check_vary_origin(&star).is_ok());
        let echoed = [answer(own, Some(own), &[]), answer(other, None, &[])];
        let e = check_vary_origin(&echoed).unwrap_err();
        assert!(e.contains(own), "{e}");
        let with_vary = [
            answer(own, Some(own), &["Accept-Encoding, Origin"]),
            answer(other, None, &[]),
        ];
        assert!(check_vary_origin(&with_vary).is_ok());
    }

    #[test]
    fn a_public_client_gets_no_secret() {
        let public = json!({"client_id": "c", "token_endpoint_auth_method": "none"});
        assert!(check_public_client_has_no_secret(&public).is_ok());
        assert!(
            check_public_client_has_no_secret(&json!({"client_id": "c", "client_secret": null}))
                .is_ok()
        );
        let with_secret = json!({"client_id": "c", "client_secret": "s3cr3t",
            "token_endpoint_auth_method": "none"});
        let e = check_public_client_has_no_secret(&with_secret).unwrap_err();
        assert!(e.contains("none") && !e.contains("s3cr3t"), "{e}");
    }
}
