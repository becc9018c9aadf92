//! Every scenario of features/account-rules-*.feature can fail: the real reference behind a
//! proxy that breaks exactly that scenario's rule (a token in a URL, a token taken from the
//! query, an access token that outlives its session or its user), and the harness must report
//! the scenario failed on that rule.

mod mutating_proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mutating_proxy::{Flaw, ProxyResponse};

use mutating_proxy::oauth::*;

/// A userinfo that never forgets: the first 200 it gave for an Authorization header is given
/// again for that header ever after, whatever happened to the token since.
fn userinfo_that_never_forgets() -> Flaw {
    let answered: Arc<Mutex<HashMap<String, ProxyResponse>>> = Arc::default();
    Flaw::response(move |req, resp| {
        let Some(bearer) = req.header("authorization").map(str::to_string) else {
            return;
        };
        if !is(req, "/oauth2/userinfo") {
            return;
        }
        let mut answered = answered.lock().unwrap();
        match answered.get(&bearer) {
            Some(first) if resp.status != 200 => *resp = first.clone(),
            None if resp.status == 200 => {
                answered.insert(bearer, resp.clone());
            }
            _ => {}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_answer_that_carries_the_token_in_its_url() {
    let flaw = on_consent_url(|url| format!("{url}&access_token=ba-harness-leaked-token"));
    breaks(
        flaw,
        "No access or refresh token travels in a URL of an authorization, code exchange and refresh",
        "never travel in a URL",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_that_reads_the_token_from_the_query() {
    let flaw = mutating_proxy::Flaw::request(|req| {
        if is(req, "/oauth2/userinfo")
            && req.header("authorization").is_none()
            && let Some(token) = query_value(req, "access_token")
        {
            req.set_header("authorization", &format!("Bearer {token}"));
        }
        None
    });
    breaks(
        flaw,
        "userinfo refuses an access token sent in the URI query",
        "does not accept an access token in the URI query",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_that_outlives_its_session() {
    for scenario in [
        "After sign-out the OAuth access token issued in the session is refused by userinfo",
        "After revoke-sessions the OAuth access token issued in the session is refused by userinfo",
    ] {
        breaks(
            userinfo_that_never_forgets(),
            scenario,
            "ending the user's session (sign-out, revoke-sessions)",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_that_outlives_its_user() {
    breaks(
        userinfo_that_never_forgets(),
        "After delete-user the user's OAuth access token is dead at userinfo and introspection",
        "after delete-user the OAuth access token",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_user_that_fails_is_reported_as_such_not_as_a_token_that_lived() {
    // The deletion never happened (a port answered 500): what the token does afterwards says
    // nothing about deletion, so the failure must name the refused deletion.
    let flaw = Flaw::request(|req| {
        is(req, "/delete-user").then(|| {
            json_response(
                500,
                serde_json::json!({"code": "INTERNAL_SERVER_ERROR", "message": "Internal Server Error"}),
            )
        })
    });
    breaks_showing(
        flaw,
        "After delete-user the user's OAuth access token is dead at userinfo and introspection",
        "delete-user answers HTTP 200",
        "HTTP 500",
    )
    .await;
}
