"""The bounded service numbers as Prometheus gauges (labels: priority, age bucket, target)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge

from ingestd.domain import Priority

OPEN_BY_AGE = Gauge(
    "ingestd_report_open_incidents", "Incidents open or acknowledged, by priority and age bucket.",
    ["priority", "age"])
SLA_COMPLIANCE = Gauge(
    "ingestd_report_sla_compliance_ratio",
    "Share of decided SLA targets met over the report window, by priority and target"
    " (acknowledge, resolve); NaN when none is decided.", ["priority", "target"])
RESPONSE_TIME = Gauge(
    "ingestd_report_response_seconds",
    "Time to acknowledge or resolve over the report window, by priority, measure"
    " (acknowledge, resolve) and quantile (0.5, 0.9); NaN without samples.",
    ["priority", "measure", "quantile"])
REPEAT_RATIO = Gauge("ingestd_report_repeat_incident_ratio",
                     "Share of incidents in the report window that repeat a recent fault.")
COMPRESSION = Gauge("ingestd_report_alerts_per_incident",
                    "Alert episodes per incident over the report window.")


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def publish(report: dict[str, Any]) -> None:
    """Set the gauges from a report of :func:`ingestd.reports.figures.build_report`."""
    for row in report["open_by_age"]:
        for p in Priority:
            OPEN_BY_AGE.labels(priority=p.value, age=row["age"]).set(row[p.value])
    rows = {r["priority"]: r for r in report["by_priority"]}
    for p in Priority:
        row = rows.get(p.value)
        for target in ("acknowledge", "resolve"):
            SLA_COMPLIANCE.labels(priority=p.value, target=target).set(
                _num(row["sla"][target]["compliance"]) if row else float("nan"))
            key = "time_to_acknowledge" if target == "acknowledge" else "time_to_resolve"
            for q, field in (("0.5", "median_seconds"), ("0.9", "p90_seconds")):
                RESPONSE_TIME.labels(priority=p.value, measure=target, quantile=q).set(
                    _num(row[key][field]) if row else float("nan"))
    REPEAT_RATIO.set(_num(report["repeat"]["rate"]))
    COMPRESSION.set(_num(report["compression"]["ratio"]))
