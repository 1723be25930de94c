"""ingestd's own metrics (Prometheus). No label takes its values from alert content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, Info

if TYPE_CHECKING:
    from ingestd.pipeline.processor import Stats

ALERTS_RECEIVED = Counter(
    "ingestd_alerts_received_total", "Alerts received, by source and status.",
    ["source", "status"])
BODIES_REJECTED = Counter(
    "ingestd_bodies_rejected_total", "Bodies refused, by reason (the error code).", ["reason"])
BODIES_OVERLOADED = Counter(
    "ingestd_bodies_overloaded_total", "Bodies answered 503, by reason.", ["reason"])
DUPLICATES = Counter("ingestd_alerts_duplicate_total", "Re-sent alerts that changed nothing.")
STALE = Counter("ingestd_alerts_stale_total", "Alerts older than what was known (late HA copies).")
EPISODES = Counter("ingestd_episodes_total", "Alert episodes begun.")
UNMAPPED = Counter("ingestd_alerts_unmapped_total", "New episodes whose labels match no CI.")
INCIDENTS_OPENED = Counter(
    "ingestd_incidents_opened_total", "Incidents opened, by priority.", ["priority"])
INCIDENTS_RESOLVED = Counter(
    "ingestd_incidents_resolved_total", "Incidents resolved, by priority.", ["priority"])
INTAKE_LATENCY = Histogram(
    "ingestd_intake_duration_seconds", "Time from body received to answer, by source.",
    ["source"], buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
QUEUE_DEPTH = Gauge("ingestd_intake_queue_depth", "Work items waiting for the committer.")
COMMIT_BATCH = Histogram(
    "ingestd_commit_batch_size", "Work items (bodies, actions) committed in one transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
COMMIT_LATENCY = Histogram(
    "ingestd_commit_duration_seconds", "Time to process and commit one batch.",
    buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
COMMIT_FAILURES = Counter(
    "ingestd_commit_failures_total", "Batches that could not be committed, by reason.", ["reason"])
CONFIG_RELOAD_SUCCESS = Gauge(
    "ingestd_config_last_reload_successful", "1 if the last reload of a config succeeded.",
    ["config"])
CONFIG_RELOAD_TIME = Gauge(
    "ingestd_config_last_reload_success_timestamp_seconds", "Time of the last good reload.",
    ["config"])
CONFIG_HASH = Gauge(
    "ingestd_config_hash", "Hash of the loaded config (first 52 bits of its sha256).", ["config"])
CMDB_CIS = Gauge("ingestd_cmdb_cis", "Configuration items in the loaded CMDB.")
OPEN_INCIDENTS = Gauge("ingestd_incidents_active", "Incidents open or acknowledged in memory.")
TIMERS_FIRED = Counter("ingestd_timers_fired_total", "SLA and escalation timers fired, by kind.",
                       ["kind"])
BUILD = Info("ingestd_build", "Version of ingestd.")


def observe_commit(items: int, seconds: float, stats: Stats) -> None:
    COMMIT_BATCH.observe(items)
    COMMIT_LATENCY.observe(seconds)
    for counter, n in ((DUPLICATES, stats.repeats), (STALE, stats.stale), (EPISODES, stats.new),
                       (UNMAPPED, stats.unmapped)):
        if n:  # (each update takes a lock: none for nothing)
            counter.inc(n)
    for p in stats.opened or ():
        INCIDENTS_OPENED.labels(priority=p).inc()
    for p in stats.closed or ():
        INCIDENTS_RESOLVED.labels(priority=p).inc()
