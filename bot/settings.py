"""Environment → validated settings.

Every problem becomes a SettingsError naming the variable and what to do, in one line. Messages
never include the value: most of these variables are secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///getkey.db"
# glibc's own variable, read by glibc: when set, serve leaves the malloc arenas to it (bot.cli.heap)
MALLOC_ARENA_MAX_SET = bool(os.environ.get("MALLOC_ARENA_MAX"))


class SettingsError(Exception):
    """One bad or missing variable; str() is the line to print. `problems` holds every one found
    (this one first): str() of an error with several lists them all, one per line."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable
        self.problems: list[SettingsError] = [self]

    @classmethod
    def of(cls, problems: list[SettingsError]) -> SettingsError:
        first = problems[0]
        if len(problems) == 1:
            return first
        lines = "\n".join(f"  - {p.line}" for p in problems)
        many = cls(first.variable, "")
        many.args = (f"{len(problems)} settings need attention (environment or .env):\n{lines}",)
        many.problems = problems
        return many

    @property
    def line(self) -> str:
        return f"{self.variable} {self.args[0].removeprefix(self.variable).strip()}"


from bot.settings_help import (  # noqa: E402 - after SettingsError, no cycle
    how_to_fix,
    normalise_database_url,
)

# The Slack credentials: when none is given at all, `getkey serve` runs the local console.
SLACK_CREDENTIALS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                     "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9-]+")


class Settings(BaseSettings):
    """Read from the environment, then from a `.env` file in the working directory."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = Field(default=3000, ge=1, le=65535)
    database_url: str = DEFAULT_DATABASE_URL
    getkey_encryption_keys: SecretStr | None = None
    getkey_rotation_days: int | None = Field(default=None, ge=1)
    getkey_sweep_seconds: int = Field(default=60, ge=5)
    getkey_sweep_workers: int | None = Field(default=None, ge=1, le=64)
    # Threads that run verifications and re-checks (never the acks, which run on the event
    # loop); each platform gets at most half of them, so one slow platform cannot take all.
    getkey_listener_threads: int = Field(default=256, ge=2, le=1024)
    # A verification still unfinished after this long was interrupted by a crash: its person is
    # told to submit again. Far longer than any verification (platform timeouts, queueing).
    getkey_interrupted_after_seconds: int = Field(default=120, ge=1)
    log_level: str = "INFO"
    # Hand-off (issue 12): requests made to someone else, and the tool API.
    getkey_max_open_requests: int = Field(default=10, ge=1, le=1000)
    getkey_request_nudge_days: int = Field(default=2, ge=1)
    getkey_request_expire_days: int = Field(default=7, ge=1)
    getkey_api_rate_per_minute: int = Field(default=120, ge=1)
    # Webhook receivers on premises: private and loopback addresses and plain http allowed.
    getkey_webhook_allow_private: bool = False
    # OAuth install in many workspaces (instead of SLACK_BOT_TOKEN): both or neither.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # How long an uninstalled workspace's credentials are kept (encrypted) for a reinstall.
    getkey_retention_days_after_uninstall: int = Field(default=30, ge=1)
    # Operating (issue 17): log format, /metrics bearer token (off when unset), retention.
    log_format: Literal["text", "json"] | None = None
    getkey_metrics_token: SecretStr | None = None
    getkey_retention_change_days: int = Field(default=30, ge=1)
    getkey_retention_webhook_days: int = Field(default=30, ge=1)
    getkey_retention_outbox_days: int = Field(default=7, ge=1)
    # At least 90: the database itself refuses to delete younger audit rows (migration 0008).
    getkey_retention_audit_days: int = Field(default=400, ge=90)
    # Requests by link (issue 22): the public address links start with, and their lifetime.
    getkey_public_url: str | None = None
    getkey_link_expire_days: int = Field(default=7, ge=1)
    # GETKEY_<PLATFORM>_API_URL overrides and platform app credentials (e.g.
    # GETKEY_LIGHTSPEED_R_CLIENT_ID): open-ended names, so collected by load_settings rather
    # than declared one by one. The only way flows see the environment.
    _platform_env: dict[str, str] = PrivateAttr(default_factory=dict)
    # Where the encryption key came from when it is the file beside the database (bot.keyfile).
    _key_file: str | None = PrivateAttr(default=None)

    @field_validator(
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "getkey_encryption_keys",
        "slack_client_id", "slack_client_secret", "getkey_metrics_token", "log_format",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("getkey_rotation_days", "getkey_sweep_workers", mode="before")
    @classmethod
    def _blank_int_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("getkey_retention_days_after_uninstall", mode="before")
    @classmethod
    def _blank_is_default(cls, value: Any) -> Any:
        return 30 if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if not raw.startswith("xoxb-") or not _TOKEN_SHAPE.fullmatch(raw):
                raise ValueError("is not a bot token (it should start with xoxb-)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if not raw.startswith("xapp-") or not _TOKEN_SHAPE.fullmatch(raw):
                raise ValueError("is not an app-level token (it should start with xapp-)")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9]{16,}", value.get_secret_value()):
            raise ValueError("does not look like a signing secret (letters and digits only)")
        return value

    @field_validator("getkey_metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,}", value.get_secret_value()):
            raise ValueError("is too short or has other characters than letters, digits, - and _")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = (value or "").strip() or DEFAULT_SLACK_API_URL
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("is not an http(s) URL")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("getkey_public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("is not an http(s) address")
        return value

    @field_validator("getkey_link_expire_days", mode="before")
    @classmethod
    def _blank_is_seven(cls, value: Any) -> Any:
        return 7 if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = (value or "").strip() or DEFAULT_DATABASE_URL
        if "://" not in value:
            raise ValueError("is not a database URL")
        return normalise_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = (value or "INFO").strip().upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("is not a log level")
        return value

    # -- derived ------------------------------------------------------------------------
    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth(self) -> bool:
        """Installed by OAuth in any number of workspaces (tokens from the database)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def key_file(self) -> str | None:
        return self._key_file

    @property
    def slack_configured(self) -> bool:
        """Any Slack setting at all: without one, `getkey serve` runs the local console."""
        return any(getattr(self, name.lower()) is not None for name in SLACK_CREDENTIALS)

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""

    @property
    def platform_env(self) -> dict[str, str]:
        return dict(self._platform_env)


def platform_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The GETKEY_<PLATFORM>_… variables flows read (URL overrides, app credentials)."""
    return {
        k.upper(): v
        for k, v in environ.items()
        if k.upper().startswith("GETKEY_") and k.upper().endswith(PLATFORM_SUFFIXES) and v
    }


PLATFORM_SUFFIXES = ("_API_URL", "_CLIENT_ID", "_CLIENT_SECRET")


def _explain(exc: ValidationError) -> list[SettingsError]:
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        variable = str(err["loc"][0]).upper() if err.get("loc") else "a setting"
        msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        if not msg.startswith("is "):
            msg = "is invalid (" + msg[:1].lower() + msg[1:] + ")"
        problems.append(SettingsError(variable, f"{msg}: {how_to_fix(variable) or 'fix it'}."))
    return problems


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    http_mode: bool | None = None,
    require_encryption: bool = True,
    require_slack: bool = True,
    env_file: str | None = ".env",
) -> Settings:
    """Read and check the settings for `serve`.

    `environ` replaces the process environment (tests); `http_mode` None means "decided by
    SLACK_APP_TOKEN". Raises one SettingsError listing every problem found.
    """
    settings, problems = read_settings(environ, env_file=env_file)
    use_key_file(settings)
    if require_slack:
        problems += problems_with(settings, http_mode=http_mode,
                                  require_encryption=require_encryption)
    elif require_encryption:
        problems += key_problems(settings)
    problems = first_per_variable(problems)
    if problems:
        raise SettingsError.of(problems)
    return settings


def read_settings(
    environ: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> tuple[Settings, list[SettingsError]]:
    """The settings, with each malformed variable left at its default, and its problems."""
    problems: list[SettingsError] = []
    dropped: dict[str, Any] = {}
    for _ in range(2):  # the second pass has every failing field replaced by its default
        try:
            if environ is None:
                settings = Settings(_env_file=env_file, **dropped)  # type: ignore[call-arg]
                # Real variables win over the file, as for the declared settings.
                found = {**_dotenv(env_file), **os.environ}
            else:
                # Only the given mapping: no process environment, no .env file.
                settings = _from_mapping({**environ, **dropped})
                found = dict(environ)
            break
        except ValidationError as exc:
            problems = _explain(exc)
            dropped = {p.variable.lower(): Settings.model_fields[p.variable.lower()].default
                       for p in problems if p.variable.lower() in Settings.model_fields}
    else:  # pragma: no cover - defaults always validate
        raise SettingsError.of(problems)
    settings._platform_env = platform_variables(found)
    return settings, problems


def first_per_variable(problems: list[SettingsError]) -> list[SettingsError]:
    seen: dict[str, SettingsError] = {}
    for problem in problems:
        seen.setdefault(problem.variable, problem)
    return list(seen.values())


def use_key_file(settings: Settings, *, create: bool = False) -> str | None:
    """Without GETKEY_ENCRYPTION_KEYS, the key file beside the SQLite database (bot.keyfile)
    is the key: read, or with `create` made once. Returns the file's path when it is used."""
    from bot.keyfile import create_key, key_file_for, read_key

    if settings.getkey_encryption_keys is not None:
        return None
    path = key_file_for(settings.database_url)
    if path is None:
        return None
    key = read_key(path) or (create_key(path) if create else None)
    if key is None:
        return None
    settings.getkey_encryption_keys = SecretStr(key)
    settings._key_file = str(path)
    return str(path)


def load_partial(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings for commands that need no Slack and no key (verify, guide): nothing required."""
    return load_settings(environ, http_mode=False, require_encryption=False, require_slack=False)


def _dotenv(env_file: str | None) -> dict[str, str]:
    if not env_file or not os.path.isfile(env_file):
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(env_file).items() if v is not None}


class _MappingOnly(Settings):
    """Settings from an explicit mapping only: no process environment, no .env file."""

    @classmethod
    def settings_customise_sources(  # type: ignore[override]
        cls, settings_cls: type[BaseSettings], init_settings: Any, **others: Any
    ) -> tuple[Any, ...]:
        return (init_settings,)


def _from_mapping(environ: Mapping[str, Any]) -> Settings:
    values = {k.lower(): v for k, v in environ.items() if k.lower() in Settings.model_fields}
    return _MappingOnly(**values)


def _unset(variable: str) -> SettingsError:
    return SettingsError(variable, f"is not set: {how_to_fix(variable)}.")


def problems_with(
    settings: Settings, *, http_mode: bool | None, require_encryption: bool = True
) -> list[SettingsError]:
    """Every setting `serve` still needs (empty when it can start), each with its fix."""
    problems = []
    for one, other in (("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"),
                       ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")):
        if getattr(settings, one.lower()) is not None and getattr(settings, other.lower()) is None:
            problems.append(_unset(other))
    if settings.slack_bot_token is None and not settings.oauth:
        problems.append(_unset("SLACK_BOT_TOKEN"))
    http = (not settings.socket_mode) if http_mode is None else http_mode
    if (http or settings.oauth) and settings.slack_signing_secret is None:
        problems.append(_unset("SLACK_SIGNING_SECRET"))
    if require_encryption:
        problems += key_problems(settings)
    return problems


def require(settings: Settings, *, http_mode: bool | None, require_encryption: bool) -> None:
    problems = problems_with(settings, http_mode=http_mode, require_encryption=require_encryption)
    if problems:
        raise SettingsError.of(problems)


def key_problems(settings: Settings) -> list[SettingsError]:
    return [_unset("GETKEY_ENCRYPTION_KEYS")] if settings.getkey_encryption_keys is None else []
