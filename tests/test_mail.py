"""The mail outbox: queued in the caller's transaction, delivered through a real SMTP server
(aiosmtpd), retried when the server is down, written as .eml files in development."""
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from aap import timeutil
from aap.extensions import db
from aap.mail import RETRY_DELAYS, deliver_pending, queue_mail
from aap.models import OutboxMessage

from . import factories
from .conftest import free_port, make_app


def queue_convention(app, to="tresorerie@asso-exemple.fr"):
    """A French e-mail with a PDF attachment stored under instance/."""
    folder = Path(app.instance_path) / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "convention.pdf").write_bytes(b"%PDF-1.4 contenu de test\n")
    with app.test_request_context():
        message = queue_mail(
            to, "Votre convention « 1 jeune 1 mentor » à signer", "invite",
            attachments=[{"filename": "convention-été.pdf", "content_type": "application/pdf",
                          "path": "documents/convention.pdf"}],
            user=factories.user("reviewer", email=to),
            inviter=factories.user("staff", email="djepva@example.org"),
            link="http://localhost/invitation/jeton")
    db.session.commit()
    return message


def test_queue_mail_renders_the_template_without_committing(app, applicant):
    with app.test_request_context():
        message = queue_mail(applicant.email, "Réinitialisation de votre mot de passe", "reset",
                             user=applicant, link="http://localhost/lien")
    assert message in db.session.new
    assert "Bonjour Applicant Test" in message.body and "http://localhost/lien" in message.body
    assert message.body.rstrip().endswith("merci de ne pas y répondre directement.")  # signature
    db.session.rollback()  # the change that caused it is rolled back: no e-mail either
    assert factories.outbox() == []


def test_delivery_through_a_real_smtp_server(app, smtp_server):
    message = queue_convention(app)
    assert deliver_pending() == (1, 0)

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["To"] == "tresorerie@asso-exemple.fr"
    assert received["Subject"] == "Votre convention « 1 jeune 1 mentor » à signer"
    assert "ne-pas-repondre@aap.jeunesse.gouv.fr" in received["From"]
    assert received["Message-ID"] and received["Date"]
    body = received.get_body(preferencelist=("plain",))
    assert body.get_content_charset() == "utf-8"
    assert "vous invite à rejoindre AAP « 1 jeune 1 mentor »" in body.get_content()
    assert "Évaluateur" in body.get_content()
    attachments = list(received.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["convention-été.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == b"%PDF-1.4 contenu de test\n"

    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 1 and message.last_error == ""
    # Nothing is sent twice.
    assert deliver_pending() == (0, 0)
    assert len(smtp_server.messages) == 1


def test_server_down_then_back(app, smtp_server):
    message = queue_convention(app)
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    before = timeutil.now()
    assert deliver_pending() == (0, 1)

    db.session.refresh(message)
    assert message.sent_at is None and not message.failed
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error or "Errno" in message.last_error
    assert message.next_attempt_at >= before + timedelta(seconds=RETRY_DELAYS[0])
    assert smtp_server.messages == []

    # The server is back, but the retry is not due yet.
    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_pending() == (0, 0)
    assert smtp_server.messages == []

    # Time has passed.
    message.next_attempt_at = timeutil.now() - timedelta(seconds=1)
    db.session.commit()
    assert deliver_pending() == (1, 0)
    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 2 and message.last_error == ""
    assert len(smtp_server.messages) == 1


def test_marked_failed_after_max_attempts(app, smtp_server):
    message = queue_convention(app)
    app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=3)
    delays = []
    for _ in range(3):
        before = timeutil.now()
        assert deliver_pending() == (0, 1)
        db.session.refresh(message)
        delays.append(message.next_attempt_at - before)
        message.next_attempt_at = timeutil.now() - timedelta(seconds=1)
        db.session.commit()
    db.session.refresh(message)
    assert message.failed and message.attempts == 3 and message.sent_at is None
    assert delays[1] > delays[0]  # the delay grows between attempts
    # A failed message is no longer tried, even when the server is back.
    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_pending() == (0, 0)
    assert smtp_server.messages == []


def test_a_broken_message_does_not_block_the_others(app, smtp_server):
    broken = queue_convention(app, to="premier@example.org")
    (Path(app.instance_path) / "documents" / "convention.pdf").unlink()  # its attachment is gone
    with app.test_request_context():
        good = queue_mail("second@example.org", "Réinitialisation de votre mot de passe", "reset",
                          user=factories.user("staff", email="second@example.org"), link="http://localhost/x")
    db.session.commit()
    assert deliver_pending() == (1, 1)
    db.session.refresh(broken)
    db.session.refresh(good)
    assert good.sent_at is not None
    assert broken.sent_at is None and "FileNotFoundError" in broken.last_error
    assert [m["To"] for m in smtp_server.messages] == ["second@example.org"]


def test_a_malformed_message_is_set_aside_and_headers_cannot_be_injected(app, smtp_server):
    with app.test_request_context():
        bad = queue_mail("victime@example.org\nBcc: espion@evil.example", "Sujet", "reset",
                         user=factories.user("staff", email="victime@example.org"), link="http://localhost/x")
        good = queue_mail("victime@example.org", "Réinitialisation", "reset",
                          user=factories.user("staff", email="autre@example.org"), link="http://localhost/x")
    db.session.commit()
    assert deliver_pending() == (1, 1)
    db.session.refresh(bad)
    assert bad.sent_at is None and bad.attempts == 1 and bad.last_error.startswith("ValueError")
    assert good.sent_at is not None
    assert len(smtp_server.messages) == 1 and "Bcc" not in smtp_server.messages[0]


def test_a_message_claimed_by_another_sender_is_not_sent_twice(app, smtp_server):
    message = queue_convention(app)
    from aap.mail import _claim
    assert _claim(message.id, timeutil.now())  # another sender took it
    assert deliver_pending() == (0, 0)
    assert smtp_server.messages == []
    assert not _claim(message.id, timeutil.now())


def test_file_backend_writes_eml(app):
    app.config["MAIL_BACKEND"] = "file"
    message = queue_convention(app)
    assert deliver_pending() == (1, 0)
    [path] = Path(app.config["MAIL_FOLDER"]).glob(f"*-{message.id:06d}-*.eml")
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "tresorerie@asso-exemple.fr"
    assert "« 1 jeune 1 mentor »" in parsed.get_body(preferencelist=("plain",)).get_content()
    assert [a.get_filename() for a in parsed.iter_attachments()] == ["convention-été.pdf"]


def test_development_default_is_the_file_backend(tmp_path, monkeypatch):
    for name in ("MAIL_BACKEND", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = make_app(tmp_path, AAP_ENV="development")
    assert app.config["MAIL_BACKEND"] == "file"
    assert app.config["MAIL_SEND_AFTER_REQUEST"] is True
    production = make_app(tmp_path, AAP_ENV="production", SECRET_KEY="cle")
    assert production.config["MAIL_BACKEND"] == "smtp"


def test_sent_right_after_the_request_in_development(tmp_path):
    app = make_app(tmp_path, MAIL_BACKEND="file", MAIL_SEND_AFTER_REQUEST=True)
    with app.app_context():
        db.create_all()
        try:
            client = app.test_client()
            token_page = client.get("/inscription").get_data(as_text=True)
            token = token_page.split('name="csrf-token" content="')[1].split('"')[0]
            response = client.post("/inscription", data={
                "csrf_token": token, "first_name": "Léa", "last_name": "Dupré", "email": "lea@example.org",
                "password": "un-mot-de-passe-assez-long", "password_confirm": "un-mot-de-passe-assez-long",
                "association_name": "Les Ailes", "accept": "y"})
            assert response.status_code == 200
            response.close()
            files = list(Path(app.config["MAIL_FOLDER"]).glob("*.eml"))
            assert len(files) == 1
            assert "lea@example.org" in files[0].read_text()
            db.session.expire_all()
            assert factories.outbox()[0].sent_at is not None
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_console_backend(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    queue_convention(app)
    assert deliver_pending() == (1, 0)
    assert "tresorerie@asso-exemple.fr" in capsys.readouterr().err


def test_send_mail_command(app, smtp_server):
    queue_convention(app)
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 e-mail(s) envoyé(s), 0 en échec" in result.output
    assert len(smtp_server.messages) == 1
    db.session.expire_all()
    assert db.session.scalar(db.select(OutboxMessage.sent_at)) is not None


def test_send_mail_command_reports_failures(app, smtp_server):
    queue_convention(app)
    app.config["MAIL_PORT"] = free_port()
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "0 e-mail(s) envoyé(s), 1 en échec" in result.output


@pytest.mark.parametrize("template, context", [
    ("confirm", {"link": "http://localhost/l"}),
    ("reset", {"link": "http://localhost/l"}),
    ("invite", {"link": "http://localhost/l"}),
    ("signup_existing", {"login_link": "http://localhost/c", "reset_link": "http://localhost/r"}),
])
def test_account_templates_are_french_and_signed(app, applicant, staff, template, context):
    with app.test_request_context():
        message = queue_mail("x@example.org", "Sujet", template, user=applicant, inviter=staff, **context)
    assert message.body.startswith("Bonjour")
    assert "L'équipe AAP « 1 jeune 1 mentor »" in message.body
    for link in context.values():
        assert link in message.body
    db.session.rollback()


def test_the_outbox_imports_no_domain_and_renders_receipts_through_its_registry(app):
    """aap/mail.py knows no domain: the attachments rendered when the e-mail is built come from
    renderers registered at start-up (aap/documents registers the receipts); an unknown kind is
    refused rather than guessed."""
    import ast

    import aap.mail
    from aap.documents.receipt import render_receipt_attachment
    from aap.mail import ATTACHMENT_RENDERERS, build_email

    tree = ast.parse(Path(aap.mail.__file__).read_text())
    relative = {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level and node.module}
    domains = {"applications", "associations", "auth", "calls", "demo", "documents", "instruction", "review",
               "selection"}
    assert relative and not relative & domains, relative
    assert ATTACHMENT_RENDERERS["receipt"] is render_receipt_attachment
    message = OutboxMessage(to="a@example.org", subject="Test", body="Bonjour",
                            attachments=[{"kind": "inconnu", "filename": "x.pdf", "content_type": "application/pdf"}])
    with pytest.raises(ValueError, match="unknown attachment kind 'inconnu'"):
        build_email(message, app.config, app.instance_path)
