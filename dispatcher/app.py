"""create_app(settings) -> FastAPI. The lifespan starts the database, adapters and workers."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.base import Adapter, AdapterContext, AdapterRegistry, default_registry
from adapters.ebd_client import EbdClient
from dispatcher.api import alerts as alerts_api
from dispatcher.api import ebd as ebd_api
from dispatcher.api import links as links_api
from dispatcher.api import terminals as terminals_api
from dispatcher.config import ConfigError, LinkConfig, Settings
from dispatcher.console import mount_console
from dispatcher.logging import configure_logging
from dispatcher.metrics import Metrics
from dispatcher.services.acks import AckCollector, writers_for
from dispatcher.services.fanout import Fanout, FanoutConfig
from dispatcher.services.geometry import PackagedRegions
from dispatcher.services.hierarchy import Hierarchy
from dispatcher.services.intake import IntakeContext, warm_up
from dispatcher.services.ratelimit import RateLimiter
from dispatcher.services.uplinks import UplinkService
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import NewAdapter
from signing.signer import Signer, load_signer
from signing.trust import TrustStore
from simulators.drill.schedule import start_scheduled_drills
from terminals.broker import EmbeddedBroker
from terminals.link import TerminalLink

log = logging.getLogger("ebc.app")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Platform:
    settings: Settings
    db: Database
    metrics: Metrics
    intake: IntakeContext
    acks: AckCollector
    fanout: Fanout
    signer: Signer
    uplinks: UplinkService
    adapters: dict[str, Adapter] = field(default_factory=dict)
    hierarchy: Hierarchy | None = None  # set by create_app
    link: TerminalLink | None = None
    broker: EmbeddedBroker | None = None


def load_trust(settings: Settings) -> TrustStore:
    path = settings.trust_store or settings.dir / "trust.json"
    return TrustStore.load(path) if path.exists() else TrustStore()


def platform_signer(settings: Settings) -> Signer:
    """The platform's own key signs its EBD packages and terminal commands."""
    if settings.private_key is None:
        raise ConfigError("private_key: the platform needs its signing key (ebc init makes one)")
    try:
        return load_signer(settings.private_key, settings.cert_sn)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"private_key: cannot load {settings.private_key}: {exc}") from exc


def link_adapter(settings: Settings, link: LinkConfig) -> NewAdapter:
    """A lower platform is planned like any adapter, covering its own jurisdiction."""
    key = Path(link.pubkey)
    pubkey = (
        link.pubkey
        if "BEGIN" in link.pubkey
        else str(key if key.is_absolute() else (settings.dir / key).resolve())
    )
    return NewAdapter(
        ebrid=link.ebrid,
        bearer="platform",
        regions=[link.region.value],
        enabled=True,
        healthy=True,
        config={
            "url": link.url,
            "cert_sn": link.cert_sn,
            "pubkey": pubkey,
            "fallback": link.fallback,
            "own_url": settings.public_url,
            "site": link.name or link.ebrid,
        },
    )


async def start_link(platform: Platform) -> None:
    """The broker link: the configured broker, or an embedded one when none is configured."""
    settings = platform.settings
    url = settings.mqtt_url
    if not url:
        platform.broker = EmbeddedBroker(
            settings.embedded_broker_host, settings.embedded_broker_port
        )
        await platform.broker.start()
        url = platform.broker.url
    platform.link = TerminalLink(
        url,
        client_id=f"ebc-{settings.ebrid}-{settings.instance}",
        on_uplink=platform.uplinks.receive,
        shared=settings.mqtt_shared_subscriptions,
        mqtt5=settings.mqtt5,
    )
    await platform.link.start()


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    registry: AdapterRegistry | None = None,
) -> FastAPI:
    configure_logging()
    metrics = Metrics()
    db = Database(
        settings.database_url,
        busy_timeout_ms=settings.database_busy_timeout_ms,
        connect_timeout=settings.database_connect_timeout,
        checkpoint_interval=settings.database_checkpoint_seconds or None,
    )
    acks = AckCollector(
        db=db,
        clock=clock,
        batch_size=settings.ack_batch_size,
        flush_interval=settings.ack_flush_interval,
        writers=settings.ack_writers or writers_for(db.dialect),
        on_written=metrics.acks.inc,
    )
    intake = IntakeContext(
        db=db,
        trust=load_trust(settings),
        regions=PackagedRegions(),
        limiter=RateLimiter(settings.rate_limit_per_minute, clock=time.monotonic),
        ebrid=settings.ebrid,
        jurisdiction=settings.jurisdiction,
        freshness_seconds=settings.freshness_seconds,
        future_skew_seconds=settings.future_skew_seconds,
        max_body_bytes=settings.max_body_bytes,
        default_duration=dt.timedelta(seconds=settings.default_duration_seconds),
        max_attempts=settings.max_attempts,
        clock=clock,
    )
    adapters_registry = registry or default_registry()
    adapters: dict[str, Adapter] = {}
    fanout = Fanout(
        db=db,
        adapters=adapters,
        clock=clock,
        config=FanoutConfig(
            instance=settings.instance,
            workers=settings.workers,
            lease_seconds=settings.lease_seconds,
            poll_interval=settings.poll_interval,
        ),
    )
    uplinks = UplinkService(
        db=db,
        acks=acks,
        adapters=adapters,
        jurisdiction=settings.jurisdiction,
        clock=clock,
        heartbeat_timeout=settings.heartbeat_timeout_seconds,
    )
    signer = platform_signer(settings)
    hierarchy = Hierarchy(
        settings=settings,
        db=db,
        acks=acks,
        clock=clock,
        client=EbdClient(
            signer=signer, ebrid=settings.ebrid, own_url=settings.public_url, clock=clock
        ),
    )
    platform = Platform(
        settings, db, metrics, intake, acks, fanout, signer, uplinks, adapters, hierarchy
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.start()
        async with db.session() as session:
            for cfg in settings.adapters:
                await repo.upsert_adapter(
                    session,
                    adapter=NewAdapter(
                        ebrid=cfg.ebrid,
                        bearer=cfg.bearer,
                        regions=list(cfg.regions),
                        enabled=cfg.enabled,
                        healthy=True,
                        config=dict(cfg.config),
                    ),
                )
            for link in settings.lowers:
                await repo.upsert_adapter(session, adapter=link_adapter(settings, link))
            rows = await repo.list_adapters(session)
            await session.commit()
        await warm_up(intake)
        await start_link(platform)
        context = AdapterContext(
            acks=acks,
            platform_ebrid=settings.ebrid,
            signer=platform.signer,
            link=platform.link,
            clock=clock,
        )
        for row in rows:
            if row.enabled and row.bearer in adapters_registry.bearers():
                adapter = adapters_registry.create(
                    bearer=row.bearer, ebrid=row.ebrid, config=dict(row.config), context=context
                )
                await adapter.start()
                adapters[row.ebrid] = adapter
        await acks.start()
        await uplinks.start()
        await fanout.start()
        await hierarchy.start()
        drills = await start_scheduled_drills(app, platform, clock)
        # Start-up leaves a large, lasting heap (the region table, the inventory, the ORM):
        # out of the collector's sight, full collections during an ack burst stay short.
        gc.freeze()
        log.info(
            "platform %s started (%s, %d adapters)", settings.ebrid, settings.level, len(adapters)
        )
        try:
            yield
        finally:
            gc.unfreeze()  # what start-up held may be garbage now (tests start many apps)
            if drills is not None:
                await drills.stop()
            await hierarchy.stop()
            await fanout.stop()
            if platform.link is not None:
                await platform.link.stop()
            await uplinks.stop()
            await acks.stop()
            for adapter in adapters.values():
                await adapter.stop()
            if platform.broker is not None:
                await platform.broker.stop()
            await db.stop()

    app = FastAPI(
        title="EBC emergency broadcast control platform", version="0.1.0", lifespan=lifespan
    )
    app.state.platform = platform
    app.include_router(alerts_api.router)
    app.include_router(ebd_api.router)
    app.include_router(links_api.router)
    app.include_router(terminals_api.router)
    mount_console(app, platform)

    @app.middleware("http")
    async def time_intake(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        if request.method == "POST" and request.url.path == "/api/v1/alerts":
            metrics.intake_latency.observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> Response:
        try:
            await db.ping()
        except StoreUnavailable as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "adapters": len(adapters)})

    @app.get("/metrics", tags=["operations"])
    async def prometheus_metrics() -> Response:
        try:
            # a reader: a scrape must not queue for SQLite's write turn behind a fan-out
            async with db.session(readonly=True) as session:
                counts = await repo.task_state_counts(session)
                due = await repo.due_task_count(session, now=clock())
            for state, count in counts.items():
                metrics.tasks.labels(state=state).set(count)
            metrics.queue_depth.set(due)
        except StoreUnavailable:
            pass
        metrics.ack_backlog.set(acks.backlog)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
