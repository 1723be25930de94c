"""Typed options of each receiver type, as ``receivers.yaml`` spells them.

Each dataclass is what :mod:`ingestd.notify.config` builds after validating a
receiver; senders take them as they are. ``SCHEMAS`` says, per type, which
keys exist, their kind, and whether they are required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TLSOptions:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = None
    basic_username: str | None = None
    basic_password: str | None = None
    tls: TLSOptions = TLSOptions()


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """Slack, WeCom, DingTalk and Feishu robots: a webhook URL, and a signing secret
    for DingTalk and Feishu."""

    url: str
    secret: str | None = None
    tls: TLSOptions = TLSOptions()


@dataclass(frozen=True, slots=True)
class EmailOptions:
    to: tuple[str, ...]
    sender: str
    smarthost: str
    tls_mode: str = "starttls"  # starttls | tls | none
    username: str | None = None
    password: str | None = None
    tls: TLSOptions = TLSOptions()

    @property
    def host(self) -> str:
        return self.smarthost.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.smarthost.rsplit(":", 1)[1])


@dataclass(frozen=True, slots=True)
class RedmineOptions:
    url: str
    api_key: str
    project: str
    tracker: str = "Bug"
    incident_field: str = "External ID"
    priorities: Mapping[str, str] = field(default_factory=lambda: {
        "P0": "Immediate", "P1": "Urgent", "P2": "High", "P3": "Normal", "P4": "Low"})
    resolve_status: str = "Closed"
    reopen_status: str = "New"
    wont_fix_statuses: tuple[str, ...] = ("Rejected",)
    reopen_window: float = 86400.0
    tls: TLSOptions = TLSOptions()


@dataclass(frozen=True, slots=True)
class JiraOptions:
    url: str
    project: str
    username: str | None = None
    api_token: str | None = None
    bearer_token: str | None = None
    issue_type: str = "Task"
    priorities: Mapping[str, str] = field(default_factory=lambda: {
        "P0": "Highest", "P1": "High", "P2": "Medium", "P3": "Low", "P4": "Lowest"})
    resolve_transition: str = "Done"
    reopen_transition: str = "Reopen"
    wont_fix_resolutions: tuple[str, ...] = ("Won't Fix", "Won't Do", "Declined")
    reopen_window: float = 86400.0
    label_prefix: str = "ingestd-"
    tls: TLSOptions = TLSOptions()


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a receiver: its kind, whether required, the attribute it fills."""

    kind: str  # str | secret | url | strlist | strmap | duration | bool | tls | smarthost | choice:a,b
    required: bool = False
    attr: str | None = None


_TLS = Key("tls")
SCHEMAS: Mapping[str, tuple[type[Any], Mapping[str, Key]]] = {
    "webhook": (WebhookOptions, {
        "url": Key("url", True), "headers": Key("strmap"), "bearer_token": Key("secret"),
        "basic_username": Key("str"), "basic_password": Key("secret"), "tls": _TLS}),
    "slack": (ChatOptions, {"url": Key("url", True), "tls": _TLS}),
    "wecom": (ChatOptions, {"url": Key("url", True), "tls": _TLS}),
    "dingtalk": (ChatOptions, {"url": Key("url", True), "secret": Key("secret"), "tls": _TLS}),
    "feishu": (ChatOptions, {"url": Key("url", True), "secret": Key("secret"), "tls": _TLS}),
    "email": (EmailOptions, {
        "to": Key("strlist", True), "from": Key("str", True, "sender"),
        "smarthost": Key("smarthost", True), "tls_mode": Key("choice:starttls,tls,none"),
        "username": Key("str"), "password": Key("secret"), "tls": _TLS}),
    "redmine": (RedmineOptions, {
        "url": Key("url", True), "api_key": Key("secret", True), "project": Key("str", True),
        "tracker": Key("str"), "incident_field": Key("str"), "priorities": Key("strmap"),
        "resolve_status": Key("str"), "reopen_status": Key("str"),
        "wont_fix_statuses": Key("strlist"), "reopen_window": Key("duration"), "tls": _TLS}),
    "jira": (JiraOptions, {
        "url": Key("url", True), "project": Key("str", True), "username": Key("str"),
        "api_token": Key("secret"), "bearer_token": Key("secret"), "issue_type": Key("str"),
        "priorities": Key("strmap"), "resolve_transition": Key("str"),
        "reopen_transition": Key("str"), "wont_fix_resolutions": Key("strlist"),
        "reopen_window": Key("duration"), "label_prefix": Key("str"), "tls": _TLS}),
}
