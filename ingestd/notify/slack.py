"""Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat): mrkdwn text."""

from __future__ import annotations

import aiohttp

from ingestd.notify import http
from ingestd.notify.model import Notification
from ingestd.notify.options import ChatOptions
from ingestd.notify.templates import TemplateSet

# Colour of the attachment bar by priority.
COLOURS = {"P0": "#8b0000", "P1": "#d00000", "P2": "#ff8c00", "P3": "#e0c000", "P4": "#808080"}
RESOLVED_COLOUR = "#2eb67d"


class SlackSender:
    def __init__(self, opts: ChatOptions, templates: TemplateSet,
                 session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.templates = templates
        self.session = session
        self.tls = http.ssl_for(opts.tls)

    def payload(self, n: Notification) -> dict[str, object]:
        text = self.templates.render("text", n)
        colour = RESOLVED_COLOUR if n.event == "resolved" else COLOURS.get(n.incident.priority, "#808080")
        return {"text": text.split("\n", 1)[0],
                "attachments": [{"color": colour, "text": text, "mrkdwn_in": ["text"]}]}

    async def send(self, n: Notification) -> None:
        await http.call(self.session, "POST", self.opts.url, tls=self.tls, json=self.payload(n))
