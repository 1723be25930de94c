"""E-mail over SMTP: STARTTLS (or implicit TLS), AUTH, a plain-text and an HTML part."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from ingestd.notify import http
from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Notification
from ingestd.notify.options import EmailOptions
from ingestd.notify.templates import TemplateSet


class EmailSender:
    def __init__(self, opts: EmailOptions, templates: TemplateSet) -> None:
        self.opts = opts
        self.templates = templates
        tls = http.ssl_for(opts.tls)
        self.tls_context = tls if isinstance(tls, ssl.SSLContext) else None

    def message(self, n: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.templates.render("subject", n).replace("\n", " ")
        msg["From"] = self.opts.sender
        msg["To"] = ", ".join(self.opts.to)
        msg["Date"] = format_datetime(n.at)
        domain = self.opts.sender.rsplit("@", 1)[-1].strip(">") or "ingestd"
        msg["Message-ID"] = make_msgid(idstring=n.idempotency_key.replace(":", "."), domain=domain)
        # Mail clients thread every message of one incident together.
        thread = f"<{n.incident.id}@{domain}>"
        msg["References"] = thread
        msg["X-Ingestd-Incident"] = n.incident.id
        msg["X-Ingestd-Idempotency-Key"] = n.idempotency_key
        msg.set_content(self.templates.render("text", n))
        msg.add_alternative(self.templates.render("html", n), subtype="html")
        return msg

    async def send(self, n: Notification) -> None:
        o = self.opts
        try:
            await aiosmtplib.send(
                self.message(n), hostname=o.host, port=o.port,
                username=o.username, password=o.password,
                use_tls=o.tls_mode == "tls", start_tls=o.tls_mode == "starttls",
                tls_context=self.tls_context,
                validate_certs=not o.tls.insecure_skip_verify,
            )
        except aiosmtplib.SMTPResponseException as e:
            # 4xx is "try again later"; 5xx is a refusal.
            raise DeliveryError(f"SMTP {e.code}: {e.message}", retryable=e.code < 500,
                                status=e.code) from e
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            raise DeliveryError(f"SMTP recipients refused: {e}",
                                retryable=all(c < 500 for c in codes)) from e
        except (aiosmtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP {o.smarthost}: {type(e).__name__}: {e}", retryable=True) from e
