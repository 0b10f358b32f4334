"""One typed Settings object, read from `DATAPOLIS_*` environment variables (and `.env`).

Every field carries help text; `datapolis settings` prints the table and a test checks that
docs/settings.md lists every field. Outside dev mode the app refuses the default secret key.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datapolis.errors import ConfigError

ENV_PREFIX = "DATAPOLIS_"
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 (refused in prod)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="forbid", validate_default=True
    )

    env: Literal["dev", "test", "prod"] = Field(
        "dev", description="Run mode: `dev`, `test` or `prod`. Only `dev` accepts the built-in "
        "secret key and plain-HTTP cookies."
    )
    home: Path = Field(
        Path("var"), description="Directory for generated state: registry, warehouse, demo data."
    )
    database_url: str = Field(
        "",
        repr=False,  # may hold a password; keep it out of logs
        description="Registry database URL (SQLAlchemy). Empty means the SQLite file "
        "`<home>/registry.sqlite`; use postgresql+psycopg2://... in production.",
    )
    warehouse_path: Path | None = Field(
        None, description="DuckDB warehouse file. Empty means `<home>/warehouse.duckdb`."
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        repr=False,
        description="Key for signing and CSRF tokens. Must be set (32+ chars) outside dev.",
    )
    host: str = Field("127.0.0.1", description="Address `datapolis serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `datapolis serve` listens on.")
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="Lifetime of a web login session, in hours."
    )
    token_days: int = Field(
        30, ge=1, le=365, description="Lifetime of an API bearer token, in days."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed sign-ins in a row, for one username or app key, after which that "
        "name is refused for `login_lockout_minutes` (its password is not even checked).",
    )
    login_lockout_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="Minutes in which failed sign-ins are counted, and for which a locked "
        "username, app key or client address is refused.",
    )
    login_max_failures_per_ip: int = Field(
        50,
        ge=0,
        description="Failed sign-ins from one client address, for any names, within "
        "`login_lockout_minutes` before that address is refused; 0 means no limit. Behind a "
        "reverse proxy every client has the proxy's address.",
    )
    secure_cookies: bool | None = Field(
        None,
        description="Send session cookies with the Secure flag. Empty means on outside dev "
        "(serve behind HTTPS there).",
    )
    default_locale: Literal["zh_Hans_CN", "en"] = Field(
        "zh_Hans_CN", description="UI language when the user has not chosen one."
    )
    lineage_sink: str = Field(
        "", description="Where OpenLineage run events of sync jobs go: empty (nowhere), "
        "file:PATH (JSON lines) or the http(s) URL of an OpenLineage endpoint."
    )
    scheduler: bool = Field(
        True, description="Run scheduled sync jobs inside `datapolis serve` (off: run them with "
        "`datapolis sync run` from cron or another scheduler)."
    )
    portal_base_url: str = Field(
        "", description="Public address of the open-data portal (e.g. "
        "https://data.example.gov.cn), the base of its stable DCAT IRIs and of the links in "
        "CKAN API answers. Empty means the address each request came to."
    )
    portal_api_calls_per_minute: int = Field(
        60, ge=1, le=100_000, description="Open-API calls one key may make per minute; more "
        "are answered 429 with Retry-After."
    )
    portal_posts_per_hour: int = Field(
        5, ge=1, le=10_000, description="Public data requests and error reports one address "
        "may file per hour (a rate limit instead of a captcha)."
    )
    share_page_rows: int = Field(
        1000, ge=1, le=100_000, description="Most records one filtered-query page of a sharing "
        "interface returns (`limit` may ask for fewer)."
    )
    share_batch_keys: int = Field(
        1000, ge=1, le=100_000, description="Most keys one batch lookup "
        "(`POST /share/v1/{resource}/records:batch`) may ask for."
    )
    sharing_bureau_review: bool = Field(
        True, description="Applications for conditionally shared (有条件共享) resources go to "
        "the bureau after the provider approves them; off: the provider's approval grants."
    )
    share_token_minutes: int = Field(
        120, ge=1, le=24 * 60, description="Lifetime of a bearer token from "
        "`POST /share/oauth/token`, in minutes."
    )
    share_bench_bare: bool = Field(
        False, description="Benchmarks only: serve `/share/bench/...`, the same key lookup "
        "with no signature, grant, de-identification or metering. Never turn on in production."
    )
    sharing_monitor_seconds: int = Field(
        60, ge=0, description="Seconds between runs of the sharing monitor in `datapolis serve` "
        "(hourly call rollup and alert evaluation); 0 turns it off."
    )
    sharing_spike_factor: float = Field(
        3.0, gt=1, description="A caller's calls in the last hour above this many times its "
        "hourly median over the past 7 days (hours it called at all) raise a spike alert."
    )
    sharing_spike_min_calls: int = Field(
        100, ge=1, description="Calls in the last hour below which no spike alert is raised, "
        "whatever the caller's baseline."
    )
    sharing_working_hours: str = Field(
        "08:00-18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$",
        description="Working hours (Asia/Shanghai, Monday to Friday); bulk pulls outside them "
        "raise an off-hours alert."
    )
    sharing_bulk_rows: int = Field(
        10_000, ge=1, description="Rows in one call from which it counts as a bulk pull (bulk "
        "deliveries always do)."
    )
    demo_people: int = Field(
        20_000, ge=100, description="Number of persons `make run` builds into the demo city."
    )
    demo_seed: int = Field(20240601, description="Random seed of the demo city (deterministic).")

    @field_validator("secret_key")
    @classmethod
    def _secret_key_long_enough(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @property
    def registry_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'registry.sqlite'}"

    @property
    def warehouse_file(self) -> Path:
        return self.warehouse_path or self.home / "warehouse.duckdb"

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def cookies_secure(self) -> bool:
        return self.env != "dev" if self.secure_cookies is None else self.secure_cookies

    def check_secure(self) -> None:
        """Refuse to start outside dev mode with the built-in secret key."""
        if self.env != "dev" and self.secret_key == DEV_SECRET_KEY:
            raise ConfigError(
                f"DATAPOLIS_SECRET_KEY is the built-in development key, refused in "
                f"{self.env} mode; set a random secret of 32+ characters "
                f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )


def unknown_environment_settings() -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning every problem into one clear ConfigError."""
    unknown = unknown_environment_settings()
    if unknown:
        raise ConfigError(
            f"unknown setting {', '.join(unknown)}; see `datapolis settings` for the known ones"
        )
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"invalid setting {name}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
