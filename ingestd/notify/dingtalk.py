"""DingTalk custom robot: markdown message, signed when the robot has a secret.

Signing (DingTalk's documented scheme): ``timestamp`` is milliseconds since the
epoch; ``sign`` is base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")),
URL-encoded, both appended to the webhook URL's query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import quote_plus

import aiohttp

from ingestd.notify import http
from ingestd.notify.model import Notification
from ingestd.notify.options import ChatOptions
from ingestd.notify.templates import TemplateSet

RETRYABLE = frozenset({130101, -1})  # sending too fast, system busy


def sign(secret: str, timestamp_ms: int) -> str:
    """The signature, not yet URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkSender:
    def __init__(self, opts: ChatOptions, templates: TemplateSet, session: aiohttp.ClientSession,
                 wall_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.opts = opts
        self.templates = templates
        self.session = session
        self.wall_ms = wall_ms
        self.tls = http.ssl_for(opts.tls)

    def url(self) -> str:
        if not self.opts.secret:
            return self.opts.url
        ts = self.wall_ms()
        sep = "&" if "?" in self.opts.url else "?"
        return f"{self.opts.url}{sep}timestamp={ts}&sign={quote_plus(sign(self.opts.secret, ts))}"

    def payload(self, n: Notification) -> dict[str, object]:
        return {"msgtype": "markdown",
                "markdown": {"title": self.templates.render("title", n),
                             "text": self.templates.render("text", n)}}

    async def send(self, n: Notification) -> None:
        _, text = await http.call(self.session, "POST", self.url(), tls=self.tls,
                                  json=self.payload(n))
        http.check_robot_answer(text, "DingTalk robot", RETRYABLE)
