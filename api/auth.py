"""Who is asking. A user signs in with username and password (argon2 hashes in the store) and
gets a short-lived bearer token (JWT, naming its session) and a refresh token; logging out
ends the session and with it every token it issued. Integrations use API tokens. Repeated
wrong passwords lock the user out for a while. No password is built in: the first start
generates the admin's and prints it once."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

import store
from api import schemas
from api.changes import record
from api.deps import Conn, Id, services
from api.passwords import PasswordChecker, hash_password
from api.principal import Principal
from domain import Role

_bearer = HTTPBearer(auto_error=False, description="an access token or an API token")
_API_TOKEN_PREFIX = "ccm_"  # noqa: S105 (how API tokens are told from JWTs)
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    access_ttl_s: float = 900.0
    refresh_ttl_s: float = 12 * 3600.0  # a shift
    session_max_s: float = 24 * 3600.0  # however often refreshed, then sign in again
    key_rotate_s: float = 30 * 86400.0  # a new signing key this often
    max_failures: int = 5
    lockout_s: float = 900.0


def _token_hash(token: str) -> str:
    """Refresh and API tokens are long random strings: a plain SHA-256 keeps them safe."""
    return hashlib.sha256(token.encode()).hexdigest()


async def ensure_admin(conn: AsyncConnection[Any]) -> str | None:
    """Create the `admin` user with a generated password on first start.

    Returns the password the one time it is created (to print once), else None.
    """
    password = secrets.token_urlsafe(12)
    created = await store.users.create_user(
        conn, username="admin", password_hash=hash_password(password), role=Role.ADMIN
    )
    return password if created else None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _config(request: Request) -> AuthConfig:
    return services(request.app).auth


@dataclass(frozen=True, slots=True)
class SigningKeys:
    by_id: dict[int, bytes]
    read_at: float


# Keys are read again at least this often: another process may have made a newer one.
_KEYS_FRESH_S = 60.0


async def _keys(app: FastAPI, conn: AsyncConnection[Any], *, fresh: bool = False) -> SigningKeys:
    """The signing keys by id (the newest signs), made and rotated by the store."""
    shared = services(app)
    cached, config = shared.signing_keys, shared.auth
    stale_after = min(_KEYS_FRESH_S, config.key_rotate_s)
    if fresh or cached is None or time.monotonic() - cached.read_at > stale_after:
        by_id = await store.sessions.signing_keys(
            conn,
            rotate_after_s=config.key_rotate_s,
            # an old key may still sign in another process until it reads again
            keep_s=config.access_ttl_s + 2 * _KEYS_FRESH_S,
        )
        cached = shared.signing_keys = SigningKeys(by_id, time.monotonic())
    return cached


async def _key_of(token: str, app: FastAPI, conn: AsyncConnection[Any]) -> bytes:
    """The key a token names (`kid`); InvalidTokenError for one no key of ours signed."""
    kid = jwt.get_unverified_header(token).get("kid")
    if not isinstance(kid, str) or not kid.isdigit():
        raise jwt.InvalidTokenError("no key id")
    keys = await _keys(app, conn)
    if int(kid) not in keys.by_id:
        keys = await _keys(app, conn, fresh=True)  # made since this process last read
    key = keys.by_id.get(int(kid))
    if key is None:
        raise jwt.InvalidTokenError("unknown key")
    return key


async def user_of_token(token: str, conn: AsyncConnection[Any], app: FastAPI) -> Principal:
    """The user an access token or API token stands for; 401 when it does not (any more)."""
    if token.startswith(_API_TOKEN_PREFIX):
        user = await store.tokens.api_token_user(conn, token_hash=_token_hash(token))
        if user is None:
            raise _unauthorized("unknown or revoked API token")
        return await _principal(conn, user, None)
    try:
        claims = jwt.decode(
            token,
            await _key_of(token, app, conn),
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "sid"]},
        )
        session_id = UUID(str(claims["sid"]))
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the access token has expired: refresh it or sign in") from None
    except (jwt.InvalidTokenError, ValueError):
        raise _unauthorized("not a valid access token") from None
    user = await store.sessions.session_user(conn, session_id=session_id)
    if user is None:
        raise _unauthorized("the session has ended: sign in again")
    return await _principal(conn, user, session_id)


async def still_signed_in(
    conn: AsyncConnection[Any], user: Principal, token: str, app: FastAPI
) -> Principal | None:
    """`user` as they stand now (their offices may have changed), or None when their
    session or API token has ended (signed out, disabled, a new password, revoked). The
    access token's own expiry is not checked: a session lives on through refreshes."""
    if user.session_id is None:
        try:
            return await user_of_token(token, conn, app)
        except HTTPException:
            return None
    row = await store.sessions.session_user(conn, session_id=user.session_id)
    return None if row is None else await _principal(conn, row, user.session_id)


async def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    conn: Conn,
    request: Request,
) -> Principal:
    if credentials is None:
        raise _unauthorized("sign in: send 'Authorization: Bearer <token>'")
    return await user_of_token(credentials.credentials, conn, request.app)


async def _principal(
    conn: AsyncConnection[Any], user: store.users.UserRow, session_id: UUID | None
) -> Principal:
    offices = None
    if user.office_id is not None:
        offices = tuple(await store.offices.offices_under(conn, office_id=user.office_id))
    return Principal(user.id, user.username, Role(user.role), user.office_id, session_id, offices)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def acting_user(user: CurrentUser) -> Principal:
    """A user who may act on alerts: everyone but an auditor, who only reads."""
    if user.role is Role.AUDITOR:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an auditor reads; acting is for officers")
    return user


ActingUser = Annotated[Principal, Depends(acting_user)]


async def admin(user: CurrentUser) -> Principal:
    if user.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may do this")
    return user


Admin = Annotated[Principal, Depends(admin)]


async def manager(user: CurrentUser) -> Principal:
    """A user who may change the registry of their offices: a supervisor or an admin."""
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only a supervisor or an admin may change this"
        )
    return user


Manager = Annotated[Principal, Depends(manager)]


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class Refresh(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class Tokens(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth 2's word for it)
    expires_in: int = Field(description="seconds the access token is good for")
    refresh_token: str


class NewApiToken(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="which system uses it")
    username: str = Field(
        min_length=1, max_length=200, description="the user it acts as (its role and offices)"
    )


class ApiToken(BaseModel):
    id: int
    token: str = Field(description="shown this once; ccmon keeps only a hash")


router = APIRouter(tags=["auth"])


async def _tokens(
    request: Request, conn: AsyncConnection[Any], session_id: UUID, refresh: str
) -> Tokens:
    config = _config(request)
    now = time.time()
    # exp rounded up: a token is good for at least its life, never a fraction less
    claims = {
        "sid": str(session_id),
        "iat": int(now),
        "exp": math.ceil(now + config.access_ttl_s),
    }
    keys = await _keys(request.app, conn)
    kid = max(keys.by_id)
    access = jwt.encode(claims, keys.by_id[kid], algorithm=_ALGORITHM, headers={"kid": str(kid)})
    return Tokens(access_token=access, expires_in=int(config.access_ttl_s), refresh_token=refresh)


def _source(request: Request) -> str:
    """Where a sign-in comes from, as throttling counts it: the TCP peer."""
    return request.client.host if request.client else "?"


def _held_off(left_s: float) -> None:
    """429 while wrong passwords hold this name (or address) off for `left_s` more."""
    if left_s > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins from here: try again in {left_s:.0f} s",
            headers={"Retry-After": str(math.ceil(left_s))},
        )


async def _count_failure(
    conn: AsyncConnection[Any], config: AuthConfig, *, username: str, source: str
) -> None:
    """A wrong password, counted and committed: the answer that follows is an error, and an
    error rolls the request's transaction back."""
    await store.sessions.login_failed(
        conn,
        username=username,
        source=source,
        max_failures=config.max_failures,
        lockout_s=config.lockout_s,
    )
    await conn.commit()


@router.post("/auth/token")
async def sign_in(body: Credentials, request: Request) -> Tokens:
    """Username and password -> an access token and a refresh token. Wrong passwords slow
    down, then stop, further tries of that name from that address (429 with Retry-After),
    and many from one address stop that address; never the user elsewhere. An unknown name
    is answered as a wrong password, in every state."""
    checker = services(request.app).passwords
    async with checker.turn():
        return await _sign_in(body, request, checker)


async def _sign_in(body: Credentials, request: Request, checker: PasswordChecker) -> Tokens:
    config, pool = _config(request), services(request.app).pool
    source = _source(request)
    # No connection is held while the password is checked (that may wait for the hasher).
    async with pool.connection() as conn:
        _held_off(await store.sessions.login_blocked(conn, username=body.username, source=source))
        row = await store.sessions.login_row(conn, username=body.username)
    right = await checker.verify(row.password_hash if row else None, body.password)
    async with pool.connection() as conn:
        if not right or row is None:
            await _count_failure(conn, config, username=body.username, source=source)
            raise _unauthorized("wrong username or password")
        await store.sessions.login_succeeded(conn, username=body.username, source=source)
        refresh = secrets.token_urlsafe(32)
        session_id = await store.sessions.create_session(
            conn, user_id=row.id, refresh_hash=_token_hash(refresh), ttl_s=config.refresh_ttl_s
        )
        return await _tokens(request, conn, session_id, refresh)


@router.post("/auth/refresh")
async def refresh(body: Refresh, conn: Conn, request: Request) -> Tokens:
    """A refresh token -> a new access token and a new refresh token (the old one is used
    up)."""
    config = _config(request)
    new = secrets.token_urlsafe(32)
    renewed = await store.sessions.refresh_session(
        conn,
        refresh_hash=_token_hash(body.refresh_token),
        new_hash=_token_hash(new),
        ttl_s=config.refresh_ttl_s,
        max_age_s=config.session_max_s,
    )
    if renewed is None:
        # Committed even so: a token used twice has just ended its session.
        await conn.commit()
        raise _unauthorized("unknown, used or expired refresh token: sign in again")
    return await _tokens(request, conn, renewed[0], new)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, conn: Conn) -> None:
    """End the session: its access and refresh tokens stop working at once."""
    if user.session_id is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "an API token has no session: an admin revokes it"
        )
    await store.sessions.revoke_session(conn, session_id=user.session_id)


@router.get("/auth/me", response_model=schemas.User)
async def me(user: CurrentUser) -> store.users.UserRow:
    """Who the token belongs to."""
    return store.users.UserRow(user.user_id, user.username, user.role, user.office_id)


class NewPassword(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=12, max_length=1000)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: NewPassword, request: Request, user: CurrentUser) -> None:
    """Change one's own password (at least 12 characters); every session of the user ends,
    this one too: sign in again. A wrong current password counts as a failed sign-in."""
    config, pool = _config(request), services(request.app).pool
    source = _source(request)
    checker = services(request.app).passwords
    async with checker.turn(), pool.connection() as conn:
        _held_off(await store.sessions.login_blocked(conn, username=user.username, source=source))
        current = await store.users.password_hash_of(conn, user_id=user.user_id)
    right = await checker.verify(current, body.current_password)
    new_hash = await checker.hash(body.new_password) if right else ""
    async with pool.connection() as conn:
        if not right:
            await _count_failure(conn, config, username=user.username, source=source)
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is not right")
        await store.users.set_password(conn, user_id=user.user_id, password_hash=new_hash)
        await record(conn, user, "change password", "user", user.user_id, user.office_id)


@router.post("/api-tokens", status_code=status.HTTP_201_CREATED)
async def create_api_token(body: NewApiToken, conn: Conn, user: Admin) -> ApiToken:
    """A token for another system, acting as `username`."""
    token = _API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = await store.tokens.create_api_token(
        conn,
        name=body.name,
        username=body.username,
        token_hash=_token_hash(token),
        actor=user.username,
    )
    if token_id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no user {body.username!r}")
    await record(conn, user, "create", "api token", token_id, None, body)
    return ApiToken(id=token_id, token=token)


@router.get("/api-tokens", response_model=list[schemas.ApiTokenInfo])
async def list_api_tokens(conn: Conn, _user: Admin) -> list[store.tokens.ApiTokenRow]:
    """Every API token (never the token itself)."""
    return await store.tokens.list_api_tokens(conn)


@router.delete("/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_token(token_id: Id, conn: Conn, user: Admin) -> None:
    if not await store.tokens.revoke_api_token(conn, token_id=token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live API token {token_id}")
    await record(conn, user, "revoke", "api token", token_id, None)
