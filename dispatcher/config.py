"""One Settings object, built once in create_app()/the CLI and passed down.

Sources, strongest first: explicit keyword arguments, ``EBC_*`` environment variables, the
platform directory's ``platform.json`` (written by ``ebc init``), then defaults. Nothing reads
the environment at import time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.errors import CodeError

Level = Literal["national", "provincial", "municipal", "county"]

LEVEL_DIGIT = {"national": 1, "provincial": 2, "municipal": 3, "county": 4}
PLATFORM_FILE = "platform.json"


class ConfigError(ValueError):
    """Configuration refused at start-up; the message names the setting."""

    code = "invalid-configuration"


class AdapterConfig(BaseSettings):
    ebrid: str
    bearer: str
    regions: list[str]
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class LinkConfig(BaseSettings):
    """A peer platform: the upper one we report to, or a lower one we forward to.

    ``fallback`` lower links (越级) are used only for areas whose regular lower platform has
    gone silent: e.g. a national platform's direct links to the counties of a province.
    """

    role: Literal["upper", "lower"]
    url: str
    ebrid: str
    cert_sn: str
    pubkey: str
    name: str = ""
    fallback: bool = False

    @field_validator("ebrid")
    @classmethod
    def _link_ebrid(cls, value: str) -> str:
        try:
            return ResourceCode(value).value
        except CodeError as exc:
            raise ValueError(f"links.ebrid: {exc}") from exc

    @property
    def region(self) -> RegionCode:
        return ResourceCode(self.ebrid).region


class DrillSchedule(BaseSettings):
    """A required test run as a drill (simulators/drill/schedule.py, docs/drills.md)."""

    name: str
    every: Literal["weekly", "monthly"]
    weekday: int = Field(0, ge=0, le=6)  # weekly: 0 = Monday
    day: int = Field(1, ge=1, le=28)  # monthly
    at: str = Field("10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # local time
    area: list[str] = Field(default_factory=list)  # default: the whole jurisdiction
    min_coverage: float = Field(0.9, ge=0, le=1)
    wait_seconds: float = Field(300.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EBC_", extra="ignore")

    dir: Path
    level: Level = "county"
    region: str
    ebrid: str
    name: str = "EBC platform"
    cert_sn: str
    private_key: Path | None = None
    public_key: Path | None = None
    trust_store: Path | None = None
    database_url: str = ""
    database_busy_timeout_ms: int = 5000
    database_connect_timeout: float = 5.0
    # SQLite: checkpoint the WAL in the background this often; 0 leaves it to SQLite's commits
    database_checkpoint_seconds: float = Field(default=1.0, ge=0, le=60)
    mqtt_url: str | None = None
    mqtt_shared_subscriptions: bool = False
    mqtt5: bool = False
    embedded_broker_host: str = "127.0.0.1"
    embedded_broker_port: int = 18830
    heartbeat_timeout_seconds: float = 90.0
    command_freshness_seconds: int = 300
    dev_mode: bool = False
    dev_keys: bool = False
    instance: str = "main"

    max_body_bytes: int = 1024 * 1024
    max_package_bytes: int = 64 * 1024 * 1024
    freshness_seconds: int = 300
    future_skew_seconds: int = 60
    rate_limit_per_minute: int = 600
    default_duration_seconds: int = 3600
    max_attempts: int = 5
    lease_seconds: float = 15.0
    workers: int = 4
    # accepted alerts wake the fan-out at once; polling finds retries and other instances'
    poll_interval: float = 0.2
    ack_batch_size: int = 1000
    ack_flush_interval: float = 0.02
    # concurrent ack batches; 0: two on PostgreSQL, one on SQLite (a single write turn)
    ack_writers: int = Field(default=0, ge=0, le=8)

    adapters: list[AdapterConfig] = Field(default_factory=list)
    links: list[LinkConfig] = Field(default_factory=list)
    link_heartbeat_seconds: float = 30.0
    link_missed_beats: int = 3
    link_report_interval: float = 2.0
    link_resource_report_seconds: float = 300.0
    public_url: str | None = None
    address: str = ""
    contact: str = ""
    phone: str = ""
    longitude: float | None = None
    latitude: float | None = None

    # Operator console (/console, docs/console.md).
    console_session_idle_seconds: int = Field(900, ge=1)
    console_session_max_seconds: int = Field(12 * 3600, ge=1)
    console_lockout_attempts: int = Field(5, ge=1)
    console_lockout_seconds: int = Field(900, ge=1)
    console_secure_cookies: bool = False
    console_sse_interval: float = Field(1.0, gt=0)
    console_sse_max_seconds: float = Field(300.0, gt=0)
    # Template key -> EventType, for deployments whose code table differs from the defaults.
    console_event_types: dict[str, str] = Field(default_factory=dict)

    # Scheduled drills (weekly/monthly required tests), in local time at this UTC offset.
    drill_schedules: list[DrillSchedule] = Field(default_factory=list)
    drill_utc_offset_hours: float = Field(8.0, ge=-12, le=14)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        try:
            return RegionCode.parse(value).value
        except CodeError as exc:
            raise ValueError(f"region: {exc}") from exc

    @field_validator("ebrid")
    @classmethod
    def _ebrid(cls, value: str) -> str:
        try:
            return ResourceCode(value).value
        except CodeError as exc:
            raise ValueError(f"ebrid: {exc}") from exc

    @field_validator("cert_sn")
    @classmethod
    def _cert_sn(cls, value: str) -> str:
        try:
            return CertSN(value).value
        except CodeError as exc:
            raise ValueError(f"cert_sn: {exc}") from exc

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if ResourceCode(self.ebrid).region.value != self.region:
            raise ValueError(
                f"ebrid {self.ebrid} carries region {self.ebrid[1:13]}, "
                f"not the platform's {self.region}"
            )
        if self.dev_keys and not self.dev_mode:
            raise ValueError(
                "dev_keys: this platform uses development keys; set EBC_DEV_MODE=1 "
                "to run with them, or generate real keys"
            )
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.dir / 'ebc.db').resolve()}"
        for name in ("private_key", "public_key", "trust_store"):
            path = getattr(self, name)
            if path is not None and not path.is_absolute():
                setattr(self, name, (self.dir / path).resolve())
        return self

    @property
    def lowers(self) -> list[LinkConfig]:
        return [link for link in self.links if link.role == "lower"]

    @property
    def jurisdiction(self) -> RegionCode:
        return RegionCode(self.region)


def load_settings(directory: Path | str, **overrides: Any) -> Settings:
    """Read ``DIR/platform.json`` and the environment; fail fast naming the bad setting."""
    root = Path(directory)
    path = root / PLATFORM_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path} not found: create a platform with `ebc init --dir {root}`"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    data.update(overrides)
    data["dir"] = root
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid configuration in {path} or EBC_* variables: {problems}"
        ) from exc
