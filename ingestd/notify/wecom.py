"""WeCom (WeChat Work) group robot: markdown message to the robot's webhook URL."""

from __future__ import annotations

import aiohttp

from ingestd.notify import http
from ingestd.notify.model import Notification
from ingestd.notify.options import ChatOptions
from ingestd.notify.templates import TemplateSet

MAX_BYTES = 4096  # the robot's limit for markdown content
RETRYABLE = frozenset({45009, -1})  # API frequency limit, system busy


def truncate_utf8(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "..."


class WeComSender:
    def __init__(self, opts: ChatOptions, templates: TemplateSet,
                 session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.templates = templates
        self.session = session
        self.tls = http.ssl_for(opts.tls)

    def payload(self, n: Notification) -> dict[str, object]:
        text = truncate_utf8(self.templates.render("text", n), MAX_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": text}}

    async def send(self, n: Notification) -> None:
        _, text = await http.call(self.session, "POST", self.opts.url, tls=self.tls,
                                  json=self.payload(n))
        http.check_robot_answer(text, "WeCom robot", RETRYABLE)
