"""Feishu (Lark) custom bot: an interactive card with markdown, signed when the bot has a secret.

Signing (Feishu's documented scheme): ``timestamp`` is seconds since the epoch;
``sign`` is base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")); both go
into the JSON body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

import aiohttp

from ingestd.notify import http
from ingestd.notify.model import Notification
from ingestd.notify.options import ChatOptions
from ingestd.notify.templates import TemplateSet

RETRYABLE = frozenset({9499, 11232})  # too many requests, frequency limit
CARD_COLOURS = {"P0": "red", "P1": "red", "P2": "orange", "P3": "yellow", "P4": "grey"}


def sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FeishuSender:
    def __init__(self, opts: ChatOptions, templates: TemplateSet, session: aiohttp.ClientSession,
                 wall_s: Callable[[], int] = lambda: int(time.time())) -> None:
        self.opts = opts
        self.templates = templates
        self.session = session
        self.wall_s = wall_s
        self.tls = http.ssl_for(opts.tls)

    def payload(self, n: Notification) -> dict[str, object]:
        colour = "green" if n.event == "resolved" else CARD_COLOURS.get(n.incident.priority, "grey")
        body: dict[str, object] = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": self.templates.render("title", n)},
                           "template": colour},
                "elements": [{"tag": "div", "text": {"tag": "lark_md",
                                                     "content": self.templates.render("text", n)}}],
            },
        }
        if self.opts.secret:
            ts = self.wall_s()
            body = {"timestamp": str(ts), "sign": sign(self.opts.secret, ts), **body}
        return body

    async def send(self, n: Notification) -> None:
        _, text = await http.call(self.session, "POST", self.opts.url, tls=self.tls,
                                  json=self.payload(n))
        http.check_robot_answer(text, "Feishu bot", RETRYABLE)
