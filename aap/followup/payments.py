"""A convention's payment lines: its schedule (the advance and the balance of each year, article 5
« Modalités de versement » of the convention, aap/documents/data.payment_plan) becomes lines that
staff put to payment (« mise en paiement », with the Chorus reference when they have it), mark
paid, suspend and resume. A year's balance, from the second year on, waits for the previous year's
report to be accepted (balance_refusal). The moves: aap/transitions.py PAYMENT.

Services flush and let their caller commit."""
from datetime import date, timedelta

from sqlalchemy import func, select

from .. import events
from ..database import lock
from ..documents.data import BALANCE_BY, amounts_per_year, payment_plan
from ..documents.data import report_due_on as data_report_due_on
from ..documents.services import COMMITMENT_RE
from ..extensions import db
from ..mail import queue_mail
from ..models.followup import (
    PAYMENT_ADVANCE,
    PAYMENT_BALANCE,
    ConventionState,
    PaymentLine,
    PaymentState,
    Report,
    ReportState,
)
from ..timeutil import format_date, now, to_paris
from ..urls import absolute_url

IN_FORCE_STATES = (ConventionState.IN_FORCE, ConventionState.AMENDED)
LIVE_STATES = (PaymentState.PLANNED, PaymentState.REQUESTED, PaymentState.PAID, PaymentState.SUSPENDED)
COMMITTED_STATES = (PaymentState.REQUESTED, PaymentState.PAID)
REPLACEABLE_STATES = (PaymentState.PLANNED, PaymentState.SUSPENDED)

# What article 5 of the convention says of a balance from the second year on (its exact words).
BALANCE_CLAUSE = ("à partir de la deuxième année, après l'acceptation par l'administration des justificatifs "
                  "de l'année précédente")


class PaymentError(ValueError):
    """A refused action on a payment line; `field` names the form field the message belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def today():
    return to_paris(now()).date()


def _day(value):
    return to_paris(value).date() if value is not None else None


# --- The schedule -------------------------------------------------------------------------

def first_year(convention):
    return int(convention.application.call.year)


def report_due_on(convention, year):
    """The day a year's report is due (the convention's article 7; documents.data.report_due_on)."""
    return data_report_due_on(year, convention.application.call.report_due_months)


def _planned_on(convention, year, kind, rank):
    """When a line is planned, as article 5 says: the first year's advance at signature (the
    convention's entry into force), a later year's advance at the start of its year (due by
    31 March); a balance from the second year on once the previous year's report is due (due by
    30 November), the first year's balance by 30 November. Never before the entry into force."""
    in_force = _day(convention.in_force_at) or today()
    deadline = date(year, *BALANCE_BY)
    if kind == PAYMENT_ADVANCE:
        planned = in_force if rank == 0 else date(year, 1, 1)
    elif rank == 0:
        planned = deadline
    else:
        planned = min(report_due_on(convention, year - 1) + timedelta(days=1), deadline)
    return max(planned, in_force)


def deadline_of(line):
    """The latest day article 5 sets for a line (None: at signature)."""
    if line.kind == PAYMENT_BALANCE:
        return date(line.year, *BALANCE_BY)
    if line.year > first_year(line.convention):
        return date(line.year, 3, 31)
    return None


def past_deadline(line):
    """True when the line is planned after the latest day article 5 sets (a convention put in
    force late): the page flags it « hors délai conventionnel »."""
    deadline = deadline_of(line)
    return deadline is not None and line.planned_on > deadline


def _schedule(convention, amounts, year_list):
    """[(year, kind, cents, rank)] of a grant, from payment_plan (a « single » payment is the
    year's advance when it is due at signature, its balance when it waits for a report)."""
    call = convention.application.call
    rows = []
    ranks = {year: rank for rank, year in enumerate(year_list)}
    for payment in payment_plan(year_list, amounts, int(call.advance_percent)):
        kind = payment["kind"]
        if kind == "single":
            kind = PAYMENT_ADVANCE if payment["by"] is None else PAYMENT_BALANCE
        if payment["cents"] > 0:
            rows.append((payment["year"], kind, int(payment["cents"]), ranks[payment["year"]]))
    return rows


def _line(convention, year, kind, cents, rank, generation, actor):
    line = PaymentLine(convention=convention, year=year, kind=kind, generation=generation, amount_cents=cents,
                       planned_on=_planned_on(convention, year, kind, rank), state=PaymentState.PLANNED,
                       updated_by_id=getattr(actor, "id", None))
    db.session.add(line)
    return line


def plan_payments(convention, actor):
    """The convention's payment lines from the decision's per-year amounts and the call's advance
    percent (what its article 5 promises). Idempotent: a convention that has lines keeps them.
    Returns the convention's lines."""
    existing = db.session.scalars(select(PaymentLine).where(PaymentLine.convention_id == convention.id)
                                  .order_by(PaymentLine.year, PaymentLine.planned_on, PaymentLine.id)).all()
    if existing:
        return existing
    call = convention.application.call
    years = max(int(call.years or 1), 1)
    amounts = amounts_per_year(convention.application.decision, years)
    year_list = [int(call.year) + i for i in range(years)]
    lines = [_line(convention, year, kind, cents, rank, 0, actor)
             for year, kind, cents, rank in _schedule(convention, amounts, year_list)]
    db.session.flush()
    events.record("payments_planned", actor=actor, application=convention.application, number=convention.number,
                  lines=len(lines), amount_cents=sum(line.amount_cents for line in lines))
    return lines


def replan(convention, amount_per_year, years, generation, actor):
    """An amendment's schedule: the lines still planned or suspended are cancelled and replaced by
    the lines of `generation` (the amendment's number) for what remains to pay each year; lines
    put to payment or paid stay as they are. `years`: the list of the years (or their number,
    from the call's year). Afterwards the lines not cancelled add up to the new total.
    Idempotent for one generation. Raises PaymentError when more was already put to payment
    for a year than the new schedule grants it."""
    already = db.session.scalars(select(PaymentLine).where(PaymentLine.convention_id == convention.id,
                                                           PaymentLine.generation == generation)).all()
    if already:
        return already
    if isinstance(years, int):
        year_list = [first_year(convention) + i for i in range(max(years, 1))]
    else:
        year_list = [int(year) for year in years]
    amounts = [int(amount) for amount in amount_per_year]
    if len(amounts) != len(year_list):
        raise PaymentError("Le nouvel échéancier doit donner un montant pour chaque année.")
    lines = db.session.scalars(select(PaymentLine).where(PaymentLine.convention_id == convention.id)
                               .with_for_update()).all()
    committed = {}
    committed_kinds = set()
    for line in lines:
        if line.state in COMMITTED_STATES:
            committed[line.year] = committed.get(line.year, 0) + line.amount_cents
            committed_kinds.add((line.year, line.kind))
    for year, cents in committed.items():
        granted = amounts[year_list.index(year)] if year in year_list else 0
        if cents > granted:
            raise PaymentError(f"Le nouvel échéancier accorde moins pour {year} que ce qui est déjà mis en "
                               f"paiement ou payé cette année-là.")
    for line in lines:
        if line.state in REPLACEABLE_STATES:
            events.change_state(line, PaymentState.CANCELLED, actor, action="payment_cancelled",
                                reason=f"Remplacé par l'échéancier de l'avenant n° {generation}",
                                generation=generation)
    created = []
    schedule = _schedule(convention, amounts, year_list)
    for rank, year in enumerate(year_list):
        remaining = amounts[rank] - committed.get(year, 0)
        rows = [row for row in schedule if row[0] == year and (year, row[1]) not in committed_kinds]
        if remaining <= 0 or not rows:
            continue
        if len(rows) == 1 or committed.get(year):
            # what is left of the year goes on its first line not yet put to payment
            rows = [(year, rows[0][1], remaining, rank)]
        for row_year, kind, cents, row_rank in rows:
            created.append(_line(convention, row_year, kind, cents, row_rank, generation, actor))
    db.session.flush()
    events.record("payments_replanned", actor=actor, application=convention.application, number=convention.number,
                  generation=generation, amount_cents=sum(amounts))
    return created


# --- The rules ----------------------------------------------------------------------------

def previous_report(line):
    return db.session.scalar(select(Report).where(Report.convention_id == line.convention_id,
                                                  Report.year == line.year - 1))


def awaits_report(line):
    """The year whose report this line waits for (a balance from the second year on), or None."""
    if line.kind == PAYMENT_BALANCE and line.year > first_year(line.convention):
        return line.year - 1
    return None


def balance_refusal(line, report=...):
    """Why this line may not be put to payment yet, in French, or None. A balance from the second
    year on is paid, as article 5 of the convention says, « à partir de la deuxième année, après
    l'acceptation par l'administration des justificatifs de l'année précédente »: the service waits
    until that report is accepted. `report`: the previous year's report when the caller has it (None: there is none)."""
    year = awaits_report(line)
    if year is None:
        return None
    if report is ...:
        report = previous_report(line)
    if report is not None and report.state == ReportState.ACCEPTED:
        return None
    where = ("il n'est pas encore déposé" if report is None or report.state == ReportState.DRAFT
             else f"il est à l'état « {report.state.label} »")
    return (f"Le solde {line.year} ne peut être mis en paiement qu'une fois le compte rendu {year} accepté "
            f"({where}) : l'article 5 de la convention le verse « {BALANCE_CLAUSE} ».")


def _check_in_force(convention):
    if convention.state not in IN_FORCE_STATES:
        raise PaymentError(f"La convention {convention.number} n'est pas en vigueur (« {convention.state.label} ») : "
                           "aucun versement ne peut être mis en paiement.")


def _check_day(day, field, earliest=None, earliest_text=""):
    if not isinstance(day, date):
        raise PaymentError("Indiquez une date valide.", field)
    if day > today():
        raise PaymentError("La date ne peut pas être dans le futur.", field)
    if earliest is not None and day < earliest:
        raise PaymentError(f"La date ne peut pas être antérieure {earliest_text} ({format_date(earliest)}).", field)


def clean_chorus_reference(value):
    value = (value or "").strip().upper()
    if value and not COMMITMENT_RE.match(value):
        raise PaymentError("La référence Chorus ne contient que des chiffres, des lettres et des tirets "
                           "(40 caractères au plus), par exemple 1000123456.", "chorus_reference")
    return value


def _state(line, expected):
    if line.state not in expected:
        raise PaymentError(f"Ce versement est à l'état « {line.state.label} » : l'action n'est plus possible.")


# --- The moves ----------------------------------------------------------------------------

def request_payment(line, actor, *, day, chorus_reference=""):
    """Put a planned line to payment (« mise en paiement ») on `day`, with the Chorus reference
    when staff have it. Refused for a convention not in force, and for a balance whose previous
    year's report is not accepted (balance_refusal). Mails the association's members."""
    line = lock(line)
    _state(line, (PaymentState.PLANNED,))
    convention = line.convention
    _check_in_force(convention)
    refusal = balance_refusal(line)
    if refusal:
        raise PaymentError(refusal)
    reference = clean_chorus_reference(chorus_reference)
    _check_day(day, "day", _day(convention.in_force_at), "à l'entrée en vigueur de la convention")
    events.change_state(line, PaymentState.REQUESTED, actor, action="payment_requested",
                        year=line.year, kind=line.kind, amount_cents=line.amount_cents,
                        day=day.isoformat(), chorus_reference=reference)
    line.requested_on, line.chorus_reference = day, reference
    line.updated_by_id = getattr(actor, "id", None)
    _mail_members(line, "payment_requested", f"Versement mis en paiement : {line.kind_label.lower()} {line.year}",
                  day=day)
    db.session.flush()
    return line


def mark_paid(line, actor, *, day):
    """A line put to payment is paid on `day` (not before its request, not in the future)."""
    line = lock(line)
    _state(line, (PaymentState.REQUESTED,))
    _check_day(day, "day", line.requested_on, "à la mise en paiement")
    events.change_state(line, PaymentState.PAID, actor, action="payment_paid", year=line.year, kind=line.kind,
                        amount_cents=line.amount_cents, day=day.isoformat())
    line.paid_on = day
    line.updated_by_id = getattr(actor, "id", None)
    _mail_members(line, "payment_paid", f"Versement effectué : {line.kind_label.lower()} {line.year}", day=day)
    db.session.flush()
    return line


def suspend(line, actor, reason):
    """Suspend a planned (or requested) line, with the reason told to the association."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError("Indiquez le motif de la suspension : il est communiqué à l'association.", "reason")
    if len(reason) > 2000:
        raise PaymentError("Le motif ne doit pas dépasser 2 000 caractères.", "reason")
    line = lock(line)
    _state(line, (PaymentState.PLANNED, PaymentState.REQUESTED))
    events.change_state(line, PaymentState.SUSPENDED, actor, reason=reason, action="payment_suspended",
                        year=line.year, kind=line.kind, amount_cents=line.amount_cents)
    line.suspended_reason = reason
    line.requested_on, line.chorus_reference = None, ""
    line.updated_by_id = getattr(actor, "id", None)
    _mail_members(line, "payment_suspended", f"Versement suspendu : {line.kind_label.lower()} {line.year}",
                  reason=reason)
    db.session.flush()
    return line


def resume(line, actor):
    """A suspended line is planned again (its reason is kept in the journal)."""
    line = lock(line)
    _state(line, (PaymentState.SUSPENDED,))
    events.change_state(line, PaymentState.PLANNED, actor, action="payment_resumed", year=line.year,
                        kind=line.kind, amount_cents=line.amount_cents)
    line.suspended_reason = ""
    line.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    return line


def _mail_members(line, template, text, **context):
    from ..instruction.services import mail_subject, members_of
    application = line.convention.application
    link = absolute_url("followup.show", application_id=application.id, _anchor="versements")
    subject = mail_subject(application, text)
    for member in members_of(application.association_id):
        queue_mail(member.email, subject, template, user=member, application=application, line=line,
                   convention=line.convention, link=link, **context)


# --- Reading ------------------------------------------------------------------------------

def totals(lines):
    """{granted, paid, to_pay} in cents over the lines not cancelled."""
    live = [line for line in lines if line.state != PaymentState.CANCELLED]
    granted = sum(line.amount_cents for line in live)
    paid = sum(line.amount_cents for line in live if line.state == PaymentState.PAID)
    return {"granted": granted, "paid": paid, "to_pay": granted - paid}


def paid_cents_by_convention(convention_ids):
    """{convention id: cents paid} in one query."""
    if not convention_ids:
        return {}
    rows = db.session.execute(
        select(PaymentLine.convention_id, func.sum(PaymentLine.amount_cents))
        .where(PaymentLine.convention_id.in_(convention_ids), PaymentLine.state == PaymentState.PAID)
        .group_by(PaymentLine.convention_id)).all()
    return {convention_id: int(cents or 0) for convention_id, cents in rows}


# --- The staff list of the payments to make ------------------------------------------------

LIST_STATES = {"": "À mettre en paiement et mis en paiement", "planned": "À mettre en paiement",
               "requested": "Mis en paiement, en attente du paiement", "suspended": "Suspendus"}


def month_end(year, month):
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def to_make_condition(last_day, state=""):
    """The lines to make by `last_day` (the end of the month shown): planned (or suspended) on or
    before it, and those put to payment still waiting to be paid, whenever planned."""
    planned = (PaymentLine.state == PaymentState.PLANNED) & (PaymentLine.planned_on <= last_day)
    requested = PaymentLine.state == PaymentState.REQUESTED
    if state == "planned":
        return planned
    if state == "requested":
        return requested
    if state == "suspended":
        return (PaymentLine.state == PaymentState.SUSPENDED) & (PaymentLine.planned_on <= last_day)
    return planned | requested


def to_make_statement(last_day, call_id=None, state=""):
    """The lines to make with their convention, file, association and call (joined: one query)."""
    from sqlalchemy.orm import joinedload

    from ..models import Application, Convention
    statement = (
        select(PaymentLine).join(Convention, Convention.id == PaymentLine.convention_id)
        .join(Application, Application.id == Convention.application_id)
        .where(to_make_condition(last_day, state))
        .options(joinedload(PaymentLine.convention).joinedload(Convention.application)
                 .joinedload(Application.association),
                 joinedload(PaymentLine.convention).joinedload(Convention.application).joinedload(Application.call))
        .order_by(PaymentLine.planned_on, Application.reference, PaymentLine.year, PaymentLine.kind, PaymentLine.id))
    if call_id:
        statement = statement.where(Application.call_id == call_id)
    return statement


# The keys of to_make_totals for the planned lines that cannot be paid yet.
BLOCKED_REPORT, BLOCKED_CONVENTION = "blocked_report", "blocked_convention"


def to_make_totals(last_day, call_id=None, state=""):
    """{key: (count, cents)} of the lines to make (one query): the key is the line's state, except
    for a planned line that cannot be put to payment yet — BLOCKED_CONVENTION (its convention is
    not in force) or BLOCKED_REPORT (a balance waiting for the previous year's report to be
    accepted, balance_refusal) — so that « à mettre en paiement » adds up what can be paid."""
    from sqlalchemy import and_, case, exists, literal

    from ..models import Application, Call, Convention
    accepted = exists(select(Report.id).where(Report.convention_id == PaymentLine.convention_id,
                                              Report.year == PaymentLine.year - 1,
                                              Report.state == ReportState.ACCEPTED))
    planned = PaymentLine.state == PaymentState.PLANNED
    blocked = case(
        (and_(planned, Convention.state.not_in(IN_FORCE_STATES)), literal(BLOCKED_CONVENTION)),
        (and_(planned, PaymentLine.kind == PAYMENT_BALANCE, PaymentLine.year > Call.year, ~accepted),
         literal(BLOCKED_REPORT)),
        else_=literal(""))
    statement = (select(PaymentLine.state, blocked, func.count(PaymentLine.id), func.sum(PaymentLine.amount_cents))
                 .join(Convention, Convention.id == PaymentLine.convention_id)
                 .join(Application, Application.id == Convention.application_id)
                 .join(Call, Call.id == Application.call_id)
                 .where(to_make_condition(last_day, state)).group_by(PaymentLine.state, blocked))
    if call_id:
        statement = statement.where(Application.call_id == call_id)
    found = {}
    for line_state, key, count, cents in db.session.execute(statement):
        before = found.get(key or line_state, (0, 0))
        found[key or line_state] = (before[0] + int(count), before[1] + int(cents or 0))
    return found


def refusals(lines):
    """{line id: why it may not be put to payment, in short} for the given lines (balances waiting for a
    report; conventions not in force), reading the reports they wait for in one query."""
    waiting = [line for line in lines if awaits_report(line) is not None]
    waiting_ids = {line.id for line in waiting}
    reports = {}
    if waiting:
        reports = {(report.convention_id, report.year): report for report in db.session.scalars(
            select(Report).where(Report.convention_id.in_({line.convention_id for line in waiting})))}
    found = {}
    for line in lines:
        if line.state not in (PaymentState.PLANNED, PaymentState.SUSPENDED):
            continue
        if line.convention.state not in IN_FORCE_STATES:
            found[line.id] = f"Convention « {line.convention.state.label} »"
            continue
        if line.id not in waiting_ids:
            continue
        report = reports.get((line.convention_id, line.year - 1))
        if balance_refusal(line, report):
            state = report.state.label if report is not None else "non déposé"
            found[line.id] = f"Attend l'acceptation du compte rendu {line.year - 1} ({state.lower()})"
    return found
