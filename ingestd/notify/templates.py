"""Message templates: a default per channel, overridable per receiver.

Templates are Jinja2, compiled in a sandbox with ``StrictUndefined`` when the
receivers file loads, and rendered once against a sample notification of every
event then too, so a typo fails the load rather than an incident at 3 a.m.

Every template sees:

``n`` (the :class:`~ingestd.notify.model.Notification`), ``incident`` (its
snapshot), ``event`` (``opened`` …), ``detail`` (a dict: ``reason``,
``previous_priority``, ``text``, ``actor`` where the event has them),
``open_for`` (``"2h 05m"``), ``key`` (the idempotency key) and ``payload``
(the notification as a JSON-able dict, for ``{{ payload | tojson }}``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ingestd.notify.model import Event, IncidentSnapshot, Notification, TimelineLine

_HEADLINE = (
    "[{{ incident.priority }}] {{ event | upper }}: {{ incident.title }}"
)

_FACTS_MD = """\
**Priority:** {{ incident.priority }} · **Status:** {{ incident.status }} · **Open for:** {{ open_for }}
{% if incident.root_ci %}**Root CI:** {{ incident.root_ci }}{% if incident.root_inferred %} (inferred){% endif %}
{% endif %}{% if incident.cis %}**Affected CIs:** {{ incident.cis | join(', ') }}
{% endif %}{% if incident.services %}**Services:** {{ incident.services | join(', ') }}
{% endif %}{% if incident.team %}**Team:** {{ incident.team }}{% if incident.assignee %} · **Assignee:** {{ incident.assignee }}{% endif %}
{% endif %}**Alerts:** {{ incident.alerts_count }}
{% if detail.reason %}**Reason:** {{ detail.reason }}
{% endif %}{% if detail.previous_priority %}**Was:** {{ detail.previous_priority }}
{% endif %}{% if detail.text %}> {{ detail.text }}
{% endif %}{% if incident.summary %}
{{ incident.summary }}
{% endif %}{% if incident.runbook_url %}
[Runbook]({{ incident.runbook_url }}){% endif %}{% if incident.url %} · [Incident {{ incident.id }}]({{ incident.url }}){% endif %}"""

_FACTS_TEXT = """\
Priority: {{ incident.priority }}
Status: {{ incident.status }}
Open for: {{ open_for }}
{% if incident.root_ci %}Root CI: {{ incident.root_ci }}{% if incident.root_inferred %} (inferred){% endif %}
{% endif %}{% if incident.cis %}Affected CIs: {{ incident.cis | join(', ') }}
{% endif %}{% if incident.services %}Services: {{ incident.services | join(', ') }}
{% endif %}{% if incident.team %}Team: {{ incident.team }}
{% endif %}{% if incident.assignee %}Assignee: {{ incident.assignee }}
{% endif %}Alerts: {{ incident.alerts_count }}
{% if detail.reason %}Reason: {{ detail.reason }}
{% endif %}{% if detail.previous_priority %}Previous priority: {{ detail.previous_priority }}
{% endif %}{% if detail.actor %}By: {{ detail.actor }}
{% endif %}{% if detail.text %}Note: {{ detail.text }}
{% endif %}{% if incident.summary %}
{{ incident.summary }}
{% endif %}{% if incident.runbook_url %}
Runbook: {{ incident.runbook_url }}{% endif %}{% if incident.url %}
Incident: {{ incident.url }}{% endif %}"""

_SLACK = """\
*[{{ incident.priority }}] {{ event | upper }}: {{ incident.title }}*
*Status:* {{ incident.status }} · *Open for:* {{ open_for }}
{% if incident.root_ci %}*Root CI:* `{{ incident.root_ci }}`{% if incident.root_inferred %} (inferred){% endif %}
{% endif %}{% if incident.cis %}*Affected CIs:* {{ incident.cis | join(', ') }}
{% endif %}{% if incident.services %}*Services:* {{ incident.services | join(', ') }}
{% endif %}{% if incident.team %}*Team:* {{ incident.team }}{% if incident.assignee %} · *Assignee:* {{ incident.assignee }}{% endif %}
{% endif %}{% if detail.reason %}*Reason:* {{ detail.reason }}
{% endif %}{% if detail.text %}> {{ detail.text }}
{% endif %}{% if incident.runbook_url %}<{{ incident.runbook_url }}|Runbook>{% endif %}{% if incident.url %} · <{{ incident.url }}|Incident {{ incident.id }}>{% endif %}"""

_HTML = """\
<html><body>
<h2>[{{ incident.priority }}] {{ event | upper }}: {{ incident.title }}</h2>
<table>
<tr><th align="left">Priority</th><td>{{ incident.priority }}</td></tr>
<tr><th align="left">Status</th><td>{{ incident.status }}</td></tr>
<tr><th align="left">Open for</th><td>{{ open_for }}</td></tr>
{% if incident.root_ci %}<tr><th align="left">Root CI</th><td>{{ incident.root_ci }}{% if incident.root_inferred %} (inferred){% endif %}</td></tr>{% endif %}
{% if incident.cis %}<tr><th align="left">Affected CIs</th><td>{{ incident.cis | join(', ') }}</td></tr>{% endif %}
{% if incident.services %}<tr><th align="left">Services</th><td>{{ incident.services | join(', ') }}</td></tr>{% endif %}
{% if incident.team %}<tr><th align="left">Team</th><td>{{ incident.team }}</td></tr>{% endif %}
{% if incident.assignee %}<tr><th align="left">Assignee</th><td>{{ incident.assignee }}</td></tr>{% endif %}
<tr><th align="left">Alerts</th><td>{{ incident.alerts_count }}</td></tr>
{% if detail.reason %}<tr><th align="left">Reason</th><td>{{ detail.reason }}</td></tr>{% endif %}
</table>
{% if detail.text %}<blockquote>{{ detail.text }}</blockquote>{% endif %}
{% if incident.summary %}<p>{{ incident.summary }}</p>{% endif %}
<p>{% if incident.runbook_url %}<a href="{{ incident.runbook_url }}">Runbook</a> {% endif %}{% if incident.url %}<a href="{{ incident.url }}">Incident {{ incident.id }}</a>{% endif %}</p>
</body></html>"""

_COMMENT = """\
{{ event | capitalize }}{% if detail.actor %} by {{ detail.actor }}{% endif %}: priority {{ incident.priority }}, status {{ incident.status }}, open for {{ open_for }}.
{% if detail.reason %}Reason: {{ detail.reason }}
{% endif %}{% if detail.previous_priority %}Priority was {{ detail.previous_priority }}.
{% endif %}{% if detail.text %}{{ detail.text }}
{% endif %}"""

DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "webhook": {"body": "{{ payload | tojson }}"},
    "slack": {"text": _SLACK},
    "wecom": {"text": "## " + _HEADLINE + "\n" + _FACTS_MD},
    "dingtalk": {"title": _HEADLINE, "text": "## " + _HEADLINE + "\n\n" + _FACTS_MD},
    "feishu": {"title": _HEADLINE, "text": _FACTS_MD},
    "email": {"subject": _HEADLINE, "text": _FACTS_TEXT, "html": _HTML},
    "redmine": {"subject": "[{{ incident.priority }}] {{ incident.title }}",
                "description": _FACTS_TEXT, "comment": _COMMENT},
    "jira": {"subject": "[{{ incident.priority }}] {{ incident.title }}",
             "description": _FACTS_TEXT, "comment": _COMMENT},
}

# Every template may test these; an event without one sees "".
DETAIL_KEYS: Mapping[str, str] = {"reason": "", "previous_priority": "", "text": "", "actor": ""}

# Templates whose output is HTML get autoescaping.
_HTML_PARTS = {("email", "html")}


def humanize(seconds: float) -> str:
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h:02d}h"
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {s:02d}s"
    return f"{s}s"


def _env(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=autoescape, keep_trailing_newline=False
    )
    env.filters["duration"] = humanize
    return env


_PLAIN = _env(False)
_ESCAPED = _env(True)


class TemplateSet:
    """The compiled templates of one receiver."""

    def __init__(self, channel: str, templates: Mapping[str, jinja2.Template]) -> None:
        self.channel = channel
        self._templates = dict(templates)

    def render(self, part: str, n: Notification) -> str:
        return self._templates[part].render(context(n)).strip()


def context(n: Notification) -> dict[str, Any]:
    return {
        "n": n,
        "incident": n.incident,
        "event": n.event.value,
        "detail": {**DETAIL_KEYS, **n.detail},
        "open_for": humanize(n.open_for),
        "key": n.idempotency_key,
        "payload": n.to_dict(),
    }


def compile_templates(channel: str, overrides: Mapping[str, str]) -> TemplateSet:
    """Compile and trial-render a channel's templates.

    Raises ``ValueError`` naming the part and the Jinja2 error; an unknown
    part name is an error too.
    """
    defaults = DEFAULTS[channel]
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown template {', '.join(repr(u) for u in unknown)} for type {channel} "
            f"(known: {', '.join(defaults)})"
        )
    compiled: dict[str, jinja2.Template] = {}
    for part, default in defaults.items():
        src = overrides.get(part, default)
        env = _ESCAPED if (channel, part) in _HTML_PARTS else _PLAIN
        try:
            compiled[part] = env.from_string(src)
        except jinja2.TemplateSyntaxError as e:
            raise ValueError(f"template {part!r}: line {e.lineno}: {e.message}") from e
    ts = TemplateSet(channel, compiled)
    for event in Event:
        for full in (True, False):
            sample = sample_notification("sample", event)
            if not full:
                sample = dataclasses.replace(sample, detail={})
            try:
                for part in compiled:
                    ts.render(part, sample)
            except jinja2.TemplateError as e:
                raise ValueError(f"template {part!r} fails for a sample {event} event: {e}") from e
    return ts


def sample_notification(receiver: str, event: Event = Event.OPENED, *,
                        now: datetime | None = None) -> Notification:
    """A realistic notification, for trial renders and ``ingestd notify test``."""
    at = now or datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    opened = at - timedelta(minutes=25)
    incident = IncidentSnapshot(
        id="INC-SAMPLE",
        title="disk full on db01 (sample notification from ingestd)",
        summary="DiskFull fired on db01; 3 dependent services report errors.",
        status="resolved" if event is Event.RESOLVED else "open",
        priority="P1",
        opened_at=opened,
        resolved_at=at if event is Event.RESOLVED else None,
        url="http://ingestd.example/incidents/INC-SAMPLE",
        root_ci="db01",
        root_inferred=True,
        cis=("db01", "cart", "checkout"),
        services=("shop",),
        team="infra",
        assignee="alice",
        runbook_url="http://runbooks.example/disk-full",
        alerts_count=4,
        timeline=(TimelineLine(opened, "opened", "DiskFull on db01"),),
    )
    detail = {"reason": "time to acknowledge breached", "previous_priority": "P2",
              "text": "looking into it", "actor": "alice"}
    return Notification(event=event, incident=incident, receiver=receiver, sequence=1, at=at,
                        detail=detail)
