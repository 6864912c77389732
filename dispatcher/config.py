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
    poll_interval: float = 0.05
    ack_batch_size: int = 1000
    ack_flush_interval: float = 0.05

    adapters: list[AdapterConfig] = Field(default_factory=list)

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
