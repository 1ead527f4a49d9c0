"""The grant agreement (convention) of a winner: a pure function from a plain dict to PDF bytes.

A convention is ONE document with one page numbering (« page 5 sur 12 »): its particular
conditions (parties, visas, object, amounts, payments, bank details, imputation budgétaire;
articles 1 to 6), the general conditions of the call (articles 7 to 18, the same for every
winner, also published on their own for the call's page), the annexes I to III, then the
signatures. The legal texts come from the call (convention_texts.py).

build_convention_pdf(data) needs no database and no Flask application: the bulk generation
calls it in worker processes.
"""
import re
import unicodedata
from datetime import date

from ..applications.budget import view as budget_view
from ..money import format_euros
from ..timeutil import format_date
from ..validators import group_iban
from .convention_texts import STATE_AID, visa_lines
from .data import amount_in_words, payment_plan, report_due_on, split_advance
from .pdf import cached_pdf, html_to_pdf, render_html


def euros(cents):
    """Amounts of a convention always show their cents: « 42 500,00 € »."""
    return format_euros(cents, decimals=True)


def payment_schedule(data):
    """One row per year: the year's grant (in figures and words) split into an advance and a
    balance (in cents and formatted). With an advance of 100 %, the balance is zero and the year is paid at once."""
    percent = data["call"]["advance_percent"]
    rows = []
    for year, amount in zip(data["call"]["year_list"], data["decision"]["amount_per_year"]):
        advance, balance = split_advance(amount, percent)
        rows.append({"year": year, "cents": amount, "amount": euros(amount), "words": amount_in_words(amount),
                     "advance_cents": advance, "advance": euros(advance),
                     "balance_cents": balance, "balance": euros(balance)})
    return rows


PAYMENT_LABELS = {"advance": "Avance", "balance": "Solde", "single": "Versement unique"}


def payments(data):
    """The payments of article 5 in order (data.payment_plan), with their wording: what each
    waits for and the latest date it is made, always within its own year."""
    rows = []
    for payment in payment_plan(data["call"]["year_list"], data["decision"]["amount_per_year"],
                                data["call"]["advance_percent"]):
        by = date.fromisoformat(payment["by"]) if payment["by"] else None
        if by is None:
            when = "à la signature de la convention"
        elif payment["after_reports_of"]:
            when = (f"après acceptation des justificatifs de l'année {payment['after_reports_of']}, "
                    f"au plus tard le {format_date(by)}")
        else:
            when = f"au plus tard le {format_date(by)}"
        rows.append(dict(payment, label=PAYMENT_LABELS[payment["kind"]], amount=euros(payment["cents"]), when=when))
    return rows


def annex_budget(data):
    """Annex II, the project's budget as granted (Cerfa n° 12156*06 layout, year by year): the view
    of aap/applications/budget.py, or None while the budget is still to adjust."""
    if not data.get("budget"):
        return None
    years = len(data["call"]["year_list"])
    return budget_view(data["budget"], years, data["call"]["year_list"][0])


def presentation(data):
    """What the template shows, derived from the data only (formats, words, schedule)."""
    decision = data["decision"]
    annex = annex_budget(data)
    total_cost = annex.overall.charges if annex else 0
    published_on = date.fromisoformat(decision["published_on"]) if decision["published_on"] else None
    years = data["call"]["year_list"]
    schedule = payment_schedule(data)
    return {
        "total": euros(decision["amount_cents"]),
        "total_words": amount_in_words(decision["amount_cents"]),
        "schedule": schedule,
        "payments": payments(data),
        "reports_due": format_date(report_due_on(years[-1], data["call"].get("report_due_months", 6))),
        # Each year's reports, as a day of the next year's calendar (« 30 juin »).
        "reports_due_each": format_date(report_due_on(years[0], data["call"].get("report_due_months", 6)))
        .rsplit(" ", 1)[0],
        "annex": annex,
        "iban": group_iban(data["bank"]["iban"]),
        "decision_date": format_date(published_on) if published_on else "",
        "period": (f"l'année {years[0]}" if len(years) == 1
                   else f"les années {', '.join(str(y) for y in years[:-1])} et {years[-1]}"),
        "start": format_date(date(years[0], 1, 1)),
        "end": format_date(date(years[-1], 12, 31)),
        "total_cost": euros(total_cost) if total_cost else "",
        "share_of_cost": (f"{decision['amount_cents'] * 100 / total_cost:.1f}".replace(".", ",") + " %"
                          if total_cost else ""),
    }


def general_conditions_pdf(call):
    """The general conditions of a call's conventions, from the call part of convention_data
    (title, year, years): the same bytes for every convention of the call."""
    return cached_pdf(render_html("convention_general.html", call=call))


def legal_presentation(data):
    """The visas and the State-aid paragraph of article 4, from the call's texts."""
    texts = data["call"]["texts"]
    return {"visas": visa_lines(texts), "state_aid_clause": STATE_AID[texts["state_aid"]]["clause"]}


def convention_html(data):
    return render_html("convention.html", d=data, p={**presentation(data), **legal_presentation(data)})


def build_convention_pdf(data):
    """The convention as PDF bytes, from convention_data(...) (a plain dict): one document, its
    particular conditions, general conditions, annexes and signatures under one page numbering."""
    return html_to_pdf(convention_html(data))


def convention_filename(data):
    return f"convention-{data['number'] or data['application']['reference']}.pdf"


_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def archive_name(number, association_name, limit=120):
    """The name of a convention in the call's ZIP: « 1J1M-2025-CPO-0001 - Nom de l'association.pdf »,
    with nothing a file system refuses (no / \\ : * ? " < > | nor control characters) and at most
    `limit` characters before « .pdf »."""
    name = " ".join(_UNSAFE_IN_NAMES.sub(" ", unicodedata.normalize("NFC", association_name or "")).split())
    stem = f"{number} - {name}" if name else number
    return stem[:limit].rstrip(" .-") + ".pdf"
