"""A JWT-verifying resource server, the way a FastAPI backend behind a Better Auth app is built.

Better Auth's jwt plugin issues the JWTs (GET /api/auth/token) and publishes the public keys
(GET /api/auth/jwks). This backend verifies every `Authorization: Bearer <jwt>` against that
JWKS, with PyJWT, before it answers:

    GET /api/me   200 {"sub", "email", "name", "kid"} for a valid JWT,
                  401 {"error", "error_description"} with WWW-Authenticate: Bearer otherwise
    GET /health   200 {"status": "ok", "jwks_fetches": N}

Valid means: the header's alg is an asymmetric algorithm the key declares (never "none", never
HMAC), the kid names a key of the issuer's JWKS (keys are cached by kid; an unknown kid makes the
backend fetch the JWKS again, so keys the issuer rotates in are picked up at once), the signature
verifies with that key, iss and aud are the configured ones, exp is in the future (no leeway),
and sub is present.

Environment:
    JWKS_URL        the issuer's JWKS, e.g. http://127.0.0.1:3000/api/auth/jwks (required)
    JWT_ISSUER      the expected iss (Better Auth's default: the base URL, e.g. http://127.0.0.1:3000)
    JWT_AUDIENCE    the expected aud (default: JWT_ISSUER, as Better Auth's default)
    PORT            port on 127.0.0.1 (required; run.py passes it to uvicorn)
    BROKEN          disables one rule, for the harness's own tests (never in production):
                    skip-signature, accept-alg-none, trust-header-jwk, skip-iss, skip-aud,
                    skip-exp, no-jwks-refetch, newest-key-only, first-subject,
                    allow-anonymous, no-challenge
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ASYMMETRIC_ALGS = ["EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
BROKEN_RULES = {
    "skip-signature",
    "accept-alg-none",
    "trust-header-jwk",
    "skip-iss",
    "skip-aud",
    "skip-exp",
    "no-jwks-refetch",
    "newest-key-only",
    "first-subject",
    "allow-anonymous",
    "no-challenge",
}

JWKS_URL = os.environ.get("JWKS_URL", "")
ISSUER = os.environ.get("JWT_ISSUER", "")
AUDIENCE = os.environ.get("JWT_AUDIENCE") or ISSUER
BROKEN = os.environ.get("BROKEN", "")
if not JWKS_URL or not ISSUER:
    raise SystemExit("app.py: JWKS_URL and JWT_ISSUER must be set")
if BROKEN and BROKEN not in BROKEN_RULES:
    raise SystemExit(f"app.py: BROKEN={BROKEN!r} is not one of {sorted(BROKEN_RULES)}")


class Refused(Exception):
    """Why a request gets 401 (error code and description, RFC 6750 §3)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


class JwksCache:
    """The issuer's public keys by kid. A kid it does not hold makes it fetch the JWKS again.

    Refetches are serialised: a request that waited for another request's fetch, which started
    after it looked, uses that result instead of fetching again.
    """

    def __init__(self, url: str):
        self.url = url
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetches = 0
        self._generation = 0
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        request = urllib.request.Request(self.url, headers={"accept": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.load(response)
        keys: dict[str, jwt.PyJWK] = {}
        listed = [k for k in body.get("keys", []) if isinstance(k, dict) and isinstance(k.get("kid"), str)]
        if BROKEN == "newest-key-only":
            # Broken: keeps only the last key listed (the newest), dropping keys still in their
            # grace period after a rotation.
            listed = listed[-1:]
        for jwk in listed:
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except jwt.PyJWKError:
                continue  # a key type this backend cannot use is skipped, not fatal
        self.keys = keys
        self.fetches += 1
        self._generation += 1

    def key(self, kid: str) -> jwt.PyJWK | None:
        found = self.keys.get(kid)
        if found is not None:
            return found
        if BROKEN == "no-jwks-refetch" and self.fetches > 0:
            # Broken: the JWKS is fetched once, at the first request, and never again.
            return None
        seen = self._generation
        with self._lock:
            if self._generation == seen:
                try:
                    self._fetch()
                except OSError as error:
                    raise Refused("invalid_token", f"the issuer's JWKS could not be fetched: {error}") from error
        return self.keys.get(kid)


CACHE = JwksCache(JWKS_URL)
_first_user: dict[str, Any] | None = None


def verify(token: str) -> dict[str, Any]:
    """The claims of a valid JWT; Refused otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise Refused("invalid_token", f"not a JWT: {error}") from error
    alg = header.get("alg")
    if BROKEN == "accept-alg-none" and isinstance(alg, str) and alg.lower() == "none":
        # Broken: an unsigned JWT is taken at its word.
        return jwt.decode(token, options={"verify_signature": False})
    if alg not in ASYMMETRIC_ALGS:
        raise Refused("invalid_token", f"alg {alg!r} is not accepted")
    kid = header.get("kid")
    if BROKEN == "trust-header-jwk" and isinstance(header.get("jwk"), dict):
        # Broken: verifies with the key the token itself carries (RFC 7515 `jwk` header).
        key: Any = jwt.PyJWK(header["jwk"])
    else:
        if not isinstance(kid, str):
            raise Refused("invalid_token", "the JWT names no kid")
        key = CACHE.key(kid)
        if key is None:
            raise Refused("invalid_token", f"kid {kid!r} is not in the issuer's JWKS")
    if key.algorithm_name != alg:
        raise Refused("invalid_token", f"the JWT's alg {alg} is not its key's {key.algorithm_name}")
    options = {
        "verify_signature": BROKEN != "skip-signature",
        "verify_iss": BROKEN != "skip-iss",
        "verify_aud": BROKEN != "skip-aud",
        "verify_exp": BROKEN != "skip-exp",
        "require": ["exp", "iat", "sub"],
    }
    try:
        return jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            issuer=ISSUER,
            audience=AUDIENCE,
            options=options,
        )
    except jwt.InvalidTokenError as error:
        raise Refused("invalid_token", f"{type(error).__name__}: {error}") from error


app = FastAPI(title="ba-harness resource server", docs_url=None, redoc_url=None, openapi_url=None)


def refuse(error: str, description: str) -> JSONResponse:
    """401 with RFC 6750 §3's challenge: `Bearer` alone when no token came, with
    error="invalid_token" when one came and was refused."""
    headers = {"cache-control": "no-store"}
    if BROKEN != "no-challenge":
        # (Broken: no WWW-Authenticate, as a bare HTTPException(401) sends.)
        headers["www-authenticate"] = f'Bearer error="{error}"' if error != "unauthorized" else "Bearer"
    return JSONResponse(
        status_code=401,
        content={"error": error, "error_description": description},
        headers=headers,
    )


@app.get("/api/me")
def me(request: Request) -> JSONResponse:
    global _first_user
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        if BROKEN == "allow-anonymous":
            # Broken: no token means a guest, answered with 200.
            return JSONResponse({"sub": None, "guest": True})
        return refuse("unauthorized", "an Authorization: Bearer <JWT> header is required")
    try:
        claims = verify(token.strip())
    except Refused as refused:
        return refuse(refused.error, refused.description)
    user = {
        "sub": claims.get("sub"),
        "email": claims.get("email"),
        "name": claims.get("name"),
    }
    if BROKEN == "first-subject":
        # Broken: a process-wide cache without a key: everyone gets the first user served.
        if _first_user is None:
            _first_user = user
        user = _first_user
    return JSONResponse(user, headers={"cache-control": "no-store"})


@app.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "jwks_fetches": CACHE.fetches, "broken": BROKEN or None}
