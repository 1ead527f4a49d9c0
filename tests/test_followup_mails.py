"""The subjects of the follow-up's e-mails (aap/followup/*.py): every one, to the association or
to staff, reads « [reference of the file] text », as every mail about a file does
(aap/instruction/services.mail_subject) — never « text — reference » nor « text : reference »."""
import io
import re
from datetime import timedelta

from werkzeug.datastructures import FileStorage

from aap import timeutil
from aap.extensions import db
from aap.followup import amendments, payments, report_review, signature
from aap.followup import reports as R
from aap.models import OutboxMessage
from aap.models.followup import ConventionState, PaymentState

from . import factories, factories_documents, factories_followup
from .test_followup_pades import minimal_pdf
from .test_followup_reports import _complete


def _signed_pdf():
    return FileStorage(stream=io.BytesIO(minimal_pdf()), filename="signee.pdf", content_type="application/pdf")


def _subjects_since(start):
    return [(mail.to, mail.subject) for mail in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.id > start).order_by(OutboxMessage.id))]


def test_every_follow_up_mail_subject_is_the_reference_in_brackets_then_the_text(app, applicant, staff):
    today = timeutil.to_paris(timeutil.now()).date()
    call = factories.call(slug="aap-objets", year=today.year - 1, years=2, advance_percent=50)
    application = factories_documents.winner(call, applicant.association, amount_cents=40_000_00,
                                             per_year=[20_000_00, 20_000_00])
    convention = factories_followup.convention(application, ConventionState.ISSUED)
    convention.stored_name = f"{application.id}-test.pdf"
    convention.generated_at = timeutil.now() - timedelta(days=20)
    db.session.commit()
    start = db.session.scalar(db.select(db.func.max(OutboxMessage.id))) or 0

    def step(action, *args, **kwargs):
        result = action(*args, **kwargs)
        db.session.commit()
        return result

    # signature: reminder, returned (staff), refused, returned again, countersigned, in force
    step(signature.send_convention_reminders)
    step(signature.return_signed, convention, _signed_pdf(), applicant)
    step(signature.refuse_return, convention, staff, "La page 3 n'est pas paraphée.")
    step(signature.return_signed, convention, _signed_pdf(), applicant)
    step(signature.countersign, convention, staff, day=today, signatory="Jeanne Martin")
    step(signature.notify, convention, staff)
    # payments: put to payment, paid, suspended
    advance, other = [line for line in convention.payments if line.state == PaymentState.PLANNED][:2]
    step(payments.request_payment, advance, staff, day=today)
    step(payments.mark_paid, advance, staff, day=today)
    step(payments.suspend, other, staff, "Changement de RIB en cours")
    # amendment: issued, returned (staff), refused
    amendment = step(amendments.create_amendment, convention, staff, reason="Extension du projet",
                     amount_per_year=[20_000_00, 25_000_00])
    step(signature.return_signed, amendment, _signed_pdf(), applicant)
    step(signature.refuse_return, amendment, staff, "Non signé.")
    # the first year's report: late reminder, submitted, complements, submitted again, accepted, recovery
    report = next(report for report in convention.reports if report.year == call.year)
    report_review.send_report_reminders()
    _complete(report, applicant)
    step(R.submit_report, report, applicant)
    step(report_review.request_complements, report, staff, message="Le bilan manque.", due_on=today + timedelta(15))
    step(R.submit_report, report, applicant)
    step(report_review.accept_report, report, staff)
    recovery = step(report_review.record_recovery, report, staff, amount_cents=1_000_00, reason="Reliquat")
    step(report_review.update_recovery, recovery, staff, to_state="issued", title_reference="T-42", day=today)
    step(signature.terminate, convention, staff, "Activité arrêtée")

    sent = _subjects_since(start)
    reference = re.escape(application.reference)
    shape = re.compile(rf"^\[{reference}\] [A-ZÉÈÀ][^\[\]]*$")
    wrong = [subject for _to, subject in sent if not shape.match(subject) or subject.count(application.reference) != 1]
    assert not wrong, wrong
    texts = {subject.split("] ", 1)[1] for _to, subject in sent}
    staff_texts = {subject.split("] ", 1)[1] for to, subject in sent if to == staff.email}
    association = application.association.name
    for expected in ("Convention à renvoyer signée", "Convention à renvoyer signée à nouveau",
                     f"La convention {convention.number} est en vigueur",
                     f"Versement mis en paiement : avance {call.year}", f"Versement effectué : avance {call.year}",
                     "Avenant n° 1 à votre convention à signer", "Avenant n° 1 à renvoyer signé à nouveau",
                     f"Compte rendu {call.year} en retard", f"Compte rendu annuel {call.year} déposé",
                     f"Compte rendu {call.year} : des compléments sont demandés",
                     f"Votre compte rendu {call.year} est accepté",
                     f"Reversement sur le compte rendu {call.year} : titre de perception émis",
                     "Convention résiliée"):
        assert expected in texts, (expected, sorted(texts))
    assert any(text.startswith("Versement suspendu : ") for text in texts)
    assert {f"Convention signée par {association}", f"Avenant n° 1 signé par {association}",
            f"Compte rendu annuel {call.year} déposé (en retard)"} <= staff_texts, sorted(staff_texts)
