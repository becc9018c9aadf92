"""The Python port of Better Auth (PyPI ``better-auth-server`` 1.1.0) on FastAPI + uvicorn,
configured like the bundled TypeScript reference (targets/better-auth/server.mjs) as far as the
port allows, with a real SQLite database (SQLAlchemy + aiosqlite).

Started by `ba-harness conform --port python`; runnable by hand too (after it made .venv):
    PORT=3000 .venv/bin/python server.py

Environment (the same names as server.mjs):
    PORT                  port to listen on, on 127.0.0.1 (required)
    BASE_URL              public base URL (default http://127.0.0.1:$PORT)
    DATABASE_PATH         SQLite file (default ./data/python-<port>.sqlite, recreated at start)
    BETTER_AUTH_SECRET    signing secret (default: the reference's fixed development secret)
    RATE_LIMIT_MAX        sign-in/sign-up requests allowed per 10 s per client IP (default 3)
    RATE_LIMIT            "off" disables rate limiting
    COOKIE_CACHE_MAX_AGE  cookie cache (session_data) lifetime in seconds (default 300)
    COOKIE_CACHE          "off" disables the cookie cache
    SESSION_UPDATE_AGE    seconds after which get-session extends a session (default 86400)
    JWT_ALG               jwt plugin key algorithm (default EdDSA)
    JWT_EXPIRATION        jwt plugin token lifetime (default "15m")
    DELETE_USER           "off" turns POST /delete-user off (on by default, as in server.mjs)
    READY_FILE            where to write the ready line as JSON (optional; also printed)
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from pathlib import Path

# The port turns rate limiting on only in production, as Better Auth does; the reference forces
# production too, so results do not depend on the caller's shell.
os.environ["BETTER_AUTH_ENV"] = "production"
os.environ["NODE_ENV"] = "production"

import uvicorn  # noqa: E402
from better_auth import (  # noqa: E402
    AuthRequest,
    BetterAuth,
    Ctx,
    EmailAndPassword,
    RateLimit,
    SessionOptions,
)
from better_auth.config import DeleteUserOptions, UserOptions  # noqa: E402
from better_auth.adapters.sqlalchemy import SQLAlchemyAdapter  # noqa: E402
from better_auth.config import CookieCache  # noqa: E402
from better_auth.integrations.fastapi import BetterAuthFastAPI  # noqa: E402
from better_auth.plugins_ext import BearerPlugin, JWTPlugin, OAuthProviderPlugin  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.responses import HTMLResponse, JSONResponse  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT_ORIGIN = "http://127.0.0.1:4000"


def env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


async def main() -> None:
    started = time.monotonic()
    port = env_int("PORT")
    if port is None or not 0 < port < 65536:
        print("server.py: PORT must be set to a port number", file=sys.stderr)
        sys.exit(2)
    base_url = os.environ.get("BASE_URL", f"http://127.0.0.1:{port}")
    database_path = Path(
        os.environ.get("DATABASE_PATH", HERE / "data" / f"python-{port}.sqlite")
    )
    database_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database_path}{suffix}").unlink(missing_ok=True)

    rate_limit_off = os.environ.get("RATE_LIMIT") == "off"
    rate_limit_max = env_int("RATE_LIMIT_MAX")
    sign_in_limit = None if rate_limit_off else (rate_limit_max or 3)
    cookie_cache_max_age = env_int("COOKIE_CACHE_MAX_AGE") or 300
    session_update_age = env_int("SESSION_UPDATE_AGE")
    jwt_alg = os.environ.get("JWT_ALG", "EdDSA")

    # As the reference's better-sqlite3 database: WAL, and writers wait for each other instead
    # of failing with "database is locked" when the harness runs scenarios concurrently.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{database_path}", connect_args={"timeout": 30}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    adapter = SQLAlchemyAdapter(engine)
    oauth_provider = OAuthProviderPlugin(
        login_page="/login",
        consent_page="/consent",
        allow_dynamic_client_registration=True,
        allow_unauthenticated_client_registration=True,
        scopes=["openid", "profile", "email", "offline_access"],
    )
    session = SessionOptions(
        cookie_cache=CookieCache(
            enabled=os.environ.get("COOKIE_CACHE") != "off", max_age=cookie_cache_max_age
        )
    )
    if session_update_age is not None:
        session.update_age = session_update_age
    auth = BetterAuth(
        secret=os.environ.get(
            "BETTER_AUTH_SECRET", "ba-harness-reference-secret-not-for-production-use-0001"
        ),
        adapter=adapter,
        base_url=base_url,
        base_path="/api/auth",
        email_and_password=EmailAndPassword(enabled=True),
        # POST /delete-user on, as in server.mjs: the harness deletes the users a run creates.
        user=UserOptions(
            delete_user=DeleteUserOptions(enabled=os.environ.get("DELETE_USER") != "off")
        ),
        session=session,
        rate_limit=RateLimit(
            enabled=not rate_limit_off,
            custom_rules=(
                {}
                if rate_limit_max is None
                else {
                    "/sign-in/*": (10, rate_limit_max),
                    "/sign-up/*": (10, rate_limit_max),
                }
            ),
        ),
        plugins=[
            JWTPlugin(
                key_pair_config={"alg": jwt_alg},
                expiration_time=os.environ.get("JWT_EXPIRATION", "15m"),
            ),
            BearerPlugin(),
            oauth_provider,
        ],
    )
    await adapter.create_tables()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})

    # loginPage / consentPage stand-ins, as in server.mjs.
    @app.get("/login")
    async def login() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>login</title>")

    @app.get("/consent")
    async def consent() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>consent</title>")

    app.include_router(BetterAuthFastAPI(auth).router)

    oauth_client = await seed_oauth_client(auth, oauth_provider, base_url)

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        ready = {
            "ready": True,
            "base_url": base_url,
            "port": port,
            "base_path": "/api/auth",
            "jwt_alg": jwt_alg,
            "cookie_cache_max_age": cookie_cache_max_age,
            "session_update_age": session_update_age or 86400,
            "rate_limit_max": sign_in_limit,
            "implementation": "better-auth-server (Python) 1.1.0",
            **oauth_client,
            "startup_ms": round((time.monotonic() - started) * 1000),
        }
        if os.environ.get("READY_FILE"):
            Path(os.environ["READY_FILE"]).write_text(json.dumps(ready))
        print(f"BA_HARNESS_READY {json.dumps(ready)}", flush=True)

    await asyncio.gather(server.serve(), announce())


async def seed_oauth_client(auth: BetterAuth, provider: OAuthProviderPlugin, base_url: str) -> dict:
    """The reference's seeded public PKCE client with end session enabled: created through the
    provider's server-only admin endpoint, which wants a signed-in user (as in TypeScript)."""
    email = f"seed-admin-{int(time.time() * 1000)}@reference.ba-harness.test"
    password = f"seed-{secrets.token_hex(8)}"
    headers = {"content-type": "application/json", "origin": base_url}
    sign_up = await auth.handle(
        AuthRequest(
            method="POST",
            path="/sign-up/email",
            headers=headers,
            body=json.dumps(
                {"email": email, "password": password, "name": "Reference seed admin"}
            ).encode(),
            client_ip="127.0.0.1",
        )
    )
    if sign_up.status != 200:
        raise RuntimeError(f"seed sign-up failed with HTTP {sign_up.status}: {sign_up.body}")
    cookie = "; ".join(
        value.split(";")[0] for name, value in sign_up.headers if name.lower() == "set-cookie"
    )
    redirect_uri = f"{CLIENT_ORIGIN}/callback"
    post_logout_redirect_uri = f"{CLIENT_ORIGIN}/logged-out"
    request = AuthRequest(
        method="POST",
        path="/admin/oauth2/create-client",
        headers={**headers, "cookie": cookie},
        body=json.dumps(
            {
                "client_name": "ba-harness conformance client",
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [post_logout_redirect_uri],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "enable_end_session": True,
            }
        ).encode(),
        client_ip="127.0.0.1",
    )
    created = await provider.admin_create_client(Ctx(auth=auth, request=request))
    body = created.body if isinstance(created.body, dict) else json.loads(created.body or b"{}")
    if created.status not in (200, 201) or "client_id" not in body:
        raise RuntimeError(f"seeding the OAuth client failed: HTTP {created.status}: {body}")
    return {
        "client_id": body["client_id"],
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": post_logout_redirect_uri,
    }


if __name__ == "__main__":
    asyncio.run(main())
