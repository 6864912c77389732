"""What every bearer adapter implements, and the registry that finds them.

An adapter turns one task into its bearer's signalling and reports, per target, what happened
(a rich result, never a bare bool). Acks from terminals come back separately, through the
``AckSink`` the platform hands each adapter.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

from signing.signer import Signer


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class TargetOutcome(NamedTuple):
    """A tuple, not a dataclass: a broadcast reports one per terminal of a county, and a
    frozen dataclass took 4 µs each to build."""

    target: str
    outcome: Outcome
    detail: str = ""


class SendReport:
    """What an adapter did with each target of a transmission.

    A broadcast reaches all its targets alike: ``SendReport.all_delivered(targets)`` keeps
    their names without an outcome object each (a city's broadcast has 100,000).
    """

    __slots__ = ("_delivered", "_outcomes")

    def __init__(
        self, outcomes: Sequence[TargetOutcome] = (), *, delivered: Sequence[str] = ()
    ) -> None:
        self._outcomes = tuple(outcomes)
        self._delivered = tuple(delivered)

    @classmethod
    def all_delivered(cls, targets: Sequence[str]) -> SendReport:
        return cls(delivered=targets)

    @property
    def outcomes(self) -> tuple[TargetOutcome, ...]:
        """Every target's outcome (built on demand for the delivered-alike ones)."""
        alike = tuple(TargetOutcome(t, Outcome.DELIVERED) for t in self._delivered)
        return alike + self._outcomes

    @property
    def delivered(self) -> tuple[str, ...]:
        return self._delivered + tuple(
            o.target for o in self._outcomes if o.outcome is Outcome.DELIVERED
        )

    @property
    def not_delivered(self) -> tuple[TargetOutcome, ...]:
        return tuple(o for o in self._outcomes if o.outcome is not Outcome.DELIVERED)

    def __repr__(self) -> str:
        return (
            f"SendReport(delivered={len(self.delivered)}, "
            f"not_delivered={list(self.not_delivered)[:5]})"
        )


@dataclass(frozen=True)
class Transmission:
    """Everything an adapter needs to put one alert on its bearer for one task."""

    alert_id: str
    task_id: str
    ebmid: str
    msg_type: int
    drill: bool
    event_type: str
    severity: int
    texts: tuple[tuple[str, str, str], ...]  # (language, title, description)
    regions: tuple[str, ...]
    targets: tuple[str, ...]
    start: dt.datetime | None
    end: dt.datetime | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AckReport:
    alert_id: str
    target: str
    state: str  # received, verified, playing, played, rejected, failed
    detail: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime | None = None


class AckSink(Protocol):
    async def submit(self, acks: Sequence[AckReport]) -> None: ...


class Publisher(Protocol):
    """The broker link as adapters see it."""

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None: ...


@dataclass
class AdapterContext:
    """What the platform hands every adapter it builds."""

    acks: AckSink
    platform_ebrid: str = ""
    signer: Signer | None = None
    link: Publisher | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


@runtime_checkable
class Adapter(Protocol):
    ebrid: str
    bearer: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, transmission: Transmission) -> SendReport: ...

    async def cancel(self, transmission: Transmission) -> SendReport: ...


AdapterFactory = Callable[[str, dict[str, Any], AdapterContext], Adapter]


class UnknownBearer(ValueError):
    code = "unknown-bearer"


class AdapterRegistry:
    """Bearer name -> factory; the platform builds one adapter per inventory row."""

    def __init__(self) -> None:
        self._factories: dict[str, AdapterFactory] = {}

    def register(self, bearer: str, factory: AdapterFactory) -> None:
        self._factories[bearer] = factory

    def bearers(self) -> list[str]:
        return sorted(self._factories)

    def create(
        self, *, bearer: str, ebrid: str, config: dict[str, Any], context: AdapterContext
    ) -> Adapter:
        try:
            factory = self._factories[bearer]
        except KeyError:
            known = ", ".join(self.bearers()) or "none"
            raise UnknownBearer(f"no adapter for bearer {bearer!r} (known: {known})") from None
        return factory(ebrid, config, context)


#: bearer -> (module, class); a class provides ``factory(ebrid, config, context)``.
BUILTIN_ADAPTERS: dict[str, tuple[str, str]] = {
    "fake": ("adapters.fake", "FakeAdapter"),
    "ip": ("adapters.ip_speaker", "IpSpeakerAdapter"),
    "dtmb": ("adapters.dtmb", "DtmbAdapter"),
    "cable": ("adapters.cable", "CableAdapter"),
    "dth": ("adapters.dth", "DthAdapter"),
    "fm": ("adapters.fm", "FmAdapter"),
    "legacy-ip": ("adapters.legacy_ip", "LegacyIpGateway"),
    "platform": ("adapters.platform_link", "LowerPlatformAdapter"),
}


def adapter_class(bearer: str) -> Any:
    module_name, class_name = BUILTIN_ADAPTERS[bearer]
    return getattr(importlib.import_module(module_name), class_name)


def default_registry() -> AdapterRegistry:
    registry = AdapterRegistry()
    for bearer, (module_name, _) in BUILTIN_ADAPTERS.items():
        try:
            cls = adapter_class(bearer)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a bearer not built yet
        registry.register(bearer, cls.factory)
    return registry
