"""Load and validate ``receivers.yaml`` completely, before anything runs.

Every problem is reported at once, each as ``file:line: what is wrong``;
unknown keys are errors; secrets are resolved (``KEY: {env: NAME}``,
``KEY: {file: PATH}`` or ``KEY_file: PATH``); templates are compiled and
trial-rendered. Code that runs later trusts what this module built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingestd.notify.errors import ReceiversConfigError
from ingestd.notify.options import SCHEMAS, Key, TLSOptions
from ingestd.notify.templates import TemplateSet, compile_templates
from ingestd.yamlconf import YList, YMap, load_yaml

TYPES = tuple(SCHEMAS)
COMMON_KEYS = ("name", "type", "templates", "rate_limit", "concurrency", "max_attempts", "timeout")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"^(\d+)\s*/\s*(s|m|h)$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` deliveries per ``per`` seconds (a token bucket of ``count``)."""

    count: int
    per: float


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    name: str
    type: str
    options: Any
    templates: TemplateSet
    where: str
    rate_limit: RateLimit | None = None
    concurrency: int = 4
    max_attempts: int = 8
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ReceiversConfig:
    receivers: Mapping[str, ReceiverConfig]
    source: str

    def names(self) -> list[str]:
        return sorted(self.receivers)


def parse_duration(text: str) -> float:
    """``"90s"``, ``"5m"``, ``"24h"``, ``"7d"`` -> seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration (like 30s, 5m, 24h, 7d)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def load_receivers(path: str | Path, env: Mapping[str, str] | None = None) -> ReceiversConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ReceiversConfigError([f"{p}: cannot read: {e.strerror}"]) from e
    return parse_receivers(text, str(p), env)


def parse_receivers(
    text: str, source: str = "<receivers>", env: Mapping[str, str] | None = None
) -> ReceiversConfig:
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as e:
        raise ReceiversConfigError([f"{source}: {e}"]) from e
    if doc is None:
        doc = YMap()
        doc.key_lines = {}
    v = _Validator(source, os.environ if env is None else env)
    if not isinstance(doc, YMap):
        raise ReceiversConfigError([f"{source}:1: expected a map with a list under 'receivers'"])
    for k in doc:
        if k != "receivers":
            v.err(doc.line_of(k), f"unknown key {k!r} (known: receivers)")
    items = doc.get("receivers") or []
    if not isinstance(items, YList):
        v.err(doc.line_of("receivers"), "'receivers' must be a list")
        items = YList()
        items.item_lines = []
    out: dict[str, ReceiverConfig] = {}
    for idx, item in enumerate(items):
        rc = v.receiver(item, items.item_lines[idx])
        if rc is None:
            continue
        if rc.name in out:
            v.err(items.item_lines[idx], f"receiver {rc.name!r} defined twice "
                  f"(first at {out[rc.name].where})")
            continue
        out[rc.name] = rc
    if v.problems:
        raise ReceiversConfigError(v.problems)
    return ReceiversConfig(out, source)


class _Validator:
    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env
        self.problems: list[str] = []
        self.base = Path(source).parent

    def err(self, line: int, msg: str) -> None:
        self.problems.append(f"{self.source}:{line}: {msg}")

    def receiver(self, item: Any, line: int) -> ReceiverConfig | None:
        if not isinstance(item, YMap):
            self.err(line, "a receiver must be a map with at least 'name' and 'type'")
            return None
        before = len(self.problems)
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.err(item.line_of("name"), "receiver needs a 'name' of letters, digits, '_', '.', '-'")
            name = "?"
        rtype = str(item.get("type"))
        if rtype not in SCHEMAS:
            self.err(item.line_of("type"), f"receiver {name!r}: 'type' must be one of "
                     f"{', '.join(TYPES)} (got {item.get('type')!r})")
            return None
        cls, schema = SCHEMAS[rtype]
        values: dict[str, Any] = {}
        for key in item:
            if key in COMMON_KEYS:
                continue
            base = key[:-5] if key.endswith("_file") else key
            spec = schema.get(base)
            if spec is None or (base != key and spec.kind != "secret"):
                known = sorted([*COMMON_KEYS, *schema])
                self.err(item.line_of(key), f"receiver {name!r}: unknown key {key!r} for type "
                         f"{rtype} (known: {', '.join(known)})")
                continue
            if base != key:
                if base in item:
                    self.err(item.line_of(key), f"receiver {name!r}: give {base!r} or {key!r}, not both")
                    continue
                val = self.secret({"file": item[key]}, item.line_of(key), name, key)
            else:
                val = self.value(spec, item[key], item.line_of(key), name, key)
            if val is not None:
                values[spec.attr or base] = val
        for key, spec in schema.items():
            if spec.required and key not in item and f"{key}_file" not in item:
                self.err(item.line, f"receiver {name!r}: missing required key {key!r} for type {rtype}")
        if rtype == "jira" and not (values.get("bearer_token") or
                                    (values.get("username") and values.get("api_token"))):
            self.err(item.line, f"receiver {name!r}: jira needs 'username' + 'api_token' "
                     "(Cloud) or 'bearer_token' (Server/Data Center)")
        common = self.common(item, name)
        templates = self.templates(item, name, rtype)
        if len(self.problems) > before or templates is None:
            return None
        return ReceiverConfig(
            name=name, type=rtype, options=cls(**values), templates=templates,
            where=f"{self.source}:{item.line}", **common,
        )

    def common(self, item: YMap, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("concurrency", "max_attempts"):
            if key in item:
                val = item[key]
                if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                    self.err(item.line_of(key), f"receiver {name!r}: {key!r} must be a whole number >= 1")
                else:
                    out[key] = val
        if "timeout" in item:
            try:
                out["timeout"] = parse_duration(str(item["timeout"]))
            except ValueError as e:
                self.err(item.line_of("timeout"), f"receiver {name!r}: timeout: {e}")
        if "rate_limit" in item:
            m = _RATE.match(str(item["rate_limit"]).strip())
            if not m or int(m.group(1)) < 1:
                self.err(item.line_of("rate_limit"), f"receiver {name!r}: rate_limit must look "
                         "like 30/m (count per s, m or h)")
            else:
                out["rate_limit"] = RateLimit(int(m.group(1)), _UNITS[m.group(2)])
        return out

    def templates(self, item: YMap, name: str, rtype: str) -> TemplateSet | None:
        raw = item.get("templates") or {}
        line = item.line_of("templates")
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            self.err(line, f"receiver {name!r}: 'templates' must map a part name to a template string")
            return None
        try:
            return compile_templates(rtype, raw)
        except ValueError as e:
            self.err(line, f"receiver {name!r}: {e}")
            return None

    def value(self, spec: Key, raw: Any, line: int, name: str, key: str) -> Any:
        where = f"receiver {name!r}: {key!r}"
        kind = spec.kind
        if kind == "secret":
            return self.secret(raw, line, name, key)
        if kind in ("str", "url", "smarthost") or kind.startswith("choice:"):
            if not isinstance(raw, str | int) or isinstance(raw, bool) or str(raw) == "":
                self.err(line, f"{where} must be a non-empty string")
                return None
            s = str(raw)
            if kind == "url" and not re.match(r"^https?://[^/\s]+", s):
                self.err(line, f"{where} must be an http:// or https:// URL (got {s!r})")
                return None
            if kind == "smarthost" and not re.match(r"^.+:\d+$", s):
                self.err(line, f"{where} must be host:port (got {s!r})")
                return None
            if kind.startswith("choice:") and s not in kind[7:].split(","):
                self.err(line, f"{where} must be one of {kind[7:].replace(',', ', ')} (got {s!r})")
                return None
            return s
        if kind == "strlist":
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
                self.err(line, f"{where} must be a non-empty list of strings")
                return None
            return tuple(raw)
        if kind == "strmap":
            if not isinstance(raw, dict):
                self.err(line, f"{where} must be a map of strings")
                return None
            return {str(k): str(v) for k, v in raw.items()}
        if kind == "duration":
            try:
                return parse_duration(str(raw))
            except ValueError as e:
                self.err(line, f"{where}: {e}")
                return None
        if kind == "tls":
            return self.tls(raw, line, name)
        raise AssertionError(kind)

    def tls(self, raw: Any, line: int, name: str) -> TLSOptions | None:
        if not isinstance(raw, YMap):
            self.err(line, f"receiver {name!r}: 'tls' must be a map")
            return None
        known = ("ca_file", "cert_file", "key_file", "insecure_skip_verify")
        vals: dict[str, Any] = {}
        for k, v in raw.items():
            if k not in known:
                self.err(raw.line_of(k), f"receiver {name!r}: unknown tls key {k!r} "
                         f"(known: {', '.join(known)})")
            elif k == "insecure_skip_verify":
                if not isinstance(v, bool):
                    self.err(raw.line_of(k), f"receiver {name!r}: insecure_skip_verify must be true or false")
                vals[k] = bool(v)
            else:
                p = self.path(str(v))
                if not p.is_file():
                    self.err(raw.line_of(k), f"receiver {name!r}: tls {k} {str(p)!r} does not exist")
                vals[k] = str(p)
        return TLSOptions(**vals)

    def secret(self, raw: Any, line: int, name: str, key: str) -> str | None:
        where = f"receiver {name!r}: {key!r}"
        if isinstance(raw, str) and raw:
            return raw
        if isinstance(raw, dict) and len(raw) == 1 and "env" in raw:
            var = str(raw["env"])
            if var not in self.env:
                self.err(line, f"{where}: environment variable {var} is not set")
                return None
            return self.env[var]
        if isinstance(raw, dict) and len(raw) == 1 and "file" in raw:
            p = self.path(str(raw["file"]))
            try:
                return p.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as e:
                self.err(line, f"{where}: cannot read {str(p)!r}: {e.strerror}")
                return None
        self.err(line, f"{where} must be a string, {{env: NAME}} or {{file: PATH}}")
        return None

    def path(self, s: str) -> Path:
        p = Path(s)
        return p if p.is_absolute() else self.base / p
