"""Single sign-on with OpenID Connect: authorization code flow with PKCE, through Authlib.

``begin`` keeps state, nonce and PKCE verifier in Redis under the hash of the state for
ten minutes, single use, together with the hash of a random value that goes into a cookie
of the browser that started: a callback completes only in that browser, so nobody can
sign a victim into the attacker's account. ``finish`` exchanges the code, verifies the ID
token (signature by the issuer's keys, issuer, audience, expiry, nonce), adds the userinfo
claims and maps the configured claims to a role and locations.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

import httpx2
import msgspec
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.auth.accounts import SsoIdentity
from booking.auth.principals import Role
from booking.errors import Forbidden, Unauthorized, Unavailable
from booking.settings import Settings

CALLBACK_PATH = "/api/v1/auth/oidc/callback"
PENDING_COOKIE = "booking_oidc"
PENDING_SECONDS = 600
_METADATA_SECONDS = 3600
_LEEWAY_SECONDS = 120
_REQUIRED_METADATA = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class SsoFailed(Unauthorized):
    code = "sso_failed"


class Started(msgspec.Struct, frozen=True):
    """Where to send the browser, and the value for its ``booking_oidc`` cookie."""

    url: str
    browser: str


class _Pending(msgspec.Struct, frozen=True):
    nonce: str
    verifier: str
    browser_hash: str
    next_path: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _unreachable() -> Unavailable:
    return Unavailable(
        "The identity provider cannot be reached; please try again shortly.",
        headers={"Retry-After": "10"},
    )


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name; dots reach into nested objects (Keycloak's ``realm_access.roles``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> list[str]:
    """A claim as a list: a JSON array, or one string of space- or comma-separated words."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def identity_from_claims(claims: Mapping[str, Any], settings: Settings) -> SsoIdentity:
    """The highest role the role claim names; values that are no role are ignored."""
    named = set(_strings(_claim(claims, settings.oidc_role_claim)))
    role = next((r for r in (Role.ADMIN, Role.LOCATION_ADMIN, Role.DESK) if r.value in named), None)
    if role is None:
        raise Forbidden(
            "Your sign-in worked, but the identity provider gives you no role in this service."
        )
    email = claims.get("email")
    return SsoIdentity(
        subject=str(claims["sub"]),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        email_verified=claims.get("email_verified") is True,
        display_name=str(claims.get("name") or claims.get("preferred_username") or "")[:200],
        role=role,
        locations=_strings(_claim(claims, settings.oidc_locations_claim)),
    )


class OidcClient:
    """One configured issuer; discovery and keys are fetched on first use, not at start."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._settings = settings
        self._redis = redis
        self._http = httpx2.AsyncClient(timeout=10)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, Any] | None = None

    @property
    def redirect_uri(self) -> str:
        return self._settings.public_url.rstrip("/") + CALLBACK_PATH

    async def aclose(self) -> None:
        await self._http.aclose()

    def _oauth(self) -> AsyncOAuth2Client:
        secret = self._settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self._settings.oidc_client_id,
            client_secret=secret or None,
            # Without a secret this is a public client, and PKCE alone binds the code.
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self._settings.oidc_scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx2.HTTPError, ValueError):
            raise _unreachable() from None
        if not isinstance(data, dict):
            raise _unreachable()
        return data

    async def _discover(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > _METADATA_SECONDS:
            issuer = self._settings.oidc_issuer.rstrip("/")
            metadata = await self._get_json(issuer + "/.well-known/openid-configuration")
            # A provider naming another issuer, or lacking an endpoint, is misconfigured.
            if str(metadata.get("issuer", "")).rstrip("/") != issuer or not all(
                isinstance(metadata.get(key), str) for key in _REQUIRED_METADATA
            ):
                raise _unreachable()
            self._metadata, self._metadata_at, self._keys = metadata, time.monotonic(), None
        return self._metadata

    async def _key_set(self, metadata: dict[str, Any], refresh: bool) -> KeySet:
        if self._keys is None or refresh:
            self._keys = await self._get_json(str(metadata["jwks_uri"]))
        try:
            return KeySet.import_key_set(self._keys)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError):
            raise _unreachable() from None

    async def begin(self, next_path: str) -> Started:
        metadata = await self._discover()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        browser = secrets.token_urlsafe(32)
        pending = _Pending(nonce, verifier, _digest(browser), next_path)
        try:
            await self._redis.set(
                "oidc:" + _digest(state), msgspec.msgpack.encode(pending), ex=PENDING_SECONDS
            )
        except (RedisError, OSError):
            raise Unavailable("Sign-in is unavailable at the moment.") from None
        url, _ = self._oauth().create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
        return Started(url, browser)

    async def _take_pending(self, state: str, browser: str | None) -> _Pending:
        try:
            raw = await self._redis.getdel("oidc:" + _digest(state))
        except (RedisError, OSError):
            raise Unavailable("Sign-in is unavailable at the moment.") from None
        if raw is None:
            raise SsoFailed("This sign-in has expired or was used already; please start again.")
        pending = msgspec.msgpack.decode(raw, type=_Pending)
        if browser is None or not hmac.compare_digest(_digest(browser), pending.browser_hash):
            raise SsoFailed("This sign-in was started in another browser; please start again.")
        return pending

    async def finish(self, code: str, state: str, browser: str | None) -> tuple[SsoIdentity, str]:
        """The identity and the path to go to, once the provider's answer checks out."""
        pending = await self._take_pending(state, browser)
        metadata = await self._discover()
        try:
            async with self._oauth() as oauth:
                token = await oauth.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=pending.verifier
                )
                claims = await self._id_token_claims(metadata, token, pending.nonce)
                if metadata.get("userinfo_endpoint"):
                    response = await oauth.get(metadata["userinfo_endpoint"])
                    response.raise_for_status()
                    userinfo = response.json()
                    # OIDC Core 5.3.2: userinfo about someone else must not be used.
                    if isinstance(userinfo, dict) and userinfo.get("sub") == claims["sub"]:
                        claims = {**userinfo, **claims}
        except (OAuthError, ValueError, KeyError):
            raise SsoFailed("The identity provider refused the sign-in.") from None
        except httpx2.HTTPError:
            raise _unreachable() from None
        return identity_from_claims(claims, self._settings), pending.next_path

    async def _id_token_claims(
        self, metadata: dict[str, Any], token: Mapping[str, Any], nonce: str
    ) -> dict[str, Any]:
        if "id_token" not in token:
            raise SsoFailed("The identity provider sent no ID token.")
        registry = JWSRegistry(
            algorithms=metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        )
        try:
            try:
                decoded = jwt.decode(
                    token["id_token"], await self._key_set(metadata, False), registry=registry
                )
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                decoded = jwt.decode(
                    token["id_token"], await self._key_set(metadata, True), registry=registry
                )
            id_token = CodeIDToken(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "value": metadata["issuer"]}},
                {
                    "nonce": nonce,
                    "client_id": self._settings.oidc_client_id,
                    "access_token": token.get("access_token"),
                },
            )
            id_token.validate(leeway=_LEEWAY_SECONDS)
        except JoseError:
            raise SsoFailed("The identity provider's ID token did not check out.") from None
        return dict(id_token)
