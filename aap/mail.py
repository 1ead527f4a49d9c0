"""The mail outbox.

Services call queue_mail() inside their own transaction: the e-mail is stored with the change
that caused it, or not at all. deliver_pending() sends what is due, through the configured
backend (SMTP in production, .eml files or the console in development), with retries.
"""
import secrets
import smtplib
import ssl
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template

from . import timeutil
from .extensions import db
from .models import OutboxMessage
from .textrules import header_text

RETRY_DELAYS = [60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600]  # seconds after each failure

# The renderers of the attachments that are rendered when the e-mail is built rather than stored
# (an outbox attachment {"kind": ..., ...} without a "path"), by kind. Filled at app init by the
# packages that produce them (aap/documents/__init__.py: « receipt »): the outbox imports no domain.
ATTACHMENT_RENDERERS = {}


def register_attachment_renderer(kind, render):
    """`render(item)` -> the bytes of an outbox attachment {"kind": kind, ...}."""
    ATTACHMENT_RENDERERS[kind] = render


def mail_limit_reached(to, kind):
    """True when `to` has already been sent as many e-mails of this kind as MAIL_LIMITS allows
    ({kind: (count, seconds)}: at most `count` in the last `seconds`), counted in the outbox.

    The limits are on the e-mails anyone can cause (reset, confirmation, invitations, messages,
    login alerts), so that nobody can flood an inbox through AAP. A service whose requester may
    be told (an invitation) asks first, to answer in French; queue_mail() checks it anyway."""
    limit = current_app.config.get("MAIL_LIMITS", {}).get(kind)
    if not limit:
        return False
    count, seconds = limit
    since = timeutil.now() - timedelta(seconds=seconds)
    queued = db.session.scalar(
        db.select(db.func.count(OutboxMessage.id))
        .where(OutboxMessage.to == header_text(to), OutboxMessage.kind == kind,
               OutboxMessage.created_at >= since))
    return queued >= count


def queue_mail(to, subject, template, attachments=None, kind=None, **context):
    """Render templates/mail/<template>.txt and add the message to the outbox (no commit).

    `kind` (the template by default) is what the limits of MAIL_LIMITS count: when `to` has
    had its share of this kind, nothing is queued and None is returned.
    The subject is often built from user text (an association's name): it is stored on one
    line, whatever that text holds."""
    kind = kind or template
    if mail_limit_reached(to, kind):
        current_app.logger.info("e-mail %r to %s not queued: limit reached", kind, to)
        return None
    body = render_template(f"mail/{template}.txt", **context)
    return _add(to, subject, body, kind, attachments)


def queue_text(to, subject, body, kind, attachments=None):
    """Add a message whose text is already written (a decision mail drafted and edited by staff)
    to the outbox (no commit), under the same limits as queue_mail. None when the limit is reached."""
    if mail_limit_reached(to, kind):
        current_app.logger.info("e-mail %r to %s not queued: limit reached", kind, to)
        return None
    return _add(to, subject, body, kind, attachments)


def _add(to, subject, body, kind, attachments):
    message = OutboxMessage(to=to, subject=header_text(subject), body=body, kind=kind,
                            attachments=attachments or [], next_attempt_at=timeutil.now())
    db.session.add(message)
    return message


def build_email(message, config, instance_path):
    """The e-mail of an outbox message. The subject and the attachments' names, made from
    stored text, go through header_text: a CR/LF stored before it was refused (an old association
    name in a subject) would make EmailMessage refuse the header, and the message fail at every
    attempt. An address is never mended: one with a line break is malformed (set aside)."""
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = header_text(message.subject)
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="aap.jeunesse.gouv.fr")
    email.set_content(message.body)
    for item in message.attachments or []:
        if "path" in item:
            data = (Path(instance_path) / item["path"]).read_bytes()
        else:  # rendered now by the renderer registered for its kind (e.g. {"kind": "receipt", ...})
            render = ATTACHMENT_RENDERERS.get(item.get("kind"))
            if render is None:
                raise ValueError(f"unknown attachment kind {item.get('kind')!r}")
            data = render(item)
        maintype, _, subtype = item.get("content_type", "application/octet-stream").partition("/")
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=header_text(item["filename"]))
    return email


def _send_smtp(email, config):
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=20, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=20)
    with smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def mail_file_name(message_id, now=None):
    """The name of a development e-mail file: unique whoever writes it (two servers, or two
    databases, may share one instance/mail folder and both have an outbox message n° 1), and
    sorted by time: « 20260315T142501123456Z-000012-9f3c2a1b7d4e.eml » (UTC time, outbox
    number, random)."""
    now = now or timeutil.now()
    return f"{now:%Y%m%dT%H%M%S%fZ}-{message_id:06d}-{secrets.token_hex(6)}.eml"


def _send_file(email, config, message_id):
    folder = Path(config["MAIL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    # "xb": never overwrite a file, whatever happens to its name.
    with open(folder / mail_file_name(message_id), "xb") as file:
        file.write(bytes(email))


def _send(email, message_id):
    config = current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(email, config)
    elif backend == "file":
        _send_file(email, config, message_id)
    elif backend == "console":
        print(email.as_string(), file=sys.stderr)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


CLAIM_SECONDS = 10 * 60  # a message being sent is not picked up again before this delay


def _claim(message_id, now):
    """Take one due message for this sender: an atomic UPDATE, so that two senders (the
    command and the after-request sender) never send the same message twice. If the sender
    dies while sending, the message is due again after CLAIM_SECONDS."""
    claimed = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
               OutboxMessage.failed.is_(False), OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def deliver_pending(limit=200):
    """Send every due message of the outbox. Returns (sent, failed) counts.

    A message that cannot be sent is retried later (RETRY_DELAYS), and marked failed after
    MAIL_MAX_ATTEMPTS attempts; one bad message never blocks the others.
    """
    config = current_app.config
    now = timeutil.now()
    due_ids = db.session.scalars(
        db.select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False),
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = failed = 0
    for message_id in due_ids:
        if not _claim(message_id, now):
            continue
        message = db.session.get(OutboxMessage, message_id)
        try:
            _send(build_email(message, config, current_app.instance_path), message.id)
        except Exception as error:  # noqa: BLE001 (network, file, or a malformed message)
            if not isinstance(error, (OSError, smtplib.SMTPException)):
                current_app.logger.exception("e-mail %s could not be built or sent", message.id)
            failed += 1
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:1000]
            if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
                message.failed = True
            else:
                delay = RETRY_DELAYS[min(message.attempts - 1, len(RETRY_DELAYS) - 1)]
                message.next_attempt_at = timeutil.now() + timedelta(seconds=delay)
        else:
            sent += 1
            message.attempts += 1
            message.sent_at = timeutil.now()
            message.last_error = ""
        db.session.commit()
    return sent, failed


def init_mail(app):
    @app.cli.command("send-mail")
    def send_mail_command():
        """Deliver the e-mails waiting in the outbox."""
        sent, failed = deliver_pending()
        print(f"{sent} e-mail(s) envoyé(s), {failed} en échec (nouvel essai plus tard).")

    if app.config["MAIL_SEND_AFTER_REQUEST"]:
        @app.after_request
        def _deliver_after_request(response):
            def deliver():
                with app.app_context():
                    try:
                        deliver_pending(limit=20)
                    except Exception:  # never break a response for mail
                        app.logger.exception("mail delivery failed")
            response.call_on_close(deliver)
            return response
