"""HTTP for the senders: one call, TLS options applied, failures as DeliveryError."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from ingestd.notify.errors import DeliveryError
from ingestd.notify.options import TLSOptions
from ingestd.notify.retry import check_status

USER_AGENT = "ingestd-notify/0.1"


def basic_auth(username: str, password: str) -> str:
    """The value of an ``Authorization`` header for HTTP basic auth."""
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def ssl_for(tls: TLSOptions) -> ssl.SSLContext | bool:
    """``True`` (default verification) unless the options say otherwise."""
    if not (tls.ca_file or tls.cert_file or tls.insecure_skip_verify):
        return True
    ctx = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    tls: ssl.SSLContext | bool = True,
    json: Any = None,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Send one request; return (status, text) for 2xx, raise DeliveryError otherwise."""
    hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
    if json is not None:
        body = orjson.dumps(json)
        hdrs.setdefault("Content-Type", "application/json")
    try:
        async with session.request(
            method, url, data=body, headers=hdrs, params=params, ssl=tls
        ) as resp:
            text = await resp.text(errors="replace")
            check_status(resp.status, text, retry_after=resp.headers.get("Retry-After"))
            return resp.status, text
    except (TimeoutError, aiohttp.ClientError, OSError) as e:
        raise DeliveryError(f"{method} {_safe(url)}: {type(e).__name__}: {e}", retryable=True) from e


def _safe(url: str) -> str:
    """The URL without its query string: robot URLs carry their token there."""
    return url.split("?", 1)[0]


def parse_json(text: str, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise DeliveryError(f"{what}: answer is not JSON: {text[:200]!r}", retryable=True) from e


def check_robot_answer(text: str, what: str, retryable_codes: frozenset[int]) -> None:
    """Chat robots answer HTTP 200 with an error code in the body; 0 is success."""
    answer = parse_json(text, what) if text.strip() else {}
    if not isinstance(answer, dict):
        return
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return
    msg = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
    raise DeliveryError(f"{what} refused the message: code {code}: {msg}",
                        retryable=int(code) in retryable_codes)
