"""Bounds on what one body may hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    max_body_bytes: int = 8 * 1024 * 1024
    max_alerts: int = 10_000
    max_labels: int = 128
    max_label_name: int = 256
    max_label_value: int = 8 * 1024
    max_annotation_value: int = 64 * 1024
    body_timeout: float = 30.0
    """Seconds a client may take to send its body (slow bodies hold a connection)."""
