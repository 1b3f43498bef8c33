"""Who is asking: HTTP Basic against argon2 hashes in the store."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from psycopg import AsyncConnection

import store
from api.deps import Conn

_hasher = PasswordHasher()
_basic = HTTPBasic(realm="ccmon")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def ensure_admin(conn: AsyncConnection[Any]) -> str | None:
    """Create the `admin` user with a generated password on first start.

    Returns the password the one time it is created (to print once), else None.
    """
    password = secrets.token_urlsafe(12)
    created = await store.create_user(
        conn, username="admin", password_hash=hash_password(password), role="admin"
    )
    return password if created else None


async def current_user(
    credentials: Annotated[HTTPBasicCredentials, Depends(_basic)], conn: Conn
) -> str:
    stored = await store.password_hash(conn, username=credentials.username)
    try:
        if stored is None:
            raise VerificationError
        _hasher.verify(stored, credentials.password)
    except (VerificationError, InvalidHashError):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": 'Basic realm="ccmon"'},
        ) from None
    return credentials.username


CurrentUser = Annotated[str, Depends(current_user)]
