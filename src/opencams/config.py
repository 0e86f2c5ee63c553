"""Settings from OPENCAMS_* environment variables (pydantic-settings); built by callers, never at import."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .ratelimit.rate import Rate

_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_DATABASES = ("sqlite", "postgresql", "postgres")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "opencams"


class Settings(BaseSettings):
    """Every knob of a deployment; the README's configuration reference is generated from it."""

    model_config = SettingsConfigDict(env_prefix="OPENCAMS_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory for the embedded SQLite database and the generated secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (postgresql+asyncpg://...); SQLite in data_dir when unset.",
    )
    db_pool_size: int = Field(default=10, ge=1, description="Connection pool size per process (PostgreSQL).")
    auto_migrate: bool | None = Field(
        default=None,
        description="Run migrations when the server starts; default on for SQLite, off otherwise.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Deployment key that encrypts stored secrets; generated into data_dir when unset.",
    )
    graph_url: str = Field(default="https://graph.facebook.com", description="Base URL of Meta's Graph API.")
    graph_version: str = Field(default="v23.0", pattern=r"^v[0-9]+\.[0-9]+$", description="Graph API version.")
    graph_token: SecretStr | None = Field(
        default=None, description="System-user token for Meta, used for spaces without their own token."
    )
    meta_app_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,32}$",
        description="The Meta app's id, for uploads through Meta's resumable upload API (profile pictures).",
    )
    graph_max_answer_bytes: int = Field(
        default=4 << 20, ge=1024, description="Largest answer accepted from Meta, in bytes; larger ones are refused."
    )
    graph_max_depth: int = Field(
        default=32, ge=4, le=500, description="Deepest JSON nesting accepted in an answer from Meta."
    )
    graph_max_numbers: int = Field(
        default=10_000, ge=1, description="Most phone numbers accepted for one WABA in a sync."
    )
    graph_connect_timeout: float = Field(default=3.0, gt=0, description="Seconds to connect to Meta.")
    graph_read_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for one Meta answer.")
    sync_deadline: float = Field(
        default=10.0, gt=0, description="Total seconds one sync may spend on Meta, retries included."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL shared by all processes for rate limits and nonces; without it limits are per process and nonces live in the database.",
    )
    rate_limits: str = Field(
        default="",
        description="Per-action rate limit overrides, e.g. 'ChatappSyncPhoneNumber=10/s,Other=5/s'.",
    )
    rate_limit_on_redis_failure: Literal["reject", "local"] = Field(
        default="reject",
        description="When Redis is unreachable: 'reject' answers ServiceUnavailable, 'local' limits per process "
        "(and keeps signature nonces in the database, so a Redis outage never lets a request be replayed).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs whose X-Forwarded-For is believed for acs:SourceIp.",
    )
    outbound_allow_private: bool = Field(
        default=False,
        description="Let callbacks and downloads reach loopback and private addresses (development only); "
        "link-local and metadata addresses stay refused.",
    )
    request_read_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a client has to send a whole request; slower ones are disconnected."
    )
    shutdown_timeout: float = Field(
        default=10.0, ge=0, description="Seconds a stopping server waits for calls in progress before closing them."
    )
    log_level: str = Field(default="INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as one JSON object per line (for a log index)."
    )

    # Every value is checked here, so a mistake is one line when the process starts, never a
    # traceback in a worker or an error at the first call.

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = urlsplit(value).scheme.lower()
        if not scheme or "://" not in value:
            raise ValueError("must be a URL like postgresql://user:password@host/db or sqlite:///path/opencams.db")
        if scheme.split("+")[0] not in _DATABASES:
            raise ValueError(f"{scheme} is not supported: use PostgreSQL (postgresql://...) or SQLite (sqlite:///...)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme.lower() not in _REDIS_SCHEMES:
            raise ValueError("must be a URL like redis://host:6379/0 (or rediss://, unix://)")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _rates(cls, value: str) -> str:
        for entry in filter(None, (e.strip() for e in value.split(","))):
            action, sep, rate = entry.partition("=")
            if not sep or not action.strip():
                raise ValueError(f"entry {entry!r} must look like Action=10/s")
            Rate.parse(rate.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for entry in filter(None, (e.strip() for e in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or CIDR") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in _LEVELS:
            raise ValueError(f"must be one of {', '.join(_LEVELS)}")
        return value.upper()

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'opencams.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else self.is_sqlite


def reference_markdown() -> str:
    """The configuration reference table for the README, generated so it cannot drift."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "`~/.local/share/opencams`" if name == "data_dir" else "(computed)"
        elif field.default is None:
            default = "unset"
        else:
            default = f"`{field.default}`" if field.default != "" else "empty"
        lines.append(f"| `OPENCAMS_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(lines) + "\n"
