"""Where a message goes: an SMTP server (`SmtpTransport`), or `.eml` files in development."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib

from gateway.email.smtp_url import SmtpConfig, parse_smtp_url
from gateway.observability.logging import log_fields
from gateway.settings import Environment, Settings

SMTP_TIMEOUT_SECONDS = 30.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One message to send, as read from the outbox. Its repr shows the id only: a traceback or a stray
    log line must not carry the address or a one-time link."""

    id: uuid.UUID
    to: str = field(repr=False)
    subject: str = field(repr=False)
    body: str = field(repr=False)
    created_at: datetime = field(repr=False)


class DeliveryError(Exception):
    """A transport could not hand the message over. `reason` is short and safe to store and log (an error
    class and an SMTP code, never the server's text); `permanent` means retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


class MailTransport(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand `mail` over, or raise (preferably DeliveryError)."""


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    """The RFC 5322 message. Its Message-ID derives from the outbox id, so a resend after a crash between
    sending and recording can be recognised as the same message by the receiving side."""
    message = EmailMessage()  # policy `default`: refuses CR/LF in header values, a second guard
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = f"<{mail.id}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to us
    message.set_content(mail.body)
    return message


class SmtpTransport:
    """One SMTP connection per message (the volume is a few reset links); TLS as the URL says."""

    def __init__(self, config: SmtpConfig, *, sender: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.config = config
        self.sender = sender
        self.timeout = timeout

    async def send(self, mail: Mail) -> None:
        config = self.config
        try:
            await aiosmtplib.send(
                build_message(mail, sender=self.sender),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password.get_secret_value() if config.password else None,
                use_tls=config.implicit_tls,
                start_tls=config.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refusal.code for refusal in exc.recipients})
            raise DeliveryError(
                f"SMTPRecipientsRefused {codes[0] if codes else ''}".strip(),
                permanent=bool(codes) and all(code >= 500 for code in codes),
            ) from None
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
            raise DeliveryError(f"{type(exc).__name__} {exc.code}", permanent=exc.code >= 500) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{type(exc).__name__} {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:  # `from None`: the chain may quote addresses
            raise DeliveryError(type(exc).__name__) from None


class FileTransport:
    """Development: each message becomes `<directory>/<time>-<id>.eml`, readable by this user only."""

    def __init__(self, directory: Path, *, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        name = f"{mail.created_at:%Y%m%dT%H%M%SZ}-{mail.id}.eml"
        data = build_message(mail, sender=self.sender).as_bytes()
        await asyncio.to_thread(self._write, name, data)
        logger.info("mail written", extra=log_fields(file=name))

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = self.directory / f".{name}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        partial.replace(self.directory / name)  # whole files only, for whoever watches the directory


def transport_from_settings(settings: Settings) -> MailTransport:
    """SMTP when `GATEWAY_SMTP_URL` is set; otherwise `.eml` files under `<data_dir>/mail/`."""
    url = settings.smtp_url.get_secret_value()
    if url:
        return SmtpTransport(parse_smtp_url(url), sender=settings.mail_from)
    if settings.environment is Environment.PRODUCTION:
        logger.warning("GATEWAY_SMTP_URL is not set: mail is written to files, not sent")
    return FileTransport(settings.data_dir / "mail", sender=settings.mail_from)
