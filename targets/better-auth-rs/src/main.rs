//! The Rust port of Better Auth (crates.io `better-auth` 1.0.0-alpha.5, better-auth-rs project)
//! on axum, configured like the bundled TypeScript reference (targets/better-auth/server.mjs)
//! as far as the port allows. Started by `ba-harness conform --port rust`; runnable by hand too:
//!   PORT=3000 cargo run --release
//!
//! Environment (the same names as server.mjs):
//!   PORT                  port to listen on, on 127.0.0.1 (required; 0 picks a free one)
//!   BASE_URL              public base URL (default http://127.0.0.1:$PORT)
//!   BETTER_AUTH_SECRET    signing secret (default: the reference's fixed development secret)
//!   RATE_LIMIT_MAX        sign-in/sign-up requests allowed per 10 s per client IP (default: the
//!                         port's own, 3, as Better Auth's)
//!   RATE_LIMIT            "off" disables rate limiting
//!   COOKIE_CACHE_MAX_AGE  cookie cache (session_data) lifetime in seconds (default 300)
//!   COOKIE_CACHE          "off" disables the cookie cache
//!   SESSION_UPDATE_AGE    seconds after which get-session extends a session (default 86400)
//!   DELETE_USER           "off" turns POST /delete-user off (on by default, as in server.mjs)
//!   READY_FILE            where to write the ready line as JSON (optional; also printed)
//!
//! What differs from the reference, because the port does not offer it:
//! - no OAuth 2.1 / OIDC provider plugin (the port has social sign-in, not an authorization
//!   server), so the harness's oauth-provider scenarios skip;
//! - the store is the port's in-process memory adapter (`EphemeralStore`), not SQLite: its
//!   SQL store (`seaorm2` feature) needs application-defined entity models for every table;
//! - JWT_ALG / JWT_EXPIRATION / TLS are not wired (the defaults, EdDSA and 15 min, match).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use better_auth::config::{BearerConfig, CookieCacheConfig, CookieCacheStrategy};
use better_auth::integrations::axum::AxumIntegration;
use better_auth::middleware::RateLimitConfig;
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, JwtPlugin, PasswordManagementPlugin,
    SessionManagementPlugin, UserManagementPlugin,
};
use better_auth::store::{EphemeralStore, StatelessSchema};
use better_auth::{AuthConfig, BetterAuth};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or("PORT must be set to a port number (0 picks a free one)")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    let base_url = std::env::var("BASE_URL").unwrap_or_else(|_| format!("http://127.0.0.1:{port}"));
    let secret = std::env::var("BETTER_AUTH_SECRET")
        .unwrap_or_else(|_| "ba-harness-reference-secret-not-for-production-use-0001".into());

    let cookie_cache_off = std::env::var("COOKIE_CACHE").as_deref() == Ok("off");
    let cookie_cache_max_age = env_u64("COOKIE_CACHE_MAX_AGE").unwrap_or(300);
    let session_update_age = env_u64("SESSION_UPDATE_AGE");
    let rate_limit_off = std::env::var("RATE_LIMIT").as_deref() == Ok("off");
    let rate_limit_max = env_u64("RATE_LIMIT_MAX");

    let mut config = AuthConfig::new(secret)
        .app_name("ba-harness reference")
        .base_url(base_url.clone())
        .base_path("/api/auth")
        .session_cookie_cache(CookieCacheConfig {
            enabled: Some(!cookie_cache_off),
            max_age: Some(chrono::Duration::seconds(cookie_cache_max_age as i64)),
            // Better Auth's default cookie cache encoding.
            strategy: Some(CookieCacheStrategy::Compact),
            ..CookieCacheConfig::default()
        });
    if let Some(age) = session_update_age {
        config = config.session_update_age(chrono::Duration::seconds(age as i64));
    }
    // The bearer plugin of the TypeScript original is session configuration here.
    config.session.bearer = Some(BearerConfig::default());
    config.telemetry.enabled = false;

    let mut rate_limit = RateLimitConfig::new().enabled(!rate_limit_off);
    if let Some(max) = rate_limit_max {
        rate_limit = rate_limit
            .endpoint("/sign-in/*", Duration::from_secs(10), max as f64)
            .endpoint("/sign-up/*", Duration::from_secs(10), max as f64);
    }
    let sign_in_limit = if rate_limit_off {
        None
    } else {
        Some(rate_limit_max.unwrap_or(3))
    };

    let store = EphemeralStore::new(Arc::new(config.clone()));
    let auth = Arc::new(
        BetterAuth::<StatelessSchema>::new(config)
            .store(store)
            .rate_limit(rate_limit)
            .plugin(EmailPasswordPlugin::new().enable_signup(true))
            .plugin(SessionManagementPlugin::new())
            .plugin(PasswordManagementPlugin::new())
            .plugin(AccountManagementPlugin::new())
            // POST /delete-user on, as in the reference: the harness deletes the users it created.
            .plugin(
                UserManagementPlugin::new()
                    .delete_user_enabled(std::env::var("DELETE_USER").as_deref() != Ok("off")),
            )
            .plugin(JwtPlugin::new())
            .build()
            .await?,
    );

    let app = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .nest("/api/auth", auth.clone().axum_router())
        .with_state(auth);

    let ready = serde_json::json!({
        "ready": true,
        "base_url": base_url,
        "port": port,
        "base_path": "/api/auth",
        "jwt_alg": "EdDSA",
        "cookie_cache_max_age": cookie_cache_max_age,
        "session_update_age": session_update_age.unwrap_or(86400),
        "rate_limit_max": sign_in_limit,
        "implementation": "better-auth (Rust) 1.0.0-alpha.5",
        "startup_ms": started.elapsed().as_millis() as u64,
    });
    if let Ok(path) = std::env::var("READY_FILE") {
        std::fs::write(path, ready.to_string())?;
    }
    println!("BA_HARNESS_READY {ready}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
