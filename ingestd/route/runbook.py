"""Runbook links templated from the incident's labels (Jinja2, sandboxed).

``https://runbooks.example.com/{{ labels.alertname | lower }}`` - the
template sees ``labels``, ``ci`` (id, type, team, service, criticality),
``team`` and ``priority``. Templates are compiled when the rules load, so a
syntax error is refused then; a template that fails while rendering gives
no link rather than failing the routing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(autoescape=False, undefined=jinja2.ChainableUndefined)


@lru_cache(maxsize=512)
def compile_template(source: str) -> jinja2.Template:
    """Raises :class:`jinja2.TemplateSyntaxError` (with ``lineno``) on a bad template."""
    return _ENV.from_string(source)


def render(source: str, context: Mapping[str, Any]) -> str | None:
    try:
        return compile_template(source).render(**context).strip() or None
    except Exception:  # a template error, a sandbox violation, a filter's error: no link
        return None
