"""The 2025 call's follow-up in the demo (issue 18): where its winners stand on 3 December 2026.

The 2025 call decided in June 2025 (a 2025-2027 CPO): the conventions were issued in July 2025,
returned signed, countersigned and in force that summer; the 2025 advances and balances were paid
in 2025, the 2026 advances early in 2026. The 2025 reports were due on 30 June 2026: most are
accepted (each frees the 2026 balance, put to payment then paid), a few await review, one was
sent back for complements, one shows an underspend to recover, one is late (reminded before and
after its due date, its 2026 balance suspended). The 2026 reports are not due before 30 June 2027:
a few are drafts in progress. Five winners adjusted their budget only in November 2026
(build._adjust_budgets): their conventions, issued then, are not returned yet (one reminded).

The demo association's file (1J1M-2025-0136) walks every step through the services themselves
(aap/followup/: its real convention rendered, returned with a PAdES signature made here with a
throw-away certificate, countersigned with a second one, in force, payments, its 2025 report filed
with its pieces and accepted, its 2026 balance put to payment, its 2026 report in progress), run
« at » the story's dates (_clock). The other files are written in bulk, as the existing demo is:
each move checked against aap/transitions.py and recorded with the services' own action names.
Nothing is drawn from the demo's generator (a generator of its own): the rest stays the same.
The e-mails the services queue are dropped (the demo's addresses do not exist)."""
import hashlib
import io
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from .. import timeutil, transitions
from ..applications import files
from ..applications.deposits import fingerprint as snapshot_fingerprint
from ..documents import services as documents
from ..documents.data import fingerprint, winners
from ..extensions import db
from ..followup.pades import KIND_SCANNED
from ..followup.reports import build_report_snapshot
from ..models import Call, Convention, Event, PieceRequest, User
from ..models.followup import (
    DOCUMENT_ASSOCIATION_SIGNED,
    PAYMENT_ADVANCE,
    PAYMENT_BALANCE,
    ConventionDocument,
    ConventionState,
    PaymentLine,
    PaymentState,
    PlanFigure,
    Recovery,
    Report,
    ReportPiece,
    ReportState,
)
from ..models.mail import OutboxMessage
from .accounts import DEMO_ACCOUNTS
from .builder import DemoBuilder, a_place, ascii_slug, paris
from .pieces import pdf_page, piece_pdf

C, P, R = ConventionState, PaymentState, ReportState
STATE_SIGNATORY = "Sophie Lambert, sous-directrice des politiques de jeunesse (DJEPVA)"
N_SUBMITTED = 7        # 2025 reports awaiting review
N_DRAFTS_2026 = 4      # other 2026 reports in progress
STORY_END = date(2026, 12, 2)  # nothing of the story is dated after (the demo is shown from 3 December 2026)
COMPLEMENTS_DUE = date(2026, 12, 18)  # the complements asked for on 20 November 2026
# The reminders of the 2025 reports (call.report_reminder_days = 30): before, then after the due date.
REMINDER_BEFORE, REMINDER_AFTER = paris(2026, 5, 31, 7), paris(2026, 7, 1, 7)
ACCOUNTS = (
    "L'année a permis de former {pairs} binômes ; les mentors ont été formés en trois sessions et suivis "
    "chaque mois par la coordinatrice. Les partenariats avec les missions locales et les établissements "
    "scolaires ont orienté la plupart des jeunes ; les abandons ont surtout eu lieu au deuxième trimestre.",
    "Les {young} jeunes accompagnés l'ont été en majorité en face à face, à raison de deux rencontres par "
    "mois. La fin de l'année a été consacrée au bilan avec chaque binôme et au recrutement de nouveaux "
    "mentors dans les entreprises partenaires.",
    "Le programme a atteint l'essentiel de ses objectifs : {young} jeunes accompagnés par {mentors} mentors. "
    "La mobilisation des jeunes des quartiers prioritaires a demandé plus de temps que prévu ; un "
    "partenariat avec deux centres sociaux a été noué à l'automne.",
)
UNDERSPEND_EXPLANATION = ("Le recrutement du second coordinateur a été reporté à 2026 et une partie des "
                          "actions prévues au second semestre n'a pas eu lieu.")


# ---------------------------------------------------------------- helpers

def _dated_columns():
    """The columns the database dates by default (models.base.utcnow), which _clock re-dates."""
    return (Event.at, Report.updated_at, PaymentLine.updated_at, Recovery.created_at, Recovery.updated_at,
            PieceRequest.created_at, PlanFigure.updated_at)


@contextmanager
def _clock(at):
    """Run services as at `at`: they date what they do with timeutil.now(), frozen at `at` for this
    thread only (timeutil.frozen); what the database dates by default (the events, the rows'
    updated_at: models.base.utcnow, the real time) during the block is dated `at` afterwards."""
    db.session.flush()
    started = timeutil.now()
    with timeutil.frozen(at):
        yield
        db.session.flush()
    for column in _dated_columns():
        db.session.execute(update(column.class_).where(column >= started).values({column.key: at})
                           .execution_options(synchronize_session=False))


def _upload(data, name):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def _at(day, hour=10, minute=0):
    return paris(day.year, day.month, day.day, hour, minute)


def _move(b, subject, machine, to_state, actor, at, action, reason="", **details):
    """Move a follow-up row as its service would (the move must be in aap/transitions.py for the
    actor's role), recorded as events.change_state records it, dated `at`."""
    from_state = subject.state
    subject.state = machine.check(from_state, to_state, actor).target
    b.event(action, at, actor, subject.application, from_state=from_state, to_state=subject.state, reason=reason,
            subject=type(subject).__name__.lower(), subject_id=subject.id, **details)


def _chorus(rng):
    return "21" + "".join(rng.choice("0123456789") for _ in range(8))


def _store_pdf(data):
    stored = files.new_stored_name()
    files.write(stored, data)
    return stored, len(data), hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- PAdES signatures (the demo file)

def _signer(common_name, organisation):
    """A signer with a throw-away self-signed certificate (one EC key): the demo's PAdES."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(datetime(2025, 1, 1, tzinfo=timezone.utc))
                   .not_valid_after(datetime(2028, 12, 31, tzinfo=timezone.utc))
                   .sign(key, hashes.SHA256()))
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore())


def sign_pdf(data, signer, at, field, reason, location):
    """`data` signed (an incremental PAdES signature in a new field), its signing time `at`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    class DatedSigner(signers.PdfSigner):
        def init_signing_session(self, pdf_out, existing_fields_only=False):
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = at
            return session

    meta = signers.PdfSignatureMetadata(field_name=field, reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    return DatedSigner(meta, signer=signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data))).getvalue()


# ---------------------------------------------------------------- the reports' content

def _activity(rng, application, factor=None):
    """A year's activity, in the application's breakdown: {field: value} (REPORT_FIELDS)."""
    factor = factor or rng.uniform(0.82, 1.08)
    young = max(10, round((application.young_count or 60) * factor))
    mentors = max(5, min(young, round((application.mentor_count or young) * rng.uniform(0.75, 0.95))))
    pairs = min(young, mentors + rng.randint(0, max(1, young - mentors)))

    def part(share):
        return min(young, round(young * (share or 0) / 100 * rng.uniform(0.85, 1.1)))

    low, high = application.age_min or 16, application.age_max or 25
    shares = {"under_16": 0.3 if low < 16 else 0, "16_17": 0.2 if low < 18 else 0,
              "over_25": 0.06 if high > 25 else 0}
    ages = {band: round(young * share) for band, share in shares.items()}
    ages["18_25"] = young - sum(ages.values())
    values = {"young_count": young, "young_qpv": part(application.share_qpv), "young_frr": part(application.share_zrr),
              "young_ase": part(application.share_ase), "young_disability": part(application.share_disability),
              "young_dropout": part(application.share_dropout), "mentor_count": mentors, "pair_count": pairs,
              "average_duration_months": float(max(3, min(24, (application.mentoring_duration_months or 9)
                                                               + rng.choice([-1, 0, 0, 1])))),
              "departements": list(application.departements or [application.association.departement_code]),
              "account": rng.choice(ACCOUNTS).format(young=young, mentors=mentors, pairs=pairs)}
    values.update({f"age_{band}": count for band, count in ages.items()})
    return values


def _financial(rng, report, underspend=False):
    """The compte rendu financier against the year's granted budget: each charge achieved a little
    above its budget (no grant left unused), the products as granted; an underspent year spends some
    78 % of each charge, each gap explained."""
    from ..followup.reports import FINANCIAL_BY_CODE, FINANCIAL_FIELDS, SIDE_KEY, granted_budget
    values = {spec.name: None for spec in FINANCIAL_FIELDS}
    values.update(fin_comment="", audit_subject=False)
    for code, cents in granted_budget(report).items():
        line = FINANCIAL_BY_CODE.get(code)
        if line is None or not cents:
            continue
        achieved = cents
        if SIDE_KEY[line.side] == "charges" and code not in ("86", "87"):
            achieved = int(cents * (rng.uniform(0.76, 0.8) if underspend else rng.uniform(1.0, 1.05))) // 100 * 100
            if underspend:
                values[f"explain_{code}"] = UNDERSPEND_EXPLANATION
        values[f"fin_{code}"] = achieved
    return values


def _fill(report, values):
    from ..followup.reports import _write
    _write(report, values)


def _report_pieces(report, application, member, at):
    """Give the report its pieces, small PDFs stored like uploads."""
    for code, name, data in _piece_files(report, application):
        stored, size, sha256 = _store_pdf(data)
        report.pieces.append(ReportPiece(code=code, original_name=name, stored_name=stored, kind="pdf",
                                         content_type=files.KINDS["pdf"][0], size=size, sha256=sha256,
                                         uploaded_by_id=member.id, uploaded_at=at))


def _piece_files(report, application):
    """[(code, file name, PDF bytes)] of the report's pieces: its accounts, its activity report, and
    the auditor's report where required."""
    from ..followup.reports import required_pieces
    association = application.association
    slug = ascii_slug(association.acronym or association.name)[:30] or "association"
    texts = {
        "accounts": piece_pdf("comptes", association, application, report.year),
        "activity_report": piece_pdf("rapport_activite", association, application, report.year),
        "auditor_report": pdf_page(f"Rapport du commissaire aux comptes — exercice {report.year}", [
            association.name,
            f"Nous avons effectué l'audit des comptes annuels de l'association pour l'exercice clos le "
            f"31 décembre {report.year}. Nous certifions que les comptes annuels sont réguliers et sincères et "
            "donnent une image fidèle du résultat des opérations de l'exercice écoulé."]),
    }
    names = {"accounts": "comptes-annuels", "activity_report": "rapport-activite",
             "auditor_report": "rapport-commissaire-aux-comptes"}
    return [(code, f"{names[code]}-{report.year}-{slug}.pdf", texts[code]) for code in required_pieces(report)]


# ---------------------------------------------------------------- the build

def build_followup(seed=2025):
    """Write the 2025 call's follow-up (see the module's docstring); commits. Returns the summary
    lines."""
    b = DemoBuilder(f"followup-{seed}")
    rng = b.rng
    mark = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    emails = {role: email for email, role in DEMO_ACCOUNTS}
    users = {u.email: u for u in db.session.scalars(select(User).where(User.role.in_(("staff", "admin", "applicant"))))}
    staff, admin = users[emails["staff"]], users[emails["admin"]]
    colleague = users["mathieu.roussel@jeunesse-sports.example.org"]
    members = {u.association_id: u for u in sorted(users.values(), key=lambda u: u.id) if u.association_id}
    call = db.session.scalar(select(Call).where(Call.slug == "aap-2025"))
    applications = winners(call.id)
    demo_file = next(a for a in applications if a.association.acronym == "TMR")
    conventions = documents.number_conventions(applications)
    issuable = [a for a in applications if documents.budget_refusal(a) is None]
    late_start = paris(2026, 10, 1)
    latecomers = [a for a in issuable if a.decision.adjusted_at and a.decision.adjusted_at >= late_start]
    others = [a for a in issuable if a is not demo_file and a not in latecomers]
    b.event("conventions_bulk_started", paris(2025, 7, 1, 9, 30), staff, call=call)

    # ---- conventions of the summer 2025: issued, returned (scanned), countersigned, in force
    in_force = []
    for application in others:
        convention = conventions[application.id]
        member = members[application.association_id]
        issued = max(date(2025, 7, 1), timeutil.to_paris(application.decision.adjusted_at).date() + timedelta(days=1)
                     if application.decision.adjusted_at else date(2025, 7, 1))
        returned = issued + timedelta(days=rng.randint(3, 26))
        countersigned = returned + timedelta(days=rng.randint(2, 9))
        notified = countersigned + timedelta(days=1)
        _issue(convention, application, _at(issued, 10, rng.randint(0, 59)))
        if (returned - issued).days > call.convention_reminder_days:
            reminded = _at(issued + timedelta(days=call.convention_reminder_days + 1), 7)
            convention.reminded_at, convention.reminder_count = reminded, 1
            b.event("convention_reminded", reminded, None, application, number=convention.number, reminder=1)
        returned_at = _at(returned, rng.randint(9, 18), rng.randint(0, 59))
        stored, size, sha256 = _store_pdf(demo_scan(convention, application, returned))
        name = f"convention-{convention.number}-signee.pdf"
        db.session.add(ConventionDocument(
            convention=convention, kind=DOCUMENT_ASSOCIATION_SIGNED, original_name=name, stored_name=stored,
            size=size, sha256=sha256, uploaded_by_id=member.id, uploaded_at=returned_at,
            signature={"kind": KIND_SCANNED, "signatures": [], "checked_at": returned_at.isoformat()}))
        convention.association_signed_at = returned_at
        _move(b, convention, transitions.CONVENTION, C.ASSOCIATION_SIGNED, member, returned_at, "convention_returned",
              name=name, sha256=sha256, signature_kind="scanned")
        countersigned_at = _at(countersigned, 11, rng.randint(0, 59))
        actor = rng.choice([staff, colleague])
        convention.countersigned_at, convention.signed_at = countersigned_at, countersigned
        convention.state_signatory = STATE_SIGNATORY
        _move(b, convention, transitions.CONVENTION, C.COUNTERSIGNED, actor, countersigned_at,
              "convention_countersigned", day=countersigned.isoformat(), signatory=STATE_SIGNATORY, name=None)
        convention.commitment_number = "2103" + "".join(rng.choice("0123456789") for _ in range(6))
        b.event("convention_commitment_recorded", countersigned_at, actor, application, number=convention.number,
                commitment_number=convention.commitment_number, previous="")
        in_force_at = _at(notified, 9, rng.randint(0, 59))
        convention.in_force_at = in_force_at
        _move(b, convention, transitions.CONVENTION, C.IN_FORCE, actor, in_force_at, "convention_in_force")
        in_force.append((application, convention, actor))

    # ---- their payment lines and reports, as the services open them (dated when in force)
    from ..followup import payments, reports
    for application, convention, actor in in_force:
        with _clock(convention.in_force_at):
            payments.plan_payments(convention, actor)
            reports.open_reports(convention, actor)

    # ---- the demo association's file, through the services
    demo_convention = _demo_file(demo_file, members[demo_file.association_id], staff, colleague, rng)

    # ---- the latecomers: issued in November 2026, not returned; the first one reminded once
    first_latecomer = min(latecomers, key=lambda a: a.decision.adjusted_at)
    for application in latecomers:
        convention = conventions[application.id]
        issued = timeutil.to_paris(application.decision.adjusted_at).date() + timedelta(days=1)
        _issue(convention, application, _at(issued, 10, rng.randint(0, 59)))
        if application is first_latecomer:  # issued 4 November: reminded 15 days later, once so far
            reminded = convention.generated_at + timedelta(days=call.convention_reminder_days, hours=21)
            convention.reminded_at, convention.reminder_count = reminded, 1
            b.event("convention_reminded", reminded, None, application, number=convention.number, reminder=1)

    _payments_and_reports(b, rng, call, in_force, members, staff, colleague)
    db.session.execute(insert(Event), sorted(b.events, key=lambda e: (e["at"], e["action"])))
    # The plan's reference figures (young people accompanied in 2021 and 2024), shown on /pilotage.
    from ..pilotage.services import ensure_reference_figures
    with _clock(paris(2026, 9, 1, 10)):
        ensure_reference_figures(admin)
    # The services' e-mails: the demo's addresses do not exist, nothing is to send.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > mark))
    counts = dict(db.session.execute(select(Convention.state, func.count(Convention.id))
                                     .where(Convention.stored_name.is_not(None)).group_by(Convention.state)).all())
    summary = [f"Suivi de l'appel 2025 : {counts.get(C.IN_FORCE, 0)} conventions en vigueur, "
               f"{counts.get(C.ISSUED, 0)} émises non retournées ; la convention de "
               f"{demo_file.reference} est signée électroniquement ({demo_convention.number})."]
    db.session.commit()  # last: nothing read afterwards (a read would begin a writing transaction)
    return summary


def _issue(convention, application, at):
    """A convention issued on `at` as documents.services.store_convention records it (its data,
    their fingerprint, the file's name), without writing the file: rendering the demo's sixty-five
    conventions would take a quarter of a minute. The file being missing, its first download (or the
    call's archive) renders it from its issued data, frozen or not (documents.services.needs_render)."""
    data_fingerprint = fingerprint(documents.issued_convention_data(application, convention))
    convention.stored_name = f"{application.id}-{data_fingerprint[:20]}.pdf"
    convention.data_fingerprint, convention.generated_at = data_fingerprint, at


def demo_scan(convention, application, returned):
    """The copy « returned signed » of a bulk file: a one-page PDF that says what it is (no paper
    was signed in the demo), with what such a scan would show."""
    association = application.association
    return pdf_page(f"Exemplaire de démonstration : copie numérisée de la convention n° {convention.number} signée", [
        "Ce document tient lieu, dans les données de démonstration, de la copie numérisée que l'association "
        "aurait renvoyée : il n'est pas la convention. Le texte de la convention, tel qu'il a été émis, figure "
        "dans l'archive des conventions de l'appel (page « Documents de l'appel »).",
        ("h", "Ce que porterait la copie signée"),
        f"Convention n° {convention.number} entre l'État (DJEPVA) et {association.name}, "
        f"dossier {application.reference}.",
        f"Signée par {association.representative_name}, {association.representative_function.lower()}, "
        f"{a_place(association.commune)}, le {timeutil.format_date(returned)}."])


def _demo_file(application, member, staff, colleague, rng):
    """The demo association's convention, payments and reports, each step through its service."""
    from ..followup import payments, report_review, reports, signature
    issued_at = paris(2025, 7, 2, 10, 5)
    with _clock(issued_at):
        convention, path, _ = documents.ensure_convention(application)
    association = application.association
    returned_at = paris(2025, 7, 8, 16, 20)
    signed = sign_pdf(path.read_bytes(), _signer(association.representative_name, association.name), returned_at,
                      "Signature-association", "Signature de la convention par l'association",
                      association.commune)
    with _clock(returned_at):
        signature.return_signed(convention, _upload(signed, f"convention-{convention.number}-signee.pdf"), member)
    countersigned_at = paris(2025, 7, 15, 11, 40)
    countersigned = sign_pdf(signed, _signer("Sophie Lambert", "DJEPVA"), countersigned_at, "Signature-Etat",
                             "Signature de la convention pour l'État", "Paris")
    with _clock(countersigned_at):
        signature.countersign(convention, staff, day=countersigned_at.date(), signatory=STATE_SIGNATORY,
                              upload=_upload(countersigned, f"convention-{convention.number}-contresignee.pdf"))
    with _clock(paris(2025, 7, 16, 9, 5)):
        documents.record_commitment_number(convention, "2103457816", staff)
    with _clock(paris(2025, 7, 16, 9, 10)):
        signature.notify(convention, staff)
    lines = {(line.year, line.kind): line for line in convention.payments}
    for (year, kind), (requested, paid, reference) in {
            (2025, PAYMENT_ADVANCE): (date(2025, 7, 21), date(2025, 8, 4), "2100374512"),
            (2025, PAYMENT_BALANCE): (date(2025, 11, 5), date(2025, 11, 19), "2100412287"),
            (2026, PAYMENT_ADVANCE): (date(2026, 1, 14), date(2026, 1, 28), "2100455930")}.items():
        with _clock(_at(requested, 14)):
            payments.request_payment(lines[(year, kind)], colleague, day=requested, chorus_reference=reference)
        with _clock(_at(paid, 15)):
            payments.mark_paid(lines[(year, kind)], colleague, day=paid)
    report_2025, report_2026 = sorted(convention.reports, key=lambda r: r.year)[:2]
    with _clock(paris(2026, 5, 20, 18, 30)):
        values = _activity(rng, application, factor=0.94)
        values.update(_financial(rng, report_2025))
        reports.save_report(report_2025, values, member, report_2025.version)
    with _clock(paris(2026, 5, 26, 11)):
        for code, name, data in _piece_files(report_2025, application):
            reports.add_report_piece(report_2025, code, _upload(data, name), member)
    with _clock(paris(2026, 5, 27, 10, 14)):
        reports.submit_report(report_2025, member)
    with _clock(paris(2026, 6, 18, 15, 30)):
        report_review.accept_report(report_2025, staff)
    with _clock(_at(date(2026, 11, 24), 14)):
        payments.request_payment(lines[(2026, PAYMENT_BALANCE)], colleague, day=date(2026, 11, 24),
                                 chorus_reference="2100533406")
    with _clock(paris(2026, 11, 27, 17, 45)):
        values = _activity(rng, application, factor=0.97)
        draft = {name: values[name] for name in ("young_count", "young_qpv", "young_frr", "mentor_count",
                                                  "pair_count", "departements")}
        reports.save_report(report_2026, draft, member, report_2026.version)
    return convention


def _payments_and_reports(b, rng, call, in_force, members, staff, colleague):
    """The bulk files' payments and reports (the demo file's are made by its services)."""
    from ..followup import report_review
    order = list(in_force)
    rng.shuffle(order)
    roles = ["late", "complements", "recovery"] + ["awaiting_review"] * N_SUBMITTED
    roles += ["accepted"] * (len(order) - len(roles))
    role_of = {entry[1].id: role for entry, role in zip(order, roles)}
    recovery = order[2]
    drafts_2026 = {convention.id for _, convention, _ in order[-N_DRAFTS_2026:]}
    review = []  # (report, state to reach, day): the reviews made through their services
    db.session.flush()
    db.session.scalars(select(Convention).where(Convention.id.in_([c.id for _, c, _ in in_force]))
                       .options(selectinload(Convention.payments),
                                selectinload(Convention.reports).selectinload(Report.pieces))).all()
    with db.session.no_autoflush:
        for entry in in_force:
            review.append(_bulk_file(b, rng, entry, members[entry[0].association_id], staff, colleague,
                                     role_of[entry[1].id], entry[1].id in drafts_2026))
    # The reviews, in their order, through report_review's services; each accepted report frees
    # the 2026 balance, put to payment then paid (the last ones not paid yet).
    db.session.flush()

    # The reviews, in their order, through report_review's services; each accepted report frees
    # the 2026 balance, put to payment then paid (the last ones not paid yet).
    db.session.flush()
    review = sorted((entry for entry in review if entry), key=lambda entry: entry[2])
    for report, state, at in review:
        actor = rng.choice([staff, colleague])
        with _clock(at):
            if state == R.INCOMPLETE:
                report_review.request_complements(
                    report, actor, due_on=COMPLEMENTS_DUE,
                    message="Le rapport d'activité joint est celui de 2024 : merci de déposer le rapport d'activité "
                            "2025 approuvé par votre assemblée générale.")
                continue
            report_review.accept_report(report, actor)
            if report.convention_id == recovery[1].id:
                report_review.record_recovery(report, actor,
                                              amount_cents=report_review.suggested_recovery_cents(report),
                                              reason="Subvention 2025 non employée en totalité (charges réalisées "
                                                     "inférieures au budget accordé) : la part excédentaire est à "
                                                     "reverser.")
        if report.convention_id == recovery[1].id:
            with _clock(at + timedelta(days=26)):
                report_review.update_recovery(report.recovery, actor, to_state="issued",
                                              title_reference="TP-2026-004817", day=(at + timedelta(days=26)).date())
        balance = next(line for line in report.convention.payments
                       if line.year == 2026 and line.kind == PAYMENT_BALANCE)
        requested = max(timeutil.to_paris(at).date() + timedelta(days=rng.randint(3, 10)), date(2026, 7, 1))
        if requested <= STORY_END:
            paid = requested + timedelta(days=rng.randint(8, 25))
            _pay(b, balance, colleague, requested, paid if paid <= STORY_END else None, rng)


def _bulk_file(b, rng, entry, member, staff, colleague, role, draft_2026):
    """One bulk file's payments and reports, its 2025 report in `role` (late, complements, recovery,
    submitted or accepted). Returns the review to make through its service: (report, state, at) or None."""
    reminder_before, reminder_after = REMINDER_BEFORE, REMINDER_AFTER
    application, convention, _actor = entry
    review = None
    lines = {(line.year, line.kind): line for line in convention.payments}
    # 2025 advance (at entry into force), 2025 balance (November), 2026 advance (January-February)
    in_force_day = timeutil.to_paris(convention.in_force_at).date()
    for key, requested in (((2025, PAYMENT_ADVANCE), in_force_day + timedelta(days=rng.randint(4, 14))),
                           ((2025, PAYMENT_BALANCE), date(2025, 11, rng.randint(3, 12))),
                           ((2026, PAYMENT_ADVANCE), date(2026, 1, rng.randint(8, 30)))):
        _pay(b, lines[key], colleague, requested, requested + timedelta(days=rng.randint(8, 18)), rng)
    report = next(r for r in convention.reports if r.year == 2025)
    due_on = report.due_on
    if role == "late":
        report.reminded_before_at, report.reminded_after_at = reminder_before, reminder_after
        report.updated_at = reminder_after
        for at, is_late in ((reminder_before, False), (reminder_after, True)):
            b.event("report_reminder_sent", at, None, application, subject="report", subject_id=report.id,
                    year=2025, late=is_late, due_on=due_on.isoformat())
        reason = "Compte rendu 2025 non déposé malgré les relances : le solde 2026 est suspendu."
        _move(b, lines[(2026, PAYMENT_BALANCE)], transitions.PAYMENT, P.SUSPENDED, staff, paris(2026, 9, 15, 10),
              "payment_suspended", reason=reason, year=2026, kind=PAYMENT_BALANCE,
              amount_cents=lines[(2026, PAYMENT_BALANCE)].amount_cents)
        lines[(2026, PAYMENT_BALANCE)].suspended_reason = reason
        lines[(2026, PAYMENT_BALANCE)].updated_at = paris(2026, 9, 15, 10)
    else:
        if role == "awaiting_review":
            day = date(2026, 6, 15) + timedelta(days=rng.randint(0, 150))
        elif role == "complements":
            day = date(2026, 6, 26)
        else:
            day = date(2026, 3, 20) + timedelta(days=rng.randint(0, 100))
        day = min(day, date(2026, 11, 25))
        submitted_at = _at(day, rng.randint(9, 19), rng.randint(0, 59))
        _fill(report, _activity(rng, application))
        _fill(report, _financial(rng, report, underspend=role == "recovery"))
        _report_pieces(report, application, member, submitted_at - timedelta(hours=1))
        if submitted_at > reminder_before:
            report.reminded_before_at = reminder_before
            b.event("report_reminder_sent", reminder_before, None, application, subject="report",
                    subject_id=report.id, year=2025, late=False, due_on=due_on.isoformat())
        snapshot = build_report_snapshot(report, submitted_at)
        report.snapshot, report.fingerprint = snapshot, snapshot_fingerprint(snapshot)
        report.submitted_at, report.submitted_by_id, report.updated_at = submitted_at, member.id, submitted_at
        b.event("report_submitted", submitted_at, member, application,
                from_state=R.DRAFT, to_state=R.SUBMITTED, subject="report", subject_id=report.id, year=2025,
                fingerprint=report.fingerprint, late=snapshot["late"])
        transitions.REPORT.check(report.state, R.SUBMITTED, member)
        report.state = R.SUBMITTED
        if role == "complements":
            review = (report, R.INCOMPLETE, paris(2026, 11, 20, 15))
        elif role in ("accepted", "recovery"):
            reviewed = min(day + timedelta(days=rng.randint(12, 110)), date(2026, 11, 27))
            review = (report, R.ACCEPTED, _at(reviewed, 15, rng.randint(0, 59)))
    if draft_2026:
        report_2026 = next(r for r in convention.reports if r.year == 2026)
        values = _activity(rng, application)
        _fill(report_2026, {name: values[name] for name in ("young_count", "mentor_count", "departements")})
        report_2026.updated_at, report_2026.updated_by_id = paris(2026, 11, rng.randint(2, 28), 18), member.id
        report_2026.version = 2
        b.event("report_draft_saved", report_2026.updated_at, member, application, report_id=report_2026.id,
                year=2026, fields=["departements", "mentor_count", "young_count"], version=2)
    return review


def _pay(b, line, actor, requested, paid, rng):
    """Put a line to payment on `requested`, paid on `paid` (None: not yet), as payments.py does."""
    if line.state != P.PLANNED:
        return
    line.requested_on, line.chorus_reference = requested, _chorus(rng)
    _move(b, line, transitions.PAYMENT, P.REQUESTED, actor, _at(requested, 14), "payment_requested",
          year=line.year, kind=line.kind, amount_cents=line.amount_cents, day=requested.isoformat(),
          chorus_reference=line.chorus_reference)
    if paid is not None:
        line.paid_on = paid
        _move(b, line, transitions.PAYMENT, P.PAID, actor, _at(paid, 15), "payment_paid", year=line.year,
              kind=line.kind, amount_cents=line.amount_cents, day=paid.isoformat())
    line.updated_by_id, line.updated_at = actor.id, _at(paid or requested, 15)
