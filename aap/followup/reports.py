"""The yearly reports of a convention, the association's side: one report per year of the grant,
due a number of months after the year's end (Call.report_due_months, six by default: 30 June of
the next year); drafted with autosave, checked for completeness, then submitted with a receipt.
Staff review them in report_review.py."""
import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from .. import events, timeutil
from ..applications import budget as B
from ..applications import files
from ..applications import sections as S
from ..applications.attachments import checked_upload
from ..applications.deposits import fingerprint as snapshot_fingerprint
from ..applications.deposits import jsonable
from ..applications.drafts import draft_saves, merge_fields
from ..applications.errors import ApplicationError, AttachmentError, NotEditable
from ..database import lock
from ..documents.data import report_due_on
from ..extensions import db
from ..instruction.services import mail_subject
from ..mail import queue_mail, register_attachment_renderer
from ..models import PieceRequest
from ..models.followup import REPORT_PIECES, ConventionState, Report, ReportPiece, ReportState


def convention_years(convention):
    """The years a convention covers and grants something for: the call's, or as many as the
    decision's per-year amounts when an amendment extended them, less the years whose amount is 0
    (an amendment that took a year's grant away: no report is due for it)."""
    application = convention.application
    call = application.call
    decision = application.decision
    per_year = list(decision.amount_per_year or []) if decision else []
    count = max(int(call.years or 1), len([x for x in per_year if x is not None]), 1)
    return [call.year + i for i in range(count)
            if not (i < len(per_year) and per_year[i] is not None and int(per_year[i]) == 0)]


def open_reports(convention, actor):
    """Create the reports a convention awaits, one per year it grants something for, and none
    twice (idempotent: called when it comes into force and again when an amendment changes its
    years or amounts). The report of a year whose amount an amendment brought to 0 is removed
    only while untouched (a draft never saved, without pieces); one filled, submitted or
    accepted stays. Returns the reports created."""
    call = convention.application.call
    reports = db.session.scalars(select(Report).where(Report.convention_id == convention.id)).all()
    years = convention_years(convention)
    untouched = [report for report in reports if report.year not in years and report.state == ReportState.DRAFT
                 and report.version == 1 and not report.pieces]
    for report in untouched:
        db.session.delete(report)
    if untouched:
        db.session.flush()
        for report in untouched:
            events.record("report_closed", actor=actor, application=convention.application,
                          subject="convention", subject_id=convention.id, year=report.year)
    existing = {report.year for report in reports}
    created = []
    for year in years:
        if year in existing:
            continue
        report = Report(convention=convention, year=year, due_on=report_due_on(year, call.report_due_months))
        db.session.add(report)
        created.append(report)
    if created:
        db.session.flush()
        events.record("report_opened", actor=actor, application=convention.application,
                      subject="convention", subject_id=convention.id,
                      years=[report.year for report in created])
    return created


# --- The report's fields ------------------------------------------------------------------------
# One flat list of fields (the application's FieldSpec), whatever they are stored in: the counts
# are columns, the age bands keys of Report.ages, the amounts and explanations of the compte rendu
# financier keys of Report.financial. The form, the three-way merge of drafts (applications.drafts
# .merge_fields), the completeness list and the snapshot all read them.

AGE_BANDS = (("under_16", "Moins de 16 ans"), ("16_17", "16 ou 17 ans"), ("18_25", "De 18 à 25 ans"),
             ("over_25", "Plus de 25 ans"))
BREAKDOWN = (
    ("young_qpv", "dont jeunes des quartiers prioritaires de la politique de la ville (QPV)"),
    ("young_frr", "dont jeunes résidant en zone France Ruralités Revitalisation (FRR, ex-ZRR)"),
    ("young_ase", "dont jeunes relevant de l'aide sociale à l'enfance (ASE)"),
    ("young_disability", "dont jeunes en situation de handicap"),
    ("young_dropout", "dont jeunes sortis du système scolaire ou de formation"),
)
MAX_DURATION_MONTHS = 60
GAP_PERCENT = 15   # a gap over 15 % of the granted amount, either way, is to explain (Cerfa 15059)
# Code de commerce, article L612-4, and décret n° 2006-335 du 21 mars 2006 (article D612-5): an
# association receiving more than 153 000 € of public grants (« subventions » from the State, local
# authorities and public bodies) in a year appoints an auditor (commissaire aux comptes) and
# publishes its accounts with the auditor's report.
AUDIT_THRESHOLD_CENTS = 153_000_00
# The lines of products that are public grants (line 74 but private aid).
PUBLIC_GRANT_LINES = tuple(line.code for line in B.LINES if line.group == "74" and line.code != "74_prive")

# The natures of Cerfa 15059 (« compte rendu financier de subvention »): those of the application's
# budget (Cerfa 12156, applications/budget.py), and line 77 (produits exceptionnels), which 15059
# lists for the accounts of the year.
FINANCIAL_LINES = (*B.LINES[:B.CODES.index("78")],
                   B.Line("77", "77 – Produits exceptionnels", B.PRODUCTS),
                   *B.LINES[B.CODES.index("78"):])
FINANCIAL_BY_CODE = {line.code: line for line in FINANCIAL_LINES}
SIDE_KEY = {B.CHARGES: "charges", B.KIND_CHARGES: "charges", B.PRODUCTS: "products", B.KIND_PRODUCTS: "products"}

ACTIVITY_FIELDS = (
    S.FieldSpec("young_count", "Nombre de jeunes accompagnés dans l'année", "int"),
    *(S.FieldSpec(name, label, "int") for name, label in BREAKDOWN),
    *(S.FieldSpec(f"age_{band}", label, "int") for band, label in AGE_BANDS),
    S.FieldSpec("mentor_count", "Nombre de mentors actifs", "int"),
    S.FieldSpec("pair_count", "Nombre de binômes formés", "int",
                hint="Un binôme réunit un mentor et un jeune : pas plus de binômes que de jeunes accompagnés."),
    S.FieldSpec("average_duration_months", "Durée moyenne de l'accompagnement (en mois)", "months",
                hint=f"Entre 0 et {MAX_DURATION_MONTHS} mois, une décimale au plus (par exemple 7,5)."),
    S.FieldSpec("departements", "Départements où des jeunes ont été accompagnés", "departements"),
    S.FieldSpec("account", "Bilan qualitatif de l'année", "textarea",
                hint="Ce qui a marché, les difficultés, les partenariats, les suites données."),
)
FINANCIAL_FIELDS = (
    *(S.FieldSpec(f"fin_{line.code}", line.label, "money", mandatory=False) for line in FINANCIAL_LINES),
    *(S.FieldSpec(f"explain_{line.code}", f"Explication de l'écart : {line.label}", "textarea", mandatory=False)
      for line in FINANCIAL_LINES),
    S.FieldSpec("fin_comment", "Observations sur le compte rendu financier", "textarea", mandatory=False),
    S.FieldSpec("audit_subject", "L'association a reçu plus de 153 000 € de subventions publiques dans l'année "
                "(toutes subventions confondues) : elle a un commissaire aux comptes", "checkbox", mandatory=False),
)
REPORT_FIELDS = ACTIVITY_FIELDS + FINANCIAL_FIELDS
FIELD_BY_NAME = {spec.name: spec for spec in REPORT_FIELDS}
EDITABLE_STATES = (ReportState.DRAFT, ReportState.INCOMPLETE)


def stored_value(report, spec):
    """A field's value as stored (None when empty)."""
    name = spec.name
    financial = report.financial or {}
    if name.startswith("age_"):
        return (report.ages or {}).get(name.removeprefix("age_"))
    if name.startswith("fin_") and name != "fin_comment":
        code = name.removeprefix("fin_")
        return (financial.get(SIDE_KEY[FINANCIAL_BY_CODE[code].side]) or {}).get(code)
    if name.startswith("explain_"):
        return (financial.get("explanations") or {}).get(name.removeprefix("explain_"), "")
    if name == "fin_comment":
        return financial.get("comment", "")
    if name == "audit_subject":
        return bool(financial.get("audit_subject"))
    if name == "average_duration_months":
        return report.duration
    if name == "departements":
        return list(report.departements or [])
    if name == "account":
        return report.account or ""
    return getattr(report, name)


def _write(report, changes):
    ages, financial = dict(report.ages or {}), {k: (dict(v) if isinstance(v, dict) else v)
                                               for k, v in (report.financial or {}).items()}
    for name, value in changes.items():
        if name.startswith("age_"):
            _put(ages, name.removeprefix("age_"), value)
        elif name.startswith("fin_") and name != "fin_comment":
            code = name.removeprefix("fin_")
            _put(financial.setdefault(SIDE_KEY[FINANCIAL_BY_CODE[code].side], {}), code, value)
        elif name.startswith("explain_"):
            _put(financial.setdefault("explanations", {}), name.removeprefix("explain_"), value or None)
        elif name == "fin_comment":
            financial["comment"] = value or ""
        elif name == "audit_subject":
            financial["audit_subject"] = bool(value)
        else:
            setattr(report, name, value)
    report.ages, report.financial = ages, financial


def _put(mapping, key, value):
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


# --- Checks -------------------------------------------------------------------------------------

def value_errors(values):
    """{field: French message} of the rules between fields of the activity, on the values given
    ({field: value}, None when empty): each part of the breakdown and the binômes at most the young
    people accompanied, the age bands adding up to them. Used by the form (next to the field) and
    by the completeness list."""
    errors = {}
    young = values.get("young_count")
    if young is None:
        return errors
    for name, _label in BREAKDOWN:
        if values.get(name) is not None and values[name] > young:
            errors[name] = f"Ce nombre ne peut pas dépasser celui des jeunes accompagnés ({young})."
    if values.get("pair_count") is not None and values["pair_count"] > young:
        errors["pair_count"] = (f"Il ne peut pas y avoir plus de binômes que de jeunes accompagnés ({young}) : "
                                "chaque binôme réunit un jeune et un mentor.")
    bands = [values.get(f"age_{band}") for band, _label in AGE_BANDS]
    if all(v is not None for v in bands) and sum(bands) != young:
        errors[f"age_{AGE_BANDS[-1][0]}"] = (f"Les tranches d'âge totalisent {sum(bands)} jeunes : elles doivent "
                                             f"totaliser le nombre de jeunes accompagnés ({young}).")
    return errors


# --- The compte rendu financier: the granted budget beside what was achieved --------------------

def granted_budget(report):
    """{line code: cents} of the year's budget as granted: the budget the convention annexes (the
    adjusted one, else the deposited one: documents.data.budget_as_granted), its grant line set to
    the amount granted that year; {} for a year beyond the budget (extended by an amendment)."""
    from ..documents.data import amounts_per_year, budget_as_granted
    application = report.application
    years = max(int(application.call.years or 1), 1)
    amounts = amounts_per_year(application.decision, years)
    budget = budget_as_granted(application, amounts) or B.with_grant(
        application.decision.adjusted_budget or application.budget or {}, amounts, years)
    return dict(budget.get(str(report.year - application.call.year + 1)) or {})


def granted_amount(report):
    """The grant of the report's year, in cents (0 for a year without one)."""
    from ..documents.data import amounts_per_year
    application = report.application
    amounts = amounts_per_year(application.decision, max(int(application.call.years or 1), 1))
    rank = report.year - application.call.year
    return int(amounts[rank]) if 0 <= rank < len(amounts) else 0


@dataclass
class FinancialRow:
    line: B.Line
    granted: int            # cents
    achieved: int | None    # cents, None when not typed
    explanation: str

    @property
    def gap(self):
        return None if self.achieved is None else self.achieved - self.granted

    @property
    def gap_percent(self):
        """The gap in % of the granted amount (None when nothing was granted on that line)."""
        if self.gap is None or not self.granted:
            return None
        return round(self.gap * 100 / self.granted, 1)

    @property
    def needs_explanation(self):
        """A gap over 15 % of the granted amount, either way (or an amount on a line that had none)."""
        if self.gap is None or self.gap == 0:
            return False
        return not self.granted or abs(self.gap) * 100 > GAP_PERCENT * self.granted

    @property
    def shown(self):
        return bool(self.granted or self.achieved or self.explanation)


def financial_rows(report, granted=None):
    """[FinancialRow] of every nature, in the order of Cerfa 15059."""
    granted = granted_budget(report) if granted is None else granted
    return [FinancialRow(line, int(granted.get(line.code) or 0),
                         stored_value(report, FIELD_BY_NAME[f"fin_{line.code}"]),
                         stored_value(report, FIELD_BY_NAME[f"explain_{line.code}"]) or "")
            for line in FINANCIAL_LINES]


def financial_totals(rows):
    """{side: (granted, achieved)} in cents, per side of the table (charges, products, in kind)."""
    totals = {}
    for row in rows:
        granted, achieved = totals.get(row.line.side, (0, 0))
        totals[row.line.side] = (granted + row.granted, achieved + (row.achieved or 0))
    return totals


def public_grants_cents(report):
    """The public grants of the year as the report declares them: this grant plus the public
    co-funding achieved (line 74 but private aid)."""
    rows = {row.line.code: row for row in financial_rows(report)}
    cofunding = sum(rows[code].achieved or 0 for code in PUBLIC_GRANT_LINES if code != B.GRANT)
    return granted_amount(report) + cofunding


def auditor_required(report):
    """The auditor's report is a piece of the report when the association ticked that it has an
    auditor, or when this grant and the public co-funding it declares exceed 153 000 € (L612-4)."""
    return bool((report.financial or {}).get("audit_subject")) or public_grants_cents(report) > AUDIT_THRESHOLD_CENTS


def required_pieces(report):
    codes = ["accounts", "activity_report"]
    if auditor_required(report):
        codes.append("auditor_report")
    return codes


# --- Completeness --------------------------------------------------------------------------------

def missing_report_items(report):
    """What prevents the report from being submitted: [(anchor, French label)], in the order of
    the form (the anchor is the id of the field or piece to go to)."""
    items = []
    for spec in ACTIVITY_FIELDS:
        value = stored_value(report, spec)
        if value is None or value == "" or value == [] or (spec.kind == "textarea" and not value.strip()):
            items.append((spec.name, f"Activité : {spec.label}"))
    values = {spec.name: stored_value(report, spec) for spec in ACTIVITY_FIELDS}
    for name, message in value_errors(values).items():
        items.append((name, f"Activité : {FIELD_BY_NAME[name].label} — {message}"))
    rows = financial_rows(report)
    for row in rows:
        if row.achieved is None and (row.granted or row.line.code == B.GRANT):
            items.append((f"fin_{row.line.code}",
                          f"Compte rendu financier : le montant réalisé de « {row.line.label} » "
                          "(0 s'il n'y a rien eu)"))
        elif row.needs_explanation and not row.explanation.strip():
            percent = (f"{row.gap_percent:+.1f} %".replace(".", ",") if row.gap_percent is not None
                       else "une ligne sans budget accordé")
            items.append((f"explain_{row.line.code}",
                          f"Compte rendu financier : expliquez l'écart sur « {row.line.label} » ({percent}) — "
                          f"tout écart de plus de {GAP_PERCENT} % au budget accordé, en plus ou en moins, "
                          "doit être expliqué"))
    present = {piece.code for piece in report.pieces}
    for code in required_pieces(report):
        if code not in present:
            items.append((f"piece-{code}", f"Pièce : {REPORT_PIECES[code]}"))
    return items


# --- Drafts --------------------------------------------------------------------------------------

def is_editable(report):
    return report.state in EDITABLE_STATES and report.convention.state != ConventionState.TERMINATED


def save_report(report, data, actor, version, bases=None, choices=None):
    """Save the report's fields this page changed, as a draft (autosave or the form's button):
    the three-way merge of the application's drafts (applications.drafts.merge_fields), with the
    same conflict detection between tabs and members. `data`: {field: clean value} of the page's
    valid fields (REPORT_FIELDS). Editable while a draft, or while complements are asked for; never
    once submitted or accepted. Commits (the top-level unit of work of an autosave)."""
    report = lock(report)
    if not is_editable(report):
        db.session.rollback()
        raise NotEditable("Ce compte rendu n'est plus modifiable.")
    application = report.application
    saves = draft_saves(application.id, "report_draft_saved", report_id=report.id)
    result = merge_fields([spec for spec in REPORT_FIELDS if spec.name in data], data,
                          lambda spec: stored_value(report, spec), report.version, version, saves, actor,
                          bases, choices)
    if not result.changed:
        db.session.rollback()
        return result
    _write(report, result.changes)
    report.version += 1
    report.updated_at = result.saved_at
    report.updated_by_id = actor.id
    events.record("report_draft_saved", actor=actor, application=application, report_id=report.id,
                  year=report.year, fields=sorted(result.changes), version=report.version)
    result.version = report.version
    db.session.commit()
    return result


# --- Pieces --------------------------------------------------------------------------------------

PIECE_KINDS = ("pdf", "odt", "docx", "ods", "xlsx", "jpeg", "png")


def add_report_piece(report, code, upload, actor):
    """Store a piece of the report (replacing the previous one of that code), checked as a file's
    pieces are (applications.attachments.checked_upload: size, content, active PDF). Commits."""
    if code not in REPORT_PIECES:
        raise AttachmentError("Cette pièce n'est pas demandée pour le compte rendu.")
    report = lock(report)
    if not is_editable(report):
        db.session.rollback()
        raise NotEditable("Ce compte rendu n'est plus modifiable.")
    data, kind = checked_upload(upload.stream, PIECE_KINDS)
    stored = files.new_stored_name()
    files.write(stored, data)
    previous = [piece for piece in report.pieces if piece.code == code]
    try:
        piece = ReportPiece(report=report, code=code, original_name=files.display_name(upload.filename, kind),
                            stored_name=stored, kind=kind, content_type=files.KINDS[kind][0], size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.id,
                            uploaded_at=timeutil.now())
        for old in previous:
            report.pieces.remove(old)
        db.session.add(piece)
        events.record("report_piece_replaced" if previous else "report_piece_added", actor=actor,
                      application=report.application, report_id=report.id, year=report.year,
                      piece=REPORT_PIECES[code], name=piece.original_name, sha256=piece.sha256)
        report.updated_at, report.updated_by_id = timeutil.now(), actor.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    for old in previous:
        files.remove(old.stored_name)
    return piece


def remove_report_piece(piece, actor):
    report = lock(piece.report)
    if not is_editable(report):
        db.session.rollback()
        raise NotEditable("Ce compte rendu n'est plus modifiable.")
    stored = piece.stored_name
    events.record("report_piece_deleted", actor=actor, application=report.application, report_id=report.id,
                  year=report.year, piece=piece.label, name=piece.original_name)
    report.pieces.remove(piece)
    db.session.commit()
    files.remove(stored)


# --- Submission ----------------------------------------------------------------------------------

def past_due(report, today=None):
    """Past its due date: not submitted by then (submitted late, or still not submitted)."""
    if report.submitted_at is not None:
        return timeutil.to_paris(report.submitted_at).date() > report.due_on
    today = today or timeutil.to_paris(timeutil.now()).date()
    return report.state in EDITABLE_STATES and today > report.due_on


def build_report_snapshot(report, submitted_at):
    """What was submitted, frozen: the fields, the granted budget beside them, the pieces'
    fingerprints; its SHA-256 fingerprint is the receipt's."""
    application = report.application
    return {
        "year": report.year, "due_on": report.due_on.isoformat(), "submitted_at": jsonable(submitted_at),
        "late": timeutil.to_paris(submitted_at).date() > report.due_on,
        "convention": report.convention.number, "reference": application.reference,
        "association": {"name": application.association.name, "siret": application.association.siret or ""},
        "call": {"title": application.call.title, "year": application.call.year},
        "fields": {spec.name: stored_value(report, spec) for spec in REPORT_FIELDS},
        "granted": granted_budget(report), "grant_cents": granted_amount(report),
        "auditor_required": auditor_required(report),
        "pieces": [{"code": piece.code, "label": piece.label, "name": piece.original_name, "size": piece.size,
                    "sha256": piece.sha256} for piece in report.pieces],
    }


def submit_report(report, actor):
    """Submit a yearly report (or its complements): DRAFT/INCOMPLETE → SUBMITTED once nothing is
    missing. A late report is accepted, flagged late (snapshot, event). The snapshot and its
    fingerprint are kept; the members get the receipt by e-mail (rendered when the e-mail is
    built), staff are told; the open request for complements is answered. Flushes: the caller
    commits."""
    report = lock(report)
    if report.state not in EDITABLE_STATES:
        raise ApplicationError("Ce compte rendu a déjà été déposé.")
    if timeutil.to_paris(timeutil.now()).year <= report.year:
        # A year's report gives account of the year as a whole: filed once it is over.
        raise ApplicationError(f"Le compte rendu {report.year} pourra être déposé à partir du 1er janvier "
                               f"{report.year + 1}, une fois l'année écoulée.")
    missing = missing_report_items(report)
    if missing:
        raise ApplicationError("Le compte rendu ne peut pas être déposé : des éléments manquent.",
                               [label for _anchor, label in missing])
    now = timeutil.now()
    resubmission = report.state == ReportState.INCOMPLETE
    snapshot = build_report_snapshot(report, now)
    report.snapshot, report.fingerprint = snapshot, snapshot_fingerprint(snapshot)
    report.submitted_at, report.submitted_by_id = now, actor.id
    application = report.application
    for request in db.session.scalars(select(PieceRequest).where(
            PieceRequest.report_id == report.id, PieceRequest.answered_at.is_(None),
            PieceRequest.cancelled_at.is_(None))):
        request.answered_at = now
    db.session.flush()
    events.change_state(report, ReportState.SUBMITTED, actor,
                        action="report_resubmitted" if resubmission else "report_submitted",
                        year=report.year, fingerprint=report.fingerprint, late=snapshot["late"])
    from ..associations.bank import staff_recipients
    from ..instruction.services import members_of
    attachment = {"kind": "report_receipt", "report_id": report.id, "fingerprint": report.fingerprint,
                  "filename": f"accuse-reception-compte-rendu-{report.year}-{report.convention.number}.pdf",
                  "content_type": "application/pdf"}
    context = {"report": report, "application": application, "resubmission": resubmission,
               "submitted_at": timeutil.format_datetime(now), "late": snapshot["late"]}
    subject = mail_subject(application, f"Compte rendu annuel {report.year} déposé")
    for member in members_of(application.association_id):
        queue_mail(member.email, subject, "report_submitted", attachments=[attachment], user=member, **context)
    for person in staff_recipients():
        queue_mail(person.email, subject + (" (en retard)" if snapshot["late"] else ""),
                   "report_submitted_staff", user=person, **context)
    db.session.flush()
    return report


# --- The receipt ---------------------------------------------------------------------------------

def report_receipt_pdf(report):
    """« Accusé de réception du compte rendu annuel »: when, its fingerprint, the pieces, the
    convention; in the look of the deposit's receipt (templates/documents/pdf/_base.html)."""
    from ..applications.attachments import size_label
    from ..documents.pdf import render_pdf
    from ..documents.receipt import _moment
    snapshot = report.snapshot or {}
    submitted_label, submitted_offset = _moment(report.submitted_at)
    return render_pdf("report_receipt.html", report=report, snapshot=snapshot, fingerprint=report.fingerprint,
                      submitted_label=submitted_label, submitted_offset=submitted_offset, size_label=size_label,
                      due_label=timeutil.format_date(report.due_on))


def _render_receipt_attachment(item):
    report = db.session.get(Report, item["report_id"])
    if report is None or not report.fingerprint:
        raise LookupError(f"no submitted report {item['report_id']} for its receipt")
    return report_receipt_pdf(report)


register_attachment_renderer("report_receipt", _render_receipt_attachment)
