"""The drill scenario: a YAML document validated into typed settings, with errors that name
the key and the file, so an organiser can fix a scenario without reading code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from protocols.codes import RegionCode, RegionLevel
from protocols.errors import CodeError

DEFAULT_TERMINALS = 10_000
# Well under the 20,000 open files a process may hold here: each terminal is one socket.
MAX_PER_PROCESS = 15_000
# One Mosquitto process is held to the same 20,000 open files: a drill with more MQTT sessions
# than this runs on `bridged` brokers, a root for the platform and leaves of at most
# `per_broker` terminals each, bridged to it along the county's townships.
MAX_PER_BROKER = 15_000
DEFAULT_PER_BROKER = 12_500
MIN_PER_BROKER = 10
MAX_LEAVES = 32  # each leaf is a Mosquitto and at least one fleet process
MQTT_RECEIVERS = ("dtmb", "cable", "dth", "fm")  # legacy loudspeakers dial the gateway
BEARERS = ("ip", "dtmb", "cable", "dth", "fm", "legacy-ip")
RECEIVER_BEARERS = BEARERS[1:]
# Broadcast receivers and legacy loudspeakers run in the drill's own process, one task (and one
# MQTT or TCP session) each: a few hundred per bearer is a realistic county, 1,000 the limit.
MAX_RECEIVERS = 1000


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _region(value: str) -> str:
    try:
        return RegionCode.parse(str(value)).value
    except CodeError as exc:
        raise ValueError(str(exc)) from exc


class PlatformSpec(_Model):
    dir: Path = Path("var/drill")
    region: str = "341523000000"
    # mosquitto | bridged | embedded | mqtt://HOST:PORT of a running broker
    broker: str = "mosquitto"
    per_broker: int | None = Field(default=None, ge=MIN_PER_BROKER, le=MAX_PER_BROKER)
    database_url: str | None = None

    @field_validator("region")
    @classmethod
    def _county(cls, value: str) -> str:
        code = RegionCode(_region(value))
        if code.level is not RegionLevel.COUNTY:
            raise ValueError(f"{code.value} is a {code.level.name.lower()} code; drills run "
                             "on a county platform")
        return code.value

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        if value in ("mosquitto", "bridged", "embedded"):
            return value
        if value.startswith("mqtt://127.0.0.1:") or value.startswith("mqtt://localhost:"):
            return value
        raise ValueError("must be mosquitto, bridged, embedded or mqtt://127.0.0.1:PORT "
                         "(loopback only)")

    @model_validator(mode="after")
    def _per_broker(self) -> PlatformSpec:
        if self.per_broker is not None and self.broker != "bridged":
            raise ValueError("per_broker: only with broker: bridged (terminals per leaf broker)")
        return self

    def broker_capacity(self) -> int:
        """Terminals per leaf broker when bridged."""
        return self.per_broker or DEFAULT_PER_BROKER


class FleetSpec(_Model):
    ip: int | None = Field(default=None, ge=0)
    townships: dict[str, int] = Field(default_factory=dict)
    bearers: dict[str, int] = Field(default_factory=dict)
    heartbeat_seconds: int = Field(default=60, ge=5)
    play_seconds: float = Field(default=5.0, ge=0)
    processes: int = Field(default=0, ge=0)

    @field_validator("townships")
    @classmethod
    def _townships(cls, value: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for code, count in value.items():
            region = RegionCode(_region(code))
            if region.level is not RegionLevel.TOWNSHIP:
                raise ValueError(f"{code} is not a township code (9 significant digits)")
            if not 0 < int(count) <= 999:
                raise ValueError(f"{code}: count must be 1-999, got {count}")
            out[region.value] = int(count)
        return out

    @field_validator("bearers")
    @classmethod
    def _bearers(cls, value: dict[str, int]) -> dict[str, int]:
        for bearer, count in value.items():
            if bearer not in BEARERS:
                raise ValueError(f"bearer {bearer!r} is unknown; drills simulate "
                                 f"{', '.join(BEARERS)}")
            if count < 0:
                raise ValueError(f"bearer {bearer!r}: the count cannot be negative, got {count}")
            if bearer != "ip" and count > MAX_RECEIVERS:
                raise ValueError(
                    f"bearer {bearer!r}: at most {MAX_RECEIVERS} receivers per bearer (they run "
                    f"in the drill's own process), got {count}")
        return value

    @model_validator(mode="after")
    def _ip_once(self) -> FleetSpec:
        given = [name for name, there in (("fleet.ip", self.ip is not None),
                                           ("fleet.townships", bool(self.townships)),
                                           ("fleet.bearers.ip", "ip" in self.bearers)) if there]
        if len(given) > 1:
            raise ValueError(f"the IP terminals are given twice ({' and '.join(given)}); "
                             "give one of them")
        return self

    def ip_count(self) -> int:
        if self.townships:
            return sum(self.townships.values())
        if self.ip is not None:
            return self.ip
        return self.bearers.get("ip", DEFAULT_TERMINALS)

    def receivers(self) -> dict[str, int]:
        """Broadcast receivers and legacy loudspeakers by bearer (those with a count)."""
        return {b: n for b, n in self.bearers.items() if b != "ip" and n}


class AckDelay(_Model):
    distribution: Literal["none", "fixed", "uniform", "exponential", "lognormal"] = "none"
    mean: float = Field(default=0.0, ge=0)
    min: float = Field(default=0.0, ge=0)
    max: float = Field(default=5.0, ge=0)


class Flapping(_Model):
    share: float = Field(default=0.0, ge=0, le=1)
    down_seconds: float = Field(default=2.0, gt=0)
    up_seconds: float = Field(default=5.0, gt=0)


class ClockSkew(_Model):
    share: float = Field(default=0.0, ge=0, le=1)
    seconds: int = 600


class BrokerRestart(_Model):
    at: float = Field(ge=0)


class Faults(_Model):
    offline: float = Field(default=0.0, ge=0, le=1)
    ack_delay: AckDelay = AckDelay()
    flapping: Flapping = Flapping()
    clock_skew: ClockSkew = ClockSkew()
    forged_commands: int = Field(default=0, ge=0, le=100)
    tampered_commands: int = Field(default=0, ge=0, le=100)
    replayed_commands: int = Field(default=0, ge=0, le=100)
    broker_restart: BrokerRestart | None = None

    @property
    def injects(self) -> bool:
        return bool(self.forged_commands or self.tampered_commands or self.replayed_commands)


class AlertSpec(_Model):
    at: float = Field(default=0.0, ge=0)
    area: list[str] = Field(default_factory=list)
    event: str = "11B03"
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"] = "Severe"
    headline: str = "【演练】应急广播演练"
    description: str = "这是一次应急广播演练，请勿惊慌。"

    @field_validator("area")
    @classmethod
    def _area(cls, value: list[str]) -> list[str]:
        return [_region(v) for v in value]


class Limits(_Model):
    connect_seconds: float = Field(default=300.0, gt=0, le=3600)
    settle_seconds: float = Field(default=30.0, gt=0, le=3600)


class PassCriteria(_Model):
    coverage: float = Field(default=0.95, ge=0, le=1)
    p99_seconds: float | None = Field(default=None, gt=0)


class Scenario(_Model):
    name: str = "drill"
    seed: int = 1
    platform: PlatformSpec = PlatformSpec()
    fleet: FleetSpec = FleetSpec()
    faults: Faults = Faults()
    alerts: list[AlertSpec] = Field(default_factory=lambda: [AlertSpec()], min_length=1)
    limits: Limits = Limits()
    passing: PassCriteria = Field(default=PassCriteria(), alias="pass")

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        count = self.fleet.ip_count() + sum(self.fleet.receivers().values())
        if count < 1:
            raise ValueError("fleet: at least one terminal is needed")
        if (self.faults.broker_restart is not None
                and self.platform.broker not in ("mosquitto", "bridged")):
            raise ValueError("faults.broker_restart: needs platform.broker: mosquitto or "
                             "bridged (the drill can only restart a broker it started)")
        self._fits_brokers()
        county = RegionCode(self.platform.region)
        for code in [*self.fleet.townships, *(a for x in self.alerts for a in x.area)]:
            if not county.contains(RegionCode(code)):
                raise ValueError(f"region {code} is outside the platform's county {county.value}")
        return self

    def _fits_brokers(self) -> None:
        broker = self.platform.broker
        ip = self.fleet.ip_count()
        if broker in ("mosquitto", "embedded"):
            sessions = ip + sum(n for b, n in self.fleet.receivers().items()
                                if b in MQTT_RECEIVERS)
            if sessions > MAX_PER_BROKER:
                raise ValueError(
                    f"platform.broker: {broker} is one broker process, which holds at most "
                    f"{MAX_PER_BROKER:,} MQTT sessions here (20,000 open files per process); "
                    f"this fleet has {sessions:,}: use broker: bridged (a root broker for the "
                    f"platform and leaf brokers bridged to it along the townships, "
                    f"platform.per_broker terminals each, default {DEFAULT_PER_BROKER:,})")
        if broker == "bridged":
            per = self.platform.broker_capacity()
            if -(-ip // per) > MAX_LEAVES:
                raise ValueError(
                    f"platform.per_broker: {per} terminals per leaf broker needs at least "
                    f"{-(-ip // per)} leaf brokers for {ip:,} IP terminals; at most "
                    f"{MAX_LEAVES}: raise platform.per_broker")

    def terminals(self) -> int:
        """IP terminals: the fleet processes hold these (receivers are in fleet.receivers())."""
        return self.fleet.ip_count()

    def processes(self) -> int:
        """Fleet processes: as asked, else one per 5,000 terminals (one core's worth)."""
        wanted = self.fleet.processes or -(-self.terminals() // 5000)
        return max(wanted, -(-self.terminals() // MAX_PER_PROCESS))


def parse_scenario(data: Any, *, source: str = "scenario", base: Path | None = None) -> Scenario:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the document must be a mapping of keys, "
                            f"got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {_message(err)}"
            for err in exc.errors()
        ]
        raise ScenarioError(f"{source}: " + "; ".join(problems)) from None
    if base is not None and not scenario.platform.dir.is_absolute():
        platform = scenario.platform.model_copy(update={"dir": base / scenario.platform.dir})
        scenario = scenario.model_copy(update={"platform": platform})
    return scenario


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (a typo?)"
    return str(err["msg"]).removeprefix("Value error, ")


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; a relative platform dir is taken from the file's
    directory, so a scenario and its platform can travel together."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{where}: not valid YAML: {problem}") from None
    return parse_scenario(data, source=str(path), base=path.parent.resolve())
