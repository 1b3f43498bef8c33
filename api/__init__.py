"""FastAPI app: auth, REST under /api/v1."""

from api.app import create_app
from api.auth import AuthConfig, ensure_admin
from api.passwords import PasswordChecker, hash_password

__all__ = ["AuthConfig", "PasswordChecker", "create_app", "ensure_admin", "hash_password"]
