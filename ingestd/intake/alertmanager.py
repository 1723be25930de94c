"""Parse Alertmanager's webhook body (``"version": "4"``) into domain alerts.

A pure function from bytes to :class:`~ingestd.domain.Alert`; every way a
body can be wrong raises :class:`IntakeError` naming the place (``path``),
e.g. ``alerts[3].labels.instance``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import orjson

from ingestd.domain import EMPTY_LABELS, Alert, AlertStatus, Labels
from ingestd.intake.errors import BodyTooLarge, IntakeError
from ingestd.intake.fingerprint import fingerprint
from ingestd.intake.limits import IntakeLimits

SOURCE = "alertmanager"
_ZERO_TIME = "0001-01-01T00:00:00Z"
_STATUSES = {"firing": AlertStatus.FIRING, "resolved": AlertStatus.RESOLVED}


def parse_time(value: object, path: str) -> datetime:
    """RFC 3339 with a time zone. Go prints up to 9 fractional digits; ``fromisoformat``
    (Python 3.11+) keeps the first 6, as ingestd stores times to the microsecond."""
    if not isinstance(value, str):
        raise IntakeError("bad_time", f"expected an RFC 3339 time string, got {_kind(value)}", path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise IntakeError("bad_time", f"not an RFC 3339 time: {value[:64]!r}", path) from None
    if parsed.tzinfo is None:
        raise IntakeError("bad_time", f"time without a zone: {value[:64]!r}", path)
    if not _EARLIEST <= parsed < _LATEST:  # beyond these, UTC arithmetic overflows
        raise IntakeError("bad_time", f"time outside 1970..2999: {value[:64]!r}", path)
    return parsed


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)


DEFAULT_LIMITS = IntakeLimits()


def parse_body(raw: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> list[Alert]:
    if len(raw) > limits.max_body_bytes:
        raise BodyTooLarge(
            "body_too_large", f"body is {len(raw)} bytes, the limit is {limits.max_body_bytes}"
        )
    alerts = _bodies.get(raw, limits)
    if alerts is None:
        alerts = _parse(raw, limits)
        _bodies.put(raw, limits, alerts)
    return alerts


def _parse(raw: bytes, limits: IntakeLimits) -> list[Alert]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise IntakeError("invalid_json", f"body is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise IntakeError("not_an_object", f"body must be a JSON object, got {_kind(doc)}")
    version = doc.get("version")
    if version != "4":
        raise IntakeError(
            "unsupported_version",
            f'expected Alertmanager webhook "version": "4", got {version!r}',
            "version",
        )
    alerts = doc.get("alerts")
    if alerts is None:
        raise IntakeError("missing_alerts", "the body has no 'alerts' list", "alerts")
    if not isinstance(alerts, list):
        raise IntakeError("bad_alerts", f"'alerts' must be a list, got {_kind(alerts)}", "alerts")
    if len(alerts) > limits.max_alerts:
        raise IntakeError(
            "too_many_alerts",
            f"{len(alerts)} alerts in one body, the limit is {limits.max_alerts}",
            "alerts",
        )
    out: list[Alert] = []
    for i, a in enumerate(alerts):
        alert = _resent(a, limits)
        if alert is None:
            try:
                alert = _remember(a, _alert(a, limits), limits)
            except IntakeError as e:  # _alert names places within the alert
                raise e.within(f"alerts[{i}]") from None
        out.append(alert)
    return out


# -- re-sends --------------------------------------------------------------------------
# Alertmanager re-sends whole groups every group_interval, so most bodies arrive exactly
# as they came before, byte for byte, and most alerts of the others too.
#
# A body seen before gets its parse back: the alerts are immutable and the parse a pure
# function of the bytes (and the limits). Looking a 12 KB body up costs ~2 µs; parsing
# it ~30. Bounded by the bytes held: the least recently seen bodies go first.
#
# In a body that changed, the last parse of each (fingerprint, startsAt) is kept with the
# object it was parsed from; an alert equal to that object (one comparison, in C) gets the
# same Alert back without being validated again. Bounded: the oldest entries go first.

class _Bodies:
    """Bodies seen before and their parse, least recently seen first, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self._parsed: OrderedDict[bytes, tuple[IntakeLimits, tuple[Alert, ...]]] = OrderedDict()

    def get(self, raw: bytes, limits: IntakeLimits) -> list[Alert] | None:
        hit = self._parsed.get(raw)
        if hit is None or not (hit[0] is limits or hit[0] == limits):
            return None
        self._parsed.move_to_end(raw)
        return list(hit[1])

    def put(self, raw: bytes, limits: IntakeLimits, alerts: list[Alert]) -> None:
        if len(raw) > self.max_bytes // 16:  # a rare giant body would push out many others
            return
        old = self._parsed.pop(raw, None)
        if old is not None:
            self.held -= len(raw)
        self._parsed[raw] = (limits, tuple(alerts))
        self.held += len(raw)
        while self.held > self.max_bytes:
            gone, _ = self._parsed.popitem(last=False)
            self.held -= len(gone)


_bodies = _Bodies(16 * 1024 * 1024)

_RESENT_MAX = 50_000
_resent_cache: OrderedDict[tuple[str, str], tuple[Alert, dict[str, Any], IntakeLimits]] = (
    OrderedDict())
"""Oldest first. An OrderedDict drops its oldest entry in constant time; a plain dict, which
leaves a hole at the front for each one dropped, takes ever longer to find it."""


def _resent(a: Any, limits: IntakeLimits) -> Alert | None:
    if type(a) is not dict:
        return None
    fp, starts = a.get("fingerprint"), a.get("startsAt")
    if type(fp) is not str or type(starts) is not str:
        return None
    hit = _resent_cache.get((fp, starts))
    if hit is not None and hit[1] == a and (hit[2] is limits or hit[2] == limits):
        return hit[0]
    return None


def _remember(a: dict[str, Any], alert: Alert, limits: IntakeLimits) -> Alert:
    """Keep ``a`` (nothing changes it: the Alert's labels are its maps, read-only)."""
    fp, starts = a.get("fingerprint"), a.get("startsAt")
    if type(fp) is str and type(starts) is str and fp:
        key = (fp, starts)
        cache = _resent_cache
        cache[key] = (alert, a, limits)
        cache.move_to_end(key)
        if len(cache) > _RESENT_MAX:
            cache.popitem(last=False)
    return alert


def _alert(a: Any, limits: IntakeLimits) -> Alert:
    """One alert of the body; the paths of its errors start within it (``labels.x``)."""
    if not isinstance(a, dict):
        raise IntakeError("bad_alert", f"an alert must be an object, got {_kind(a)}")
    labels = _string_map(a.get("labels"), "labels", limits, limits.max_label_value)
    if not labels:
        raise IntakeError("bad_labels", "an alert needs at least one label", "labels")
    annotations = _string_map(
        a.get("annotations") or {}, "annotations", limits, limits.max_annotation_value
    )
    raw_status = a.get("status", "firing")
    status = _STATUSES.get(raw_status) if isinstance(raw_status, str) else None
    if status is None:
        raise IntakeError(
            "bad_status", f"status must be 'firing' or 'resolved', got {raw_status!r:.64}",
            "status",
        )
    starts_at = parse_time(a.get("startsAt"), "startsAt")
    ends_raw = a.get("endsAt")
    ends_at = None
    if ends_raw not in (None, "", _ZERO_TIME):
        ends_at = parse_time(ends_raw, "endsAt")
    if status is AlertStatus.FIRING:
        ends_at = None
    fp = a.get("fingerprint")
    if fp is None or fp == "":
        fp = fingerprint(labels)
    elif not isinstance(fp, str) or len(fp) > 64:
        raise IntakeError("bad_fingerprint", "fingerprint must be a short string", "fingerprint")
    gen = a.get("generatorURL") or ""
    if not isinstance(gen, str):
        raise IntakeError("bad_generator_url", "generatorURL must be a string", "generatorURL")
    # positional: a frozen dataclass takes them in a third less time than by keyword
    return Alert(fp, status, _frozen(labels), _frozen(annotations), starts_at, ends_at,
                 gen[:2048], SOURCE)


def _frozen(m: dict[str, str]) -> Labels:
    """A read-only view of a map parsed from the body. Nothing else holds the map (the parsed
    body is dropped once read), so unlike :func:`~ingestd.domain.frozen_labels` no copy."""
    return MappingProxyType(m) if m else EMPTY_LABELS


def _string_map(m: Any, path: str, limits: IntakeLimits, max_value: int) -> dict[str, str]:
    if not isinstance(m, dict):
        raise IntakeError("bad_labels", f"expected a map of strings, got {_kind(m)}", path)
    if len(m) > limits.max_labels:
        raise IntakeError("too_many_labels", f"{len(m)} entries, the limit is {limits.max_labels}", path)
    max_name = limits.max_label_name
    for k, v in m.items():  # one test for all the rules; _refuse_entry tells which one failed
        if (type(v) is not str or len(v) > max_value or len(k) > max_name
                or "\x00" in v or "\x00" in k):
            _refuse_entry(k, v, path, limits, max_value)
    return m


def _refuse_entry(k: str, v: Any, path: str, limits: IntakeLimits, max_value: int) -> None:
    """Raise for the first rule an entry of a string map breaks (none: a subclass of str)."""
    if len(k) > limits.max_label_name:
        raise IntakeError(
            "label_name_too_long", f"name is {len(k)} characters, the limit is {limits.max_label_name}",
            f"{path}.{k[:64]}",
        )
    if not isinstance(v, str):
        raise IntakeError("bad_labels", f"value must be a string, got {_kind(v)}", f"{path}.{k}")
    if len(v) > max_value:
        raise IntakeError(
            "label_value_too_long", f"value is {len(v)} characters, the limit is {max_value}",
            f"{path}.{k}",
        )
    if "\x00" in v or "\x00" in k:
        raise IntakeError("bad_labels", "NUL character in a label", f"{path}.{k[:64]}")


def _kind(v: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "a number", float: "a number"}.get(type(v), type(v).__name__)
