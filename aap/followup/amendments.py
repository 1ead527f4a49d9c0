"""Amendments (« avenants ») to a convention in force: a change of its amount (total and per year),
of its duration (years added or removed within the call's years) or of its payment schedule (the
advance percent of the years not yet paid, or a payment's date moved within its year).

An amendment holds only what changes (`changes`) and what it was (`previous`), with keys among
"amount_cents", "amount_per_year" (aligned with the years: the new ones in `changes`, the old ones
in `previous`), "years" and "schedule" ([{year, advance_percent, advance_on, balance_on}] for the
years whose schedule changes; dates ISO or None). It is generated as a PDF like the convention
(amendment_data → build_amendment_pdf, pure) and signed the same way (followup.signature); when it
comes into force (signature.notify), apply_amendment makes its terms the convention's: a new version
of the decision (the earlier one kept, Decision.supersede through events.change_state, as
selection.amendments does it), the payment lines replanned (payments.replan) and the yearly
reports opened for added years (reports.open_reports).

A convention's removed year keeps a zero in the decision's per-year list (aligned with the call's
years, as documents.data.amounts_per_year reads it).

Services flush and let their caller commit.
"""
from datetime import date

from sqlalchemy import select

from .. import events, timeutil
from ..database import lock
from ..documents.data import amounts_per_year, convention_data, fingerprint, split_advance
from ..extensions import db
from ..mail import queue_mail
from ..models import Convention
from ..models.followup import Amendment, ConventionState, PaymentLine, PaymentState
from ..money import format_euros
from ..timeutil import format_date
from ..urls import absolute_url

IN_FORCE_STATES = (ConventionState.IN_FORCE, ConventionState.AMENDED)
COMMITTED_STATES = (PaymentState.REQUESTED, PaymentState.PAID)
MAX_REASON = 5000


class AmendmentError(ValueError):
    """A refused amendment; the message is French. `field`: the form field it belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


# --- The convention's terms now ------------------------------------------------------------

def _iso(value):
    if value is None or isinstance(value, str):
        return value or None
    return value.isoformat()


def call_years(convention):
    call = convention.application.call
    return [int(call.year) + i for i in range(max(int(call.years or 1), 1))]


def _in_force(convention):
    return [a for a in convention.amendments if a.state == ConventionState.IN_FORCE]


def live_lines(convention):
    return [line for line in convention.payments if line.state != PaymentState.CANCELLED]


def current_terms(convention):
    """The convention's terms as they stand (its amendments in force applied): {years,
    amount_per_year (aligned with years), amount_cents, advance_percent {year: %}, dates
    {year: {advance_on, balance_on}} (ISO or None: from its payment lines when planned)}."""
    application = convention.application
    every_year = call_years(convention)
    per_call_year = amounts_per_year(application.decision, len(every_year))
    years = every_year
    percent = {year: int(application.call.advance_percent) for year in every_year}
    for amendment in _in_force(convention):
        if "years" in amendment.changes:
            years = [int(y) for y in amendment.changes["years"]]
        for entry in amendment.changes.get("schedule") or []:
            if entry.get("advance_percent") is not None:
                percent[int(entry["year"])] = int(entry["advance_percent"])
    amounts = [int(per_call_year[every_year.index(y)]) for y in years]
    dates = {year: {"advance_on": None, "balance_on": None} for year in years}
    for line in live_lines(convention):
        if line.year in dates:
            dates[line.year][f"{line.kind}_on"] = line.planned_on.isoformat()
    return {"years": years, "amount_per_year": amounts, "amount_cents": sum(amounts),
            "advance_percent": {y: percent[y] for y in years}, "dates": dates}


def committed_by_year(convention):
    """{year: cents put to payment or paid}."""
    committed = {}
    for line in convention.payments:
        if line.state in COMMITTED_STATES:
            committed[line.year] = committed.get(line.year, 0) + line.amount_cents
    return committed


def closed_years(convention, today=None):
    """The years already past whose payments are all paid (their balance paid)."""
    today = today or timeutil.to_paris(timeutil.now()).date()
    by_year = {}
    for line in live_lines(convention):
        by_year.setdefault(line.year, []).append(line)
    return {year for year, lines in by_year.items()
            if year < today.year and all(line.state == PaymentState.PAID for line in lines)}


def _committed_kinds(convention):
    return {(line.year, line.kind) for line in convention.payments if line.state in COMMITTED_STATES}


# --- What an amendment changes ---------------------------------------------------------------

def pending_amendment(convention):
    """The amendment of the convention not in force yet (one at a time), or None."""
    return next((a for a in convention.amendments if a.state != ConventionState.IN_FORCE), None)


def creation_refusal(convention):
    """Why no amendment can be made on the convention now (French), or None."""
    if convention.state not in IN_FORCE_STATES:
        return (f"La convention n° {convention.number} n'est pas en vigueur (« {convention.state.label} ») : "
                f"un avenant ne peut modifier qu'une convention en vigueur.")
    pending = pending_amendment(convention)
    if pending is not None:
        return (f"L'avenant n° {pending.number} n'est pas encore en vigueur (« {pending.state.label} ») : "
                f"un seul avenant à la fois, attendez qu'il soit signé et notifié.")
    return None


def _day(value, field):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AmendmentError("Indiquez une date valide.", field) from None


def prepare(convention, *, reason, amount_per_year=None, years=None, schedule=None, today=None):
    """(changes, previous) of an amendment to `convention`, checked; AmendmentError otherwise.
    `amount_per_year`: cents aligned with `years` (the new years, or the current ones);
    `schedule`: [{year, advance_percent?, advance_on?, balance_on?}] for the years it changes."""
    refusal = creation_refusal(convention)
    if refusal:
        raise AmendmentError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise AmendmentError("Indiquez le motif de l'avenant : il figure dans l'avenant et est communiqué à "
                             "l'association.", "reason")
    if len(reason) > MAX_REASON:
        raise AmendmentError(f"Le motif ne peut pas dépasser {MAX_REASON} caractères.", "reason")
    now = current_terms(convention)
    call = convention.application.call
    every_year = call_years(convention)
    committed = committed_by_year(convention)
    closed = closed_years(convention, today)

    new_years = now["years"] if years is None else sorted({int(y) for y in years})
    if not new_years:
        raise AmendmentError("La convention doit couvrir au moins une année.", "years")
    outside = [y for y in new_years if y not in every_year]
    if outside:
        raise AmendmentError(f"L'appel à projets couvre les années {', '.join(map(str, every_year))} : "
                             f"{', '.join(map(str, outside))} n'en fait pas partie.", "years")
    if new_years != list(range(new_years[0], new_years[-1] + 1)):
        raise AmendmentError("Les années de la convention doivent se suivre.", "years")
    for year in sorted(set(committed) - set(new_years)):
        raise AmendmentError(f"Des versements de l'année {year} sont déjà mis en paiement ou payés : cette année "
                             f"ne peut pas être retirée de la convention.", "years")

    if amount_per_year is None:
        if new_years != now["years"]:
            raise AmendmentError("Indiquez le montant de chaque année de la convention.", "amounts")
        new_amounts = list(now["amount_per_year"])
    else:
        new_amounts = [int(v) if v is not None else None for v in amount_per_year]
        if len(new_amounts) != len(new_years) or any(v is None or v <= 0 for v in new_amounts):
            raise AmendmentError("Indiquez un montant positif pour chaque année de la convention.", "amounts")
    old_by_year = dict(zip(now["years"], now["amount_per_year"]))
    for year, cents in zip(new_years, new_amounts):
        if year in closed and cents != old_by_year.get(year):
            raise AmendmentError(f"L'année {year} est passée et son solde est payé : son montant ne peut plus être "
                                 f"modifié.", "amounts")
        if cents < committed.get(year, 0):
            raise AmendmentError(f"Le montant de l'année {year} ({format_euros(cents)}) ne peut pas être inférieur "
                                 f"à ce qui est déjà mis en paiement ou payé pour cette année "
                                 f"({format_euros(committed[year])}).", "amounts")
    total = sum(new_amounts)
    if call.max_amount_cents and total > call.max_amount_cents:
        raise AmendmentError(f"Le montant total ({format_euros(total)}) dépasse le montant maximum par dossier de "
                             f"l'appel à projets ({format_euros(call.max_amount_cents)}).", "amounts")

    schedule_changes, schedule_previous = _schedule_changes(convention, now, new_years, schedule or [], closed)

    changes, previous = {}, {}
    if total != now["amount_cents"]:
        changes["amount_cents"], previous["amount_cents"] = total, now["amount_cents"]
    if new_years != now["years"] or new_amounts != now["amount_per_year"]:
        changes["amount_per_year"], previous["amount_per_year"] = new_amounts, list(now["amount_per_year"])
    if new_years != now["years"]:
        changes["years"], previous["years"] = new_years, list(now["years"])
    if schedule_changes:
        changes["schedule"], previous["schedule"] = schedule_changes, schedule_previous
    if not changes:
        raise AmendmentError("L'avenant ne change rien à la convention : modifiez le montant, la durée ou "
                             "l'échéancier des versements.")
    return changes, previous


def _schedule_changes(convention, now, new_years, schedule, closed):
    committed_kinds = _committed_kinds(convention)
    changes, previous = [], []
    for entry in schedule:
        year = int(entry["year"])
        if year not in new_years:
            raise AmendmentError(f"L'année {year} ne fait pas partie de la convention : son échéancier ne peut "
                                 f"pas être modifié.", "schedule")
        before = {"year": year, "advance_percent": now["advance_percent"].get(year),
                  **now["dates"].get(year, {"advance_on": None, "balance_on": None})}
        after = dict(before)
        percent = entry.get("advance_percent")
        if percent is not None and int(percent) != before["advance_percent"]:
            percent = int(percent)
            if not 0 <= percent <= 100:
                raise AmendmentError("Le pourcentage de l'avance va de 0 à 100.", "schedule")
            if (year, "advance") in committed_kinds or (year, "balance") in committed_kinds or year in closed:
                raise AmendmentError(f"Des versements de l'année {year} sont déjà mis en paiement ou payés : le "
                                     f"pourcentage de son avance ne peut plus changer.", "schedule")
            after["advance_percent"] = percent
        for kind in ("advance", "balance"):
            day = _day(entry.get(f"{kind}_on"), "schedule")
            if day is None or day.isoformat() == before[f"{kind}_on"]:
                continue
            label = "L'avance" if kind == "advance" else "Le solde"
            if (year, kind) in committed_kinds or year in closed:
                raise AmendmentError(f"{label} {year} est déjà mis en paiement ou payé : sa date ne peut plus "
                                     f"changer.", "schedule")
            if day.year != year:
                raise AmendmentError(f"{label} {year} est versé au cours de l'année {year} (article 5 de la "
                                     f"convention) : choisissez une date de cette année.", "schedule")
            after[f"{kind}_on"] = day.isoformat()
        if after != before:
            changes.append(after)
            previous.append(before)
    return changes, previous


# --- The services --------------------------------------------------------------------------------

def create_amendment(convention, actor, *, reason, amount_per_year=None, years=None, schedule=None):
    """A new amendment (« Émis, en attente de signature ») to a convention in force, numbered next
    within it, holding what changes and what it was; the association's members told by e-mail.
    Raises AmendmentError (nothing changed). Flushes; the caller commits."""
    convention = lock(convention)
    changes, previous = prepare(convention, reason=reason, amount_per_year=amount_per_year, years=years,
                                schedule=schedule)
    number = 1 + max((a.number for a in convention.amendments), default=0)
    amendment = Amendment(convention=convention, number=number, state=ConventionState.ISSUED,
                          reason=(reason or "").strip(), changes=changes, previous=previous,
                          created_by_id=getattr(actor, "id", None))
    db.session.add(amendment)
    db.session.flush()
    amendment.data_fingerprint = fingerprint(amendment_data(amendment))
    application = convention.application
    events.record("amendment_created", actor=actor, application=application, reason=amendment.reason,
                  subject="amendment", subject_id=amendment.id, number=number, convention=convention.number,
                  changes=changes, previous=previous)
    _mail_members(amendment)
    db.session.flush()
    return amendment


def _mail_members(amendment):
    from ..instruction.services import mail_subject, members_of
    convention = amendment.convention
    application = convention.application
    link = absolute_url("followup.show", application_id=application.id, _anchor="avenants")
    subject = mail_subject(application, f"Avenant n° {amendment.number} à votre convention à signer")
    for member in members_of(application.association_id):
        queue_mail(member.email, subject, "amendment_created", user=member, application=application,
                   convention=convention, amendment=amendment, rows=change_rows(amendment), link=link)


def apply_amendment(amendment, actor):
    """The amendment has come into force (signature.notify): its amounts and years become the
    convention's — a new version of the decision (the one it replaces kept in its history), the
    payment lines replanned for what remains to pay (generation = the amendment's number), the
    reports of added years opened. Flushes; the caller commits."""
    from ..models.selection import CHANGE_AMENDED, OUTCOME_SELECTED
    from ..selection.amendments import _new_version
    from . import payments, reports

    convention = amendment.convention  # (amendment and convention locked by signature.notify)
    application = convention.application
    decision = lock(application.decision)
    terms = current_terms(convention)  # (the amendment is in force: its years are in)
    if "amount_per_year" in amendment.changes:
        terms["amount_per_year"] = [int(c) for c in amendment.changes["amount_per_year"]]
        terms["amount_cents"] = sum(terms["amount_per_year"])
    every_year = call_years(convention)
    by_year = dict(zip(terms["years"], terms["amount_per_year"]))
    per_call_year = [by_year.get(year, 0) for year in every_year]
    previous_cents = decision.amount_cents
    if per_call_year != list(decision.amount_per_year or []) or terms["amount_cents"] != decision.amount_cents:
        _new_version(decision, actor, timeutil.now(), CHANGE_AMENDED, OUTCOME_SELECTED, terms["amount_cents"],
                     per_call_year, f"Avenant n° {amendment.number} à la convention n° {convention.number} : "
                                    f"{amendment.reason}")
    events.record("amendment_applied", actor=actor, application=application, subject="amendment",
                  subject_id=amendment.id, number=amendment.number, convention=convention.number,
                  amount_cents=terms["amount_cents"], previous_amount_cents=previous_cents,
                  years=terms["years"], version=decision.version)
    db.session.flush()
    payments.replan(convention, terms["amount_per_year"], terms["years"], amendment.number, actor)
    _apply_schedule(convention, amendment)
    reports.open_reports(convention, actor)
    db.session.flush()
    return amendment


def _apply_schedule(convention, amendment):
    """The schedule the amendment sets, on the lines it planned (payments.replan plans them with
    the call's advance percent and article 5's dates): each year's split between its advance and
    its balance, and the dates moved."""
    entries = {int(e["year"]): e for e in amendment.changes.get("schedule") or []}
    if not entries:
        return
    lines = db.session.scalars(select(PaymentLine).where(
        PaymentLine.convention_id == convention.id, PaymentLine.generation == amendment.number,
        PaymentLine.state == PaymentState.PLANNED)).all()
    for year, entry in entries.items():
        year_lines = {line.kind: line for line in lines if line.year == year}
        if not year_lines:
            continue
        total = sum(line.amount_cents for line in year_lines.values())
        if len(year_lines) == 2:
            advance, balance = split_advance(total, entry["advance_percent"])
            year_lines["advance"].amount_cents, year_lines["balance"].amount_cents = advance, balance
            for kind, line in list(year_lines.items()):
                if line.amount_cents == 0:  # (an advance of 100 %: the year is paid at once)
                    db.session.delete(line)
                    del year_lines[kind]
        for kind, line in year_lines.items():
            day = entry.get(f"{kind}_on")
            if day:
                line.planned_on = date.fromisoformat(day)


# --- Reading: the changes, before → after ------------------------------------------------------

def _years_text(years):
    years = [str(y) for y in years]
    return years[0] if len(years) == 1 else f"{', '.join(years[:-1])} et {years[-1]}"


def _date_text(value, first):
    if not value:
        return "à la signature" if first else "selon l'article 5"
    return format_date(date.fromisoformat(value))


def years_before(amendment):
    """The convention's years when the amendment was made: the call's, or those the latest earlier
    amendment in force set (its per-year amounts are aligned with them when it keeps them)."""
    if "years" in (amendment.previous or {}):
        return [int(y) for y in amendment.previous["years"]]
    convention = amendment.convention
    years = call_years(convention) if convention is not None else []
    for earlier in (convention.amendments if convention is not None else []):
        if earlier.number < (amendment.number or 10**6) and earlier.state == ConventionState.IN_FORCE \
                and "years" in earlier.changes:
            years = [int(y) for y in earlier.changes["years"]]
    return years


def change_rows(amendment, years=None):
    """[(label, before, after)] of what an amendment changes, as pages and mails show it.
    `years`: the convention's years before it (years_before), when the amendment is not attached."""
    changes, previous = amendment.changes or {}, amendment.previous or {}
    rows = []
    if "amount_cents" in changes:
        rows.append(("Montant total", format_euros(previous.get("amount_cents"), decimals=True),
                     format_euros(changes["amount_cents"], decimals=True)))
    if "years" in changes:
        rows.append(("Durée (années)", _years_text(previous.get("years") or []), _years_text(changes["years"])))
    if "amount_per_year" in changes:
        old_years = years if years is not None else years_before(amendment)
        new_years = changes.get("years") or old_years
        before = dict(zip(old_years, previous.get("amount_per_year") or []))
        after = dict(zip(new_years, changes["amount_per_year"]))
        for year in sorted(set(before) | set(after)):
            if before.get(year) != after.get(year):
                rows.append((f"Montant {year}", format_euros(before[year], decimals=True) if year in before else "—",
                             format_euros(after[year], decimals=True) if year in after else "—"))
    for old, new in zip(previous.get("schedule") or [], changes.get("schedule") or []):
        year = new["year"]
        if old.get("advance_percent") != new.get("advance_percent"):
            rows.append((f"Avance {year}", f"{old.get('advance_percent')} %", f"{new.get('advance_percent')} %"))
        for kind, label in (("advance", "Date de l'avance"), ("balance", "Date du solde")):
            if old.get(f"{kind}_on") != new.get(f"{kind}_on"):
                rows.append((f"{label} {year}", _date_text(old.get(f"{kind}_on"), kind == "advance"),
                             _date_text(new.get(f"{kind}_on"), kind == "advance")))
    return rows


# --- The document ----------------------------------------------------------------------------------

def amendment_data(amendment):
    """Everything the amendment's PDF shows, as a plain JSON-serialisable dict: the convention's
    parties and texts (documents.data.convention_data, with the bank details it was issued with),
    what the amendment changes, and the advance percent of each year as it sets them (the call's,
    then the earlier amendments' and its own): the same dict whatever happens afterwards."""
    convention = amendment.convention
    application = convention.application
    base = convention_data(application, convention.number, bank=convention.bank_details or None,
                           commitment_number=convention.commitment_number)
    call = application.call
    percents = {str(year): int(call.advance_percent) for year in call_years(convention)}
    earlier = [a for a in convention.amendments if a.number < amendment.number and a.state == ConventionState.IN_FORCE]
    for item in [*earlier, amendment]:
        for entry in item.changes.get("schedule") or []:
            if entry.get("advance_percent") is not None:
                percents[str(entry["year"])] = int(entry["advance_percent"])
    return {
        "number": amendment.number,
        "convention_number": convention.number,
        "kind": base["kind"], "multi_year": base["multi_year"], "place": base["place"],
        "call": base["call"], "association": base["association"],
        "application": {"reference": base["application"]["reference"], "title": base["application"]["title"]},
        "convention_signed_on": _iso(convention.signed_at),
        "reason": amendment.reason,
        "changes": amendment.changes, "previous": amendment.previous,
        "years_before": years_before(amendment),
        "advance_percent": percents,
        "in_force_on": _iso(timeutil.to_paris(amendment.in_force_at).date()) if amendment.in_force_at else None,
    }


def amendment_filename(amendment):
    return f"avenant-{amendment.number}-convention-{amendment.convention.number}.pdf"


def amendment_pdf(amendment):
    """The amendment as PDF bytes."""
    from ..documents.amendment import build_amendment_pdf
    return build_amendment_pdf(amendment_data(amendment))


def convention_of(application_id):
    return db.session.scalar(select(Convention).where(Convention.application_id == application_id))
