"""Build the live receivers (a sender each, with its limits) from a validated config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ingestd.notify.base import Sender
from ingestd.notify.config import RateLimit, ReceiverConfig, ReceiversConfig
from ingestd.notify.dingtalk import DingTalkSender
from ingestd.notify.email import EmailSender
from ingestd.notify.feishu import FeishuSender
from ingestd.notify.jira import jira_sender
from ingestd.notify.redmine import redmine_sender
from ingestd.notify.slack import SlackSender
from ingestd.notify.webhook import WebhookSender
from ingestd.notify.wecom import WeComSender


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    integration: str
    sender: Sender
    concurrency: int = 4
    max_attempts: int = 8
    timeout: float = 10.0
    rate_limit: RateLimit | None = None


_FACTORIES: Mapping[str, Callable[[Any, Any, aiohttp.ClientSession], Sender]] = {
    "webhook": WebhookSender,
    "slack": SlackSender,
    "wecom": WeComSender,
    "dingtalk": DingTalkSender,
    "feishu": FeishuSender,
    "email": lambda opts, templates, _session: EmailSender(opts, templates),
    "redmine": redmine_sender,
    "jira": jira_sender,
}


def build_receiver(rc: ReceiverConfig, session: aiohttp.ClientSession) -> Receiver:
    sender = _FACTORIES[rc.type](rc.options, rc.templates, session)
    return Receiver(
        name=rc.name, integration=rc.type, sender=sender, concurrency=rc.concurrency,
        max_attempts=rc.max_attempts, timeout=rc.timeout, rate_limit=rc.rate_limit,
    )


def build_receivers(config: ReceiversConfig, session: aiohttp.ClientSession) -> dict[str, Receiver]:
    return {name: build_receiver(rc, session) for name, rc in config.receivers.items()}
