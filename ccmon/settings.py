"""All settings, read once at start from CCMON_* environment variables (or a .env-style file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCMON_", extra="forbid")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL >= 15 DSN; unset: an embedded server under data_dir/postgres",
    )
    data_dir: Path = Field(default=Path("ccmon-data"), description="embedded data lives here")

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str = Field(
        default="ccmon-ingest", description="fixed: the broker keeps the session across restarts"
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    batch_size: int = Field(default=500, ge=1, description="fixes per micro-batch at most")
    batch_wait_ms: int = Field(default=200, ge=1, description="longest wait to fill a batch")
    registry_refresh_s: float = Field(default=5.0, gt=0, description="reload devices and zones")
    zone_confirm_fixes: int = Field(
        default=2, ge=1, description="consecutive decisive fixes that confirm a zone violation"
    )
    fix_max_future_s: float = Field(default=300.0, ge=0, description="clock skew tolerated")
    fix_max_age_s: float = Field(default=7 * 86400.0, gt=0, description="older fixes rejected")
    fix_max_accuracy_m: float = Field(default=50_000.0, gt=0)

    demo_seed: int = 1
    demo_interval_s: float = Field(default=5.0, gt=0, description="simulated device fix interval")


def load_settings(env_file: Path | None = None) -> Settings:
    return Settings(_env_file=env_file)  # type: ignore[call-arg]
