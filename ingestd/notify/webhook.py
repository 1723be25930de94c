"""Generic webhook: a JSON body from a template, headers, bearer or basic auth, TLS."""

from __future__ import annotations

import aiohttp
import orjson

from ingestd.notify import http
from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Notification
from ingestd.notify.options import WebhookOptions
from ingestd.notify.templates import TemplateSet


class WebhookSender:
    def __init__(self, opts: WebhookOptions, templates: TemplateSet,
                 session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.templates = templates
        self.session = session
        self.tls = http.ssl_for(opts.tls)

    def body(self, n: Notification) -> bytes:
        text = self.templates.render("body", n)
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise DeliveryError(f"the 'body' template did not render valid JSON: {e}",
                                retryable=False) from e
        return text.encode()

    async def send(self, n: Notification) -> None:
        headers = {"Content-Type": "application/json", **self.opts.headers,
                   "Idempotency-Key": n.idempotency_key}
        if self.opts.bearer_token:
            headers["Authorization"] = f"Bearer {self.opts.bearer_token}"
        elif self.opts.basic_username is not None:
            headers["Authorization"] = http.basic_auth(self.opts.basic_username,
                                                       self.opts.basic_password or "")
        await http.call(self.session, "POST", self.opts.url, tls=self.tls, body=self.body(n),
                        headers=headers)
