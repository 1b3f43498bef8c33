"""FastAPI app: auth, REST under /api/v1."""

from api.app import create_app
from api.auth import ensure_admin, hash_password

__all__ = ["create_app", "ensure_admin", "hash_password"]
