"""The daemon's settings: defaults, an optional YAML file, ``INGESTD_*`` variables, flags.

Later sources win: defaults < ``--config`` file < environment < command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from ingestd.correlate import CorrelationSettings
from ingestd.yamlconf import parse_duration as prometheus_duration


class ConfigError(ValueError):
    pass


REPOSITORY = Path(__file__).resolve().parents[1]
"""Where the example ``cmdb.yaml`` and ``rules/`` live: the defaults when no flag names others."""


def parse_duration(value: object, what: str) -> timedelta:
    """A number of seconds, or a Prometheus duration: ``90s``, ``15m``, ``1h30m``, ``7d``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    try:
        return prometheus_duration(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what}: {value!r} is not a duration (like 90s, 15m, 1h30m, 7d)"
                          ) from None


@dataclass
class Settings:
    listen: str = "127.0.0.1:9095"
    cmdb: str = str(REPOSITORY / "cmdb.yaml")
    rules: str = str(REPOSITORY / "rules")
    sources: str = "sources"
    """Directory of extra JSON source mappings (optional; Grafana and Zabbix are shipped)."""
    db: str = "sqlite:///data/ingestd.db"
    auth: str = "tokens"  # "tokens" | "none"
    tokens: str | None = None
    log_format: str = "text"  # "text" | "json"
    log_level: str = "info"
    external_url: str = ""
    queue_size: int = 2000
    batch_size: int = 500
    max_body_bytes: int = 8 * 1024 * 1024
    max_alerts: int = 10_000
    body_timeout: float = 30.0
    drain_timeout: float = 10.0
    reload_interval: float = 2.0
    correlation: dict[str, Any] = field(default_factory=dict)

    def correlation_settings(self) -> CorrelationSettings:
        c = dict(self.correlation)
        kwargs: dict[str, Any] = {}
        for key in ("window", "slack", "reopen_window", "max_age", "auto_resolve_after"):
            if c.get(key) is not None:
                kwargs[key] = parse_duration(c.pop(key), f"correlation.{key}")
            else:
                c.pop(key, None)
        if "max_hops" in c:
            kwargs["max_hops"] = int(c.pop("max_hops"))
        if c:
            raise ConfigError(f"correlation: unknown keys {sorted(c)}")
        return CorrelationSettings(**kwargs)

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        try:
            return host or "127.0.0.1", int(port)
        except ValueError:
            raise ConfigError(f"--listen {self.listen!r}: expected HOST:PORT") from None


_NAMES = {f.name for f in fields(Settings)}


def load_settings(config_file: str | None, overrides: dict[str, Any],
                  environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get("INGESTD_CONFIG")
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{path}: {e}") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a map of settings")
        unknown = set(doc) - _NAMES
        if unknown:
            raise ConfigError(f"{path}: unknown settings {sorted(unknown)} (known: {sorted(_NAMES)})")
        values.update({k.replace("-", "_"): v for k, v in doc.items()})
    for f in fields(Settings):
        var = f"INGESTD_{f.name.upper()}"
        if var in env and f.name != "correlation":
            values[f.name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    s = Settings()
    for k, v in values.items():
        default = getattr(s, k)
        if isinstance(default, bool):
            v = str(v).lower() in ("1", "true", "yes")
        elif isinstance(default, int):
            v = int(v)
        elif isinstance(default, float):
            v = float(v)
        setattr(s, k, v)
    if s.auth not in ("none", "tokens"):
        raise ConfigError(f"auth: {s.auth!r}: expected 'none' or 'tokens'")
    if s.log_format not in ("text", "json"):
        raise ConfigError(f"log_format: {s.log_format!r}: expected 'text' or 'json'")
    s.correlation_settings()
    return s
