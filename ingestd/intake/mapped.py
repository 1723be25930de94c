"""Any JSON source, through a field mapping declared in YAML.

A mapping says where, in a source's body, the alerts are and where each alert's
labels, status, times and identity come from::

    name: grafana                 # served at POST /api/v1/alerts/grafana
    alerts: alerts                # path of the list of alerts; omit: the body is one alert
    labels: labels                # path of a map of labels (optional)
    label_fields:                 # labels taken from single fields (path per label)
      instance: host.name
    static_labels: {source: grafana}
    annotations: annotations      # path of a map (optional)
    annotation_fields: {summary: title}
    status: status                # path; its value is looked up in the two lists below
    firing_values: [firing, alerting]
    resolved_values: [resolved, ok]
    starts_at: startsAt
    ends_at: endsAt               # optional
    time_format: rfc3339          # rfc3339 | unix | unix_ms | a strptime format
    timezone: UTC                 # for strptime formats without a zone
    identity: [labels]            # what makes two arrivals the same alert: "labels"
                                  # (Alertmanager's fingerprint of the labels) or field paths

Paths are dotted (``a.b.c``) with list indexes (``items[0].name``). A body that does
not fit its mapping is refused with the path that failed, like an Alertmanager body.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import yaml

from ingestd.domain import Alert, AlertStatus, frozen_labels
from ingestd.intake.alertmanager import DEFAULT_LIMITS, _string_map, parse_time
from ingestd.intake.errors import BodyTooLarge, IntakeError
from ingestd.intake.fingerprint import fingerprint
from ingestd.intake.limits import IntakeLimits

SHIPPED = Path(__file__).with_name("sources")

_KEYS = {"name", "alerts", "labels", "label_fields", "static_labels", "annotations",
         "annotation_fields", "status", "firing_values", "resolved_values", "starts_at",
         "ends_at", "time_format", "timezone", "identity", "description"}


class MappingError(ValueError):
    """A mapping file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class SourceMapping:
    name: str
    starts_at: str
    alerts: str | None = None
    labels: str | None = None
    label_fields: dict[str, str] = field(default_factory=dict)
    static_labels: dict[str, str] = field(default_factory=dict)
    annotations: str | None = None
    annotation_fields: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    firing_values: tuple[str, ...] = ("firing",)
    resolved_values: tuple[str, ...] = ("resolved",)
    ends_at: str | None = None
    time_format: str = "rfc3339"
    timezone: str = "UTC"
    identity: tuple[str, ...] = ("labels",)

    def parse(self, raw: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> list[Alert]:
        if len(raw) > limits.max_body_bytes:
            raise BodyTooLarge("body_too_large",
                               f"body is {len(raw)} bytes, the limit is {limits.max_body_bytes}")
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise IntakeError("invalid_json", f"body is not valid JSON: {e}") from None
        if not isinstance(doc, dict):
            raise IntakeError("not_an_object", "body must be a JSON object")
        if self.alerts:
            items = lookup(doc, self.alerts)
            if not isinstance(items, list):
                raise IntakeError("bad_alerts", f"{self.alerts!r} must be a list", self.alerts)
            if len(items) > limits.max_alerts:
                raise IntakeError("too_many_alerts", f"{len(items)} alerts in one body, the"
                                  f" limit is {limits.max_alerts}", self.alerts)
            return [self._alert(a, f"{self.alerts}[{i}]", limits) for i, a in enumerate(items)]
        return [self._alert(doc, "", limits)]

    def _alert(self, a: Any, where: str, limits: IntakeLimits) -> Alert:
        def at(path: str) -> str:
            return f"{where}.{path}" if where else path

        if not isinstance(a, dict):
            raise IntakeError("bad_alert", "an alert must be an object", where)
        labels: dict[str, str] = dict(self.static_labels)
        if self.labels:
            found = lookup(a, self.labels)
            if found is not None:
                labels.update(_string_map(found, at(self.labels), limits, limits.max_label_value))
        for name, path in self.label_fields.items():
            value = lookup(a, path)
            if value is not None:
                labels[name] = _text(value, at(path), limits.max_label_value)
        if not labels:
            raise IntakeError("bad_labels", "the mapping found no labels in this alert", where)
        annotations: dict[str, str] = {}
        if self.annotations:
            found = lookup(a, self.annotations)
            if found is not None:
                annotations.update(_string_map(found, at(self.annotations), limits,
                                               limits.max_annotation_value))
        for name, path in self.annotation_fields.items():
            value = lookup(a, path)
            if value is not None:
                annotations[name] = _text(value, at(path), limits.max_annotation_value)
        status = AlertStatus.FIRING
        if self.status:
            raw_status = str(lookup(a, self.status) or "").lower()
            if raw_status in self.resolved_values:
                status = AlertStatus.RESOLVED
            elif raw_status not in self.firing_values:
                raise IntakeError("bad_status", f"status {raw_status!r} is neither of"
                                  f" {list(self.firing_values)} nor {list(self.resolved_values)}",
                                  at(self.status))
        starts_at = self._time(lookup(a, self.starts_at), at(self.starts_at))
        ends_at = None
        if status is AlertStatus.RESOLVED:
            ends_at = starts_at
            if self.ends_at:
                raw_end = lookup(a, self.ends_at)
                if raw_end not in (None, "", "0001-01-01T00:00:00Z"):
                    ends_at = self._time(raw_end, at(self.ends_at))
        return Alert(self._identity(a, labels), status, frozen_labels(labels),
                     frozen_labels(annotations), starts_at, ends_at, "", self.name)

    def _identity(self, a: dict[str, Any], labels: dict[str, str]) -> str:
        if self.identity == ("labels",):
            return fingerprint(labels)
        parts = [str(lookup(a, p)) for p in self.identity]
        digest = hashlib.blake2b("\xff".join([self.name, *parts]).encode(), digest_size=8)
        return digest.hexdigest()

    def _time(self, value: Any, path: str) -> datetime:
        if value is None:
            raise IntakeError("bad_time", "missing time", path)
        if self.time_format == "rfc3339":
            return parse_time(value, path)
        try:
            if self.time_format in ("unix", "unix_ms"):
                seconds = float(value) / (1000 if self.time_format == "unix_ms" else 1)
                return datetime.fromtimestamp(seconds, UTC)
            parsed = datetime.strptime(str(value), self.time_format)
        except (ValueError, TypeError, OverflowError):
            raise IntakeError("bad_time", f"{str(value)[:64]!r} does not match"
                              f" {self.time_format!r}", path) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(self.timezone))
        return parsed.astimezone(UTC)


def lookup(doc: Any, path: str) -> Any:
    """``a.b[0].c`` in nested maps and lists; None where any step is missing."""
    cur = doc
    for part in path.replace("]", "").split("."):
        name, _, index = part.partition("[")
        if name:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(name)
        if index:
            if not isinstance(cur, list):
                return None
            try:
                cur = cur[int(index)]
            except (ValueError, IndexError):
                return None
    return cur


def _text(value: Any, path: str, limit: int) -> str:
    if isinstance(value, dict | list):
        raise IntakeError("bad_labels", "expected a single value, got a map or list", path)
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if len(text) > limit:
        raise IntakeError("label_value_too_long", f"value is {len(text)} characters, the"
                          f" limit is {limit}", path)
    return text


def parse_mapping(doc: Any, source: str) -> SourceMapping:
    if not isinstance(doc, dict):
        raise MappingError(f"{source}: expected a map")
    unknown = set(doc) - _KEYS
    if unknown:
        raise MappingError(f"{source}: unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
    for key in ("name", "starts_at"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise MappingError(f"{source}: '{key}' is required")
    name = doc["name"]
    if not name.replace("-", "").replace("_", "").isalnum() or name == "alertmanager":
        raise MappingError(f"{source}: name {name!r} must be letters, digits, - and _"
                           " (and not 'alertmanager')")
    for key in ("label_fields", "static_labels", "annotation_fields"):
        value = doc.get(key, {})
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise MappingError(f"{source}: '{key}' must be a map of strings")
    if not doc.get("labels") and not doc.get("label_fields") and not doc.get("static_labels"):
        raise MappingError(f"{source}: give 'labels', 'label_fields' or 'static_labels'")
    try:
        ZoneInfo(doc.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{source}: unknown timezone {doc.get('timezone')!r}") from None
    identity = doc.get("identity", ["labels"])
    if isinstance(identity, str):
        identity = [identity]
    return SourceMapping(
        name=name, starts_at=doc["starts_at"], alerts=doc.get("alerts"),
        labels=doc.get("labels"), label_fields=dict(doc.get("label_fields", {})),
        static_labels=dict(doc.get("static_labels", {})), annotations=doc.get("annotations"),
        annotation_fields=dict(doc.get("annotation_fields", {})), status=doc.get("status"),
        firing_values=tuple(str(v).lower() for v in doc.get("firing_values", ["firing"])),
        resolved_values=tuple(str(v).lower() for v in doc.get("resolved_values", ["resolved"])),
        ends_at=doc.get("ends_at"), time_format=doc.get("time_format", "rfc3339"),
        timezone=doc.get("timezone", "UTC"), identity=tuple(identity),
    )


def load_mappings(directory: str | Path | None) -> dict[str, SourceMapping]:
    """The shipped mappings, overridden and extended by ``*.yaml`` files in ``directory``."""
    out: dict[str, SourceMapping] = {}
    dirs = [SHIPPED] + ([Path(directory)] if directory and Path(directory).is_dir() else [])
    for d in dirs:
        for path in sorted(d.glob("*.yaml")):
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as e:
                raise MappingError(f"{path}: {e}") from None
            m = parse_mapping(doc, str(path))
            out[m.name] = m
    return out
