"""All settings, read once at start from CCMON_* environment variables (or a .env-style file)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain import DEFAULT_LEVELS, LevelPolicy, SupervisionLevel


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
    mqtt_tls: bool = Field(default=False, description="connect to the broker over TLS")
    mqtt_tls_ca: Path | None = Field(
        default=None, description="the CA file to trust for the broker (unset: the system's)"
    )
    mqtt_share_group: str | None = Field(
        default=None,
        description="MQTT 5 shared subscription group: several ingest processes (each with"
        " its own client id) share the devices' messages",
    )

    mosquitto_auth_dir: Path | None = Field(
        default=None,
        description="keep the broker's password file and ACL here in step with the registry"
        " (as `ccmon mosquitto-auth` writes them), so broker passwords issued in the console"
        " work within seconds; needs mqtt_username and mqtt_password (ingest's account)",
    )
    mosquitto_pid_file: Path | None = Field(
        default=None, description="the broker's pid file: told to reload (SIGHUP) after a write"
    )
    mosquitto_ingest_processes: int = Field(
        default=1, ge=1, description="ingest processes with broker accounts (as --ingest-processes)"
    )
    broker_sync_s: float = Field(default=5.0, gt=0, description="how often to look for changes")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    access_token_ttl_s: float = Field(default=900.0, gt=0, description="a bearer token's life")
    refresh_token_ttl_s: float = Field(
        default=12 * 3600.0, gt=0, description="a session unused this long ends (a shift)"
    )
    session_max_age_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="a session ends this long after signing in, however often refreshed",
    )
    signing_key_rotate_days: float = Field(
        default=30.0, gt=0, description="access tokens are signed with a new key this often"
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="wrong passwords in a row for a name from one address"
    )
    login_lockout_s: float = Field(
        default=900.0,
        gt=0,
        description="the longest a name is held off from one address (and an address after"
        " ten times login_max_failures)",
    )
    api_max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="the largest request body (413 beyond)"
    )

    batch_size: int = Field(
        default=200, ge=1, description="messages a micro-batch waits for (a backlog: 4x at once)"
    )
    batch_wait_ms: int = Field(default=200, ge=1, description="longest wait to fill a batch")
    batch_idle_ms: int = Field(
        default=10, ge=1, description="a batch closes when no message came for this long"
    )
    registry_refresh_s: float = Field(default=5.0, gt=0, description="reload devices and zones")
    levels: dict[SupervisionLevel, LevelPolicy] = Field(
        default_factory=lambda: dict(DEFAULT_LEVELS),
        description="per-level reporting intervals, grace and confirmation (all three levels)",
    )
    escalate_after_s: float = Field(
        default=600.0, gt=0, description="a critical alert still open this long is escalated"
    )
    rules_tick_s: float = Field(
        default=1.0, gt=0, description="how often the clock rules (silence, curfew start) run"
    )
    fix_max_future_s: float = Field(default=300.0, ge=0, description="clock skew tolerated")
    fix_max_age_s: float = Field(default=7 * 86400.0, gt=0, description="older fixes rejected")
    fix_max_accuracy_m: float = Field(default=50_000.0, gt=0)
    message_max_bytes: int = Field(
        default=256 * 1024, ge=1024, description="larger device messages go to quarantine"
    )
    message_max_items: int = Field(default=2000, ge=1, description="fixes in one batch message")
    message_max_depth: int = Field(default=8, ge=2, description="JSON nesting of one message")
    backlog_max_s: float = Field(
        default=300.0,
        gt=0,
        description="reading a backlog holds the silence rule at most this long",
    )

    console_tiles_url: str | None = Field(
        default=None, description="the console's basemap tiles ({z}/{x}/{y}); unset: none"
    )
    console_tiles_attribution: str = ""
    console_tiles_crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84", description="gcj02 for a Chinese provider's shifted tiles"
    )
    console_stale_after_s: float = Field(
        default=900.0, gt=0, description="the console greys positions older than this"
    )

    retention_days: float = Field(
        default=180.0,
        gt=0,
        description="an order's fixes are deleted this long after it ends (alerts and audit"
        " trails are kept)",
    )
    retention_check_s: float = Field(default=3600.0, gt=0, description="how often to look")

    stays_check_s: float = Field(
        default=60.0, gt=0, description="how often the stay points job looks at new fixes"
    )
    stay_radius_m: float = Field(default=100.0, gt=0, description="a stay is within this")
    stay_min_s: float = Field(default=600.0, gt=0, description="a stay lasts at least this")
    stay_away_fixes: int = Field(
        default=2, ge=1, description="fixes in a row away from a place that end a stay"
    )
    stay_max_gap_s: float = Field(
        default=3600.0, gt=0, description="a silence this long ends a stay at the fix before"
    )

    suspect_max_speed_mps: float = Field(
        default=120.0, gt=0, description="faster between two fixes (accuracies allowed) is a jump"
    )
    suspect_confirm_s: float = Field(
        default=300.0, gt=0, description="a jump counts once the new place held this long"
    )
    suspect_max_accuracy_m: float = Field(
        default=200.0, gt=0, description="poorer fixes prove no jump and no stillness"
    )
    suspect_clock_drift_s: float = Field(
        default=300.0, gt=0, description="a later-numbered fix timed further back: clock set back"
    )
    suspect_perfect_s: float = Field(
        default=7200.0,
        gt=0,
        description="GNSS fixes with the very same coordinates, or accuracy, this long: faked",
    )
    suspect_still_s: float = Field(
        default=1800.0,
        gt=0,
        description="one device claiming GNSS still this long while the other went away",
    )
    suspect_still_m: float = Field(
        default=30.0, gt=0, description="still: within this (beyond accuracies) of one place"
    )
    suspect_apart_m: float = Field(
        default=500.0, gt=0, description="away: the other device this far beyond accuracies"
    )

    webhook_timeout_s: float = Field(default=5.0, gt=0, description="per delivery attempt")
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="networks inside (e.g. 10.20.0.0/16, a case system on the intranet) that"
        " webhooks may reach; loopback, private, link-local and the like are refused otherwise",
    )
    delivery_concurrency: int = Field(default=64, ge=1, description="deliveries in flight")
    delivery_per_subscription: int = Field(
        default=6, ge=1, description="in flight to one receiver, so a slow one blocks no other"
    )
    delivery_retry_base_s: float = Field(default=1.0, gt=0)
    delivery_retry_max_s: float = Field(default=300.0, gt=0)
    delivery_max_age_s: float = Field(
        default=86400.0, gt=0, description="retry this long, then a dead letter"
    )
    sms_gateway_url: str | None = Field(default=None, description="unset: no text messages")
    sms_gateway_method: str = "POST"
    sms_gateway_headers: dict[str, str] = Field(default_factory=dict)
    sms_gateway_body: str = Field(
        default='{"to": "{phone}", "text": "{message}"}',
        description="JSON (values inserted escaped) or form data (URL-encoded)",
    )
    sms_language: Literal["zh", "en"] = "zh"
    sms_per_phone: int = Field(default=5, ge=1, description="texts to one number per window")
    sms_window_s: float = Field(default=600.0, gt=0)

    report_timezone: str = Field(
        default="Asia/Shanghai", description="where a daily report's day begins and ends"
    )

    demo_seed: int = 1
    demo_interval_s: float = Field(default=5.0, gt=0, description="simulated device fix interval")

    @field_validator("levels")
    @classmethod
    def _every_level_positive(
        cls, levels: dict[SupervisionLevel, LevelPolicy]
    ) -> dict[SupervisionLevel, LevelPolicy]:
        missing = set(SupervisionLevel) - levels.keys()
        if missing:
            raise ValueError(f"levels must define {sorted(missing)} too")
        for level, policy in levels.items():
            for f in fields(policy):
                if getattr(policy, f.name) <= 0:
                    raise ValueError(f"levels.{level}.{f.name} must be > 0")
            if max(policy.night_starts_h, policy.night_ends_h) > 24:
                raise ValueError(f"levels.{level}: the night's hours are 0-24 after midnight")
            if policy.night_starts_h % 24 == policy.night_ends_h % 24:
                raise ValueError(f"levels.{level}: the night must end at another hour")
        return levels


def load_settings(env_file: Path | None = None) -> Settings:
    return Settings(_env_file=env_file)  # type: ignore[call-arg]
