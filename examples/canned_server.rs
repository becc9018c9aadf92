//! A minimal fast server that answers like Better Auth with canned bodies, for
//! benches/load-vs-wrk.sh: it measures the load generators, not an auth server.
//!
//! - `POST /api/auth/sign-up/email`, `POST /api/auth/sign-in/email`: 200 with one fixed user
//!   and a session cookie (so `ba-harness load` can set its virtual users up);
//! - `GET /api/auth/get-session`: 200 with that user's session (every virtual user is the
//!   same canned user, so the harness's per-response check passes);
//! - anything else: 404.
//!
//! Single-threaded on purpose (the benchmark pins it to one core):
//!   cargo run --release --example canned_server -- 8088

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const SESSION: &str = r#"{"session":{"id":"canned-session","userId":"canned-user","token":"canned-session-token","expiresAt":"2099-01-01T00:00:00.000Z","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","ipAddress":"127.0.0.1","userAgent":"bench"},"user":{"id":"canned-user","email":"canned@ba-harness.test","name":"Canned User","emailVerified":false,"image":null,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}}"#;
const AUTH: &str = r#"{"redirect":false,"token":"canned-session-token","user":{"id":"canned-user","email":"canned@ba-harness.test","name":"Canned User","emailVerified":false,"image":null,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}}"#;
const COOKIE: &str = "better-auth.session_token=canned-session-token.c2lnbmF0dXJl; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax";

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let json = |status: StatusCode, body: &'static str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    };
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/api/auth/get-session") => json(StatusCode::OK, SESSION),
        (&Method::POST, "/api/auth/sign-up/email" | "/api/auth/sign-in/email") => {
            let mut response = json(StatusCode::OK, AUTH);
            response
                .headers_mut()
                .insert("set-cookie", COOKIE.parse().unwrap());
            response
        }
        _ => json(
            StatusCode::NOT_FOUND,
            r#"{"code":"NOT_FOUND","message":"Not Found"}"#,
        ),
    })
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8088);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind 127.0.0.1");
        println!("canned server on http://127.0.0.1:{port}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
}
