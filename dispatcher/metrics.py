"""Prometheus metrics, one registry per app so tests and several apps never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts = Counter(
            "ebc_alerts_total",
            "Alerts by intake outcome and error code",
            ["outcome", "code"],
            registry=self.registry,
        )
        self.intake_latency = Histogram(
            "ebc_intake_seconds",
            "Intake latency, request to answer",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.tasks = Gauge("ebc_tasks", "Tasks by state", ["state"], registry=self.registry)
        self.queue_depth = Gauge(
            "ebc_queue_depth", "Tasks due and not yet claimed", registry=self.registry
        )
        self.acks = Counter(
            "ebc_acks_total", "Acks written to the dispatch log", registry=self.registry
        )
        self.ack_backlog = Gauge(
            "ebc_ack_backlog", "Acks waiting to be written", registry=self.registry
        )
