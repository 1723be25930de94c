"""Webhook and chat-robot formats, received by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import aiohttp
import pytest

from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Event
from ingestd.notify.receivers import build_receivers

from .factory import note, receivers
from .recorder import Recorder


def config(rec: Recorder) -> str:
    return f"""
receivers:
  - name: hook
    type: webhook
    url: {rec.url('/hook')}
    headers: {{X-Env: prod}}
    bearer_token: {{env: HOOK_TOKEN}}
  - name: hook-basic
    type: webhook
    url: {rec.url('/basic')}
    basic_username: ingestd
    basic_password: s3cret
    templates:
      body: '{{"incident": "{{{{ incident.id }}}}", "text": {{{{ (incident.title ~ " on " ~ incident.root_ci) | tojson }}}}}}'
  - name: slack
    type: slack
    url: {rec.url('/slack')}
  - name: wecom
    type: wecom
    url: {rec.url('/wecom')}?key=abc
  - name: ding
    type: dingtalk
    url: {rec.url('/ding')}?access_token=tok
    secret: SECdingsecret
  - name: feishu
    type: feishu
    url: {rec.url('/feishu')}
    secret: feishusecret
"""


@pytest.fixture
async def senders(recorder: Recorder, session: aiohttp.ClientSession):  # type: ignore[no-untyped-def]
    cfg = receivers(config(recorder), env={"HOOK_TOKEN": "tok-123"})
    return {name: r.sender for name, r in build_receivers(cfg, session).items()}


async def test_webhook_posts_the_notification_as_json_with_auth_and_idempotency_key(
        recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["hook"].send(note("hook", Event.ESCALATED, seq=3,
                                    detail={"reason": "TTA breached"}))
    (req,) = recorder.at("/hook")
    assert req.headers["Authorization"] == "Bearer tok-123"
    assert req.headers["X-Env"] == "prod"
    assert req.headers["Idempotency-Key"] == "INC-1:escalated:3"
    body = req.json()
    assert body["event"] == "escalated"
    assert body["detail"] == {"reason": "TTA breached"}
    inc = body["incident"]
    assert inc["priority"] == "P1" and inc["root_ci"] == "db01" and inc["root_inferred"] is True
    assert inc["cis"] == ["db01", "cart", "checkout"] and inc["services"] == ["shop"]
    assert inc["runbook_url"] and inc["url"].endswith("/incidents/INC-SAMPLE")


async def test_webhook_body_template_and_basic_auth(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["hook-basic"].send(note("hook-basic", incident="INC-7"))
    (req,) = recorder.at("/basic")
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"ingestd:s3cret").decode()
    assert req.json() == {"incident": "INC-7",
                          "text": "disk full on db01 (sample notification from ingestd) on db01"}


async def test_slack_message_carries_what_on_call_needs(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["slack"].send(note("slack", priority="P0"))
    body = recorder.at("/slack")[0].json()
    assert body["text"].startswith("*[P0] OPENED: disk full on db01")
    text = body["attachments"][0]["text"]
    for needle in ("*Root CI:* `db01` (inferred)", "db01, cart, checkout", "*Services:* shop",
                   "*Open for:* 25m 00s", "|Runbook>", "|Incident INC-1>"):
        assert needle in text
    assert body["attachments"][0]["color"] == "#8b0000"


async def test_wecom_markdown(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["wecom"].send(note("wecom"))
    (req,) = recorder.at("/wecom")
    assert req.query == {"key": "abc"}
    body = req.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["content"].startswith("## [P1] OPENED: disk full on db01")
    assert "**Root CI:** db01 (inferred)" in body["markdown"]["content"]


async def test_dingtalk_is_signed_as_dingtalk_documents(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["ding"].send(note("ding", Event.RESOLVED))
    (req,) = recorder.at("/ding")
    # The server side of DingTalk's scheme: HMAC-SHA256 keyed by the secret over
    # "timestamp\nsecret", base64; timestamp in ms, within an hour of now.
    ts = req.query["timestamp"]
    assert abs(int(ts) - time.time() * 1000) < 3600_000
    want = base64.b64encode(hmac.new(b"SECdingsecret", f"{ts}\nSECdingsecret".encode(),
                                     hashlib.sha256).digest()).decode()
    assert req.query["sign"] == want  # aiohttp has URL-decoded it
    assert req.query["access_token"] == "tok"
    body = req.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "[P1] RESOLVED: disk full on db01 (sample notification from ingestd)"


async def test_feishu_is_signed_as_feishu_documents(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    await senders["feishu"].send(note("feishu"))
    body = recorder.at("/feishu")[0].json()
    # Feishu's check: HMAC-SHA256 keyed by "timestamp\nsecret" over an empty message, base64.
    ts = body["timestamp"]
    assert abs(int(ts) - time.time()) < 3600
    want = base64.b64encode(hmac.new(f"{ts}\nfeishusecret".encode(), b"", hashlib.sha256).digest())
    assert body["sign"] == want.decode()
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["template"] == "red"
    assert "**Root CI:** db01 (inferred)" in body["card"]["elements"][0]["text"]["content"]


async def test_robot_error_codes_in_a_200_answer_are_failures(recorder: Recorder, senders) -> None:  # type: ignore[no-untyped-def]
    recorder.default_body["/ding"] = '{"errcode":310000,"errmsg":"sign not match"}'
    with pytest.raises(DeliveryError, match="310000") as e:
        await senders["ding"].send(note("ding"))
    assert not e.value.retryable
    recorder.default_body["/ding"] = '{"errcode":130101,"errmsg":"send too fast"}'
    with pytest.raises(DeliveryError) as e:
        await senders["ding"].send(note("ding"))
    assert e.value.retryable
