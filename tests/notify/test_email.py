"""E-mail through a real SMTP server (aiosmtpd) on 127.0.0.1 with STARTTLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Event
from ingestd.notify.receivers import build_receivers

from .factory import note, receivers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(cert: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"ingestd"
              and auth_data.password == b"mailpw")
        if ok:
            inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx,
                            require_starttls=True, authenticator=authenticator,
                            auth_required=True)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_config(port: int, ca: Path, password: str = "{env: SMTP_PASSWORD}") -> str:
    return f"""
receivers:
  - name: mail-ops
    type: email
    to: [oncall@example.com, lead@example.com]
    from: ingestd@example.com
    smarthost: 127.0.0.1:{port}
    username: ingestd
    password: {password}
    tls: {{ca_file: {ca}}}
"""


async def test_mail_arrives_over_starttls_with_auth_in_plain_text_and_html(
        smtp: tuple[Inbox, int], cert: tuple[Path, Path]) -> None:
    inbox, port = smtp
    cfg = receivers(mail_config(port, cert[0]), env={"SMTP_PASSWORD": "mailpw"})
    rcv = build_receivers(cfg, None)  # type: ignore[arg-type]
    await rcv["mail-ops"].sender.send(note("mail-ops", Event.ESCALATED,
                                           detail={"reason": "time to acknowledge breached"}))
    assert inbox.logins == ["ingestd"]
    ((mail_from, rcpts, raw),) = inbox.messages
    assert mail_from == "ingestd@example.com"
    assert rcpts == ["oncall@example.com", "lead@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "[P1] ESCALATED: disk full on db01 (sample notification from ingestd)"
    assert msg["X-Ingestd-Idempotency-Key"] == "INC-1:escalated:1"
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for needle in ("Root CI: db01 (inferred)", "Affected CIs: db01, cart, checkout",
                   "Open for: 25m 00s", "Reason: time to acknowledge breached",
                   "Runbook: http://runbooks.example/disk-full"):
        assert needle in plain
    assert '<a href="http://runbooks.example/disk-full">Runbook</a>' in html
    assert "<td>db01 (inferred)</td>" in html


async def test_an_untrusted_certificate_is_refused(smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    cfg = receivers(mail_config(port, Path("/etc/ssl/certs/ca-certificates.crt")),
                    env={"SMTP_PASSWORD": "mailpw"})
    rcv = build_receivers(cfg, None)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError, match="(?i)certificate"):
        await rcv["mail-ops"].sender.send(note("mail-ops"))
