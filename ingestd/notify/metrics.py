"""Prometheus metrics of notification delivery.

Labels are the receiver's name and its integration only, never anything from
an alert or an incident, so the series count stays bounded by the config.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        labels = ("receiver", "integration")
        self.sent = Counter("ingestd_notifications_sent_total",
                            "Notifications delivered.", labels, registry=registry)
        self.failed = Counter("ingestd_notifications_failed_total",
                              "Delivery attempts that failed (each attempt counts).",
                              labels, registry=registry)
        self.dead = Counter("ingestd_notifications_dead_lettered_total",
                            "Notifications given up after their last attempt or a permanent error.",
                            labels, registry=registry)
        self.latency = Histogram(
            "ingestd_notification_delivery_seconds",
            "Time of one delivery attempt.", labels, registry=registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.pending = Gauge("ingestd_outbox_pending",
                             "Notifications claimed by this process and not yet settled.",
                             ("receiver",), registry=registry)
