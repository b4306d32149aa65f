"""Settings: every environment variable the service reads lives here and nowhere else."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What sits between the app and PostgreSQL: `transaction` for a transaction-mode pooler
# (PgBouncer, Neon's `-pooler` host), which cannot keep prepared statements.
POOLER_MODES = ("transaction", "session", "none")


class ConfigError(Exception):
    """A bad environment variable. The message is one line and names the variable."""


def _var(name: str) -> Any:
    return Field(validation_alias=name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    database_url: Annotated[str | None, _var("DATABASE_URL")] = None
    database_pooler: Annotated[str | None, _var("DATABASE_POOLER")] = None
    database_pool_size: Annotated[int, _var("DATABASE_POOL_SIZE"), Field(ge=1, le=1000)] = 32
    data_dir: Annotated[Path, _var("TIMETRACK_DATA_DIR")] = Path(".timetrack")
    base_url: Annotated[str, _var("TIMETRACK_BASE_URL")] = "http://127.0.0.1:8000"
    secret_key: Annotated[SecretStr | None, _var("TIMETRACK_SECRET_KEY")] = None
    default_timezone: Annotated[str, _var("TIMETRACK_DEFAULT_TIMEZONE")] = "Australia/Sydney"
    stale_hours: Annotated[float, _var("TIMETRACK_STALE_HOURS"), Field(gt=0, le=24 * 365)] = 24
    # How often `timetrack serve` runs scheduled work itself; 0 leaves it to a cron.
    tick_seconds: Annotated[float, _var("TIMETRACK_TICK_SECONDS"), Field(ge=0, le=24 * 3600)] = 60
    environment: Annotated[str, _var("TIMETRACK_ENV")] = "development"
    # Behind a proxy that replaces X-Forwarded-For (Vercel does), its first hop is the client.
    trusted_proxy: Annotated[bool, _var("TIMETRACK_TRUSTED_PROXY")] = False
    on_vercel: Annotated[bool, _var("VERCEL")] = False

    discord_public_key: Annotated[str | None, _var("DISCORD_PUBLIC_KEY")] = None
    discord_application_id: Annotated[str | None, _var("DISCORD_APPLICATION_ID")] = None
    discord_bot_token: Annotated[SecretStr | None, _var("DISCORD_BOT_TOKEN")] = None
    discord_api_base: Annotated[str, _var("DISCORD_API_BASE")] = "https://discord.com/api/v10"

    github_webhook_secret: Annotated[SecretStr | None, _var("GITHUB_WEBHOOK_SECRET")] = None
    github_token: Annotated[SecretStr | None, _var("GITHUB_TOKEN")] = None
    github_client_id: Annotated[str | None, _var("GITHUB_CLIENT_ID")] = None
    github_client_secret: Annotated[SecretStr | None, _var("GITHUB_CLIENT_SECRET")] = None
    github_api_base: Annotated[str, _var("GITHUB_API_BASE")] = "https://api.github.com"
    github_oauth_base: Annotated[str, _var("GITHUB_OAUTH_BASE")] = "https://github.com"
    github_project_start_status: Annotated[str, _var("GITHUB_PROJECT_START_STATUS")] = "In Progress"
    github_project_done_status: Annotated[str, _var("GITHUB_PROJECT_DONE_STATUS")] = "Done"

    cron_secret: Annotated[SecretStr | None, _var("CRON_SECRET")] = None

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from app import timezones  # deferred: settings load before anything else
        from app.errors import InvalidInput

        try:
            return timezones.validate(value)
        except InvalidInput as error:
            raise ValueError(error.detail) from None

    @field_validator("tick_seconds")
    @classmethod
    def _tick_interval(cls, value: float) -> float:
        # Every tick reads the database: more often than once a second only costs.
        if 0 < value < 1:
            raise ValueError("must be 0 (off) or at least 1 second")
        return value

    @field_validator("discord_public_key")
    @classmethod
    def _hex_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise ValueError("must be hex") from None
        if len(raw) != 32:
            raise ValueError("must be 32 bytes (64 hex characters)")
        return value.lower()

    @field_validator("base_url", "discord_api_base", "github_api_base", "github_oauth_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_pooler")
    @classmethod
    def _pooler(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if value not in POOLER_MODES:
            raise ValueError(f"must be one of {', '.join(POOLER_MODES)}")
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"development", "test", "production"}:
            raise ValueError("must be development, test or production")
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production" or self.on_vercel

    @property
    def github_oauth_configured(self) -> bool:
        """Linking GitHub through OAuth needs both halves of the OAuth app."""
        return bool(self.github_client_id) and self.github_client_secret is not None

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def signing_key(self) -> str:
        """The cookie and state signing key; generated once per data dir for local use."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.is_production:
            raise ConfigError("TIMETRACK_SECRET_KEY: required in production")
        path = self.data_dir.resolve() / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL makes the first of two racing processes the author; the other reads it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def check_production(self) -> None:
        """Refuse to run in production without the settings that make it safe."""
        if not self.is_production:
            return
        missing = [
            name
            for name, value in (
                ("TIMETRACK_SECRET_KEY", self.secret_key),
                ("DATABASE_URL", self.database_url),
            )
            if value is None
        ]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)}: required when TIMETRACK_ENV=production or on Vercel"
            )


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
