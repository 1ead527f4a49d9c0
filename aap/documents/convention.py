"""The grant agreement (convention) of a winner: a pure function from a plain dict to PDF bytes.

A convention is its particular conditions (parties, object, amounts, payments, bank details,
signatures; articles 1 to 6) with their annexes I to III, followed by the general conditions
of the call (articles 7 to 15), the same for every winner of the call: those are rendered once
per call (and process) and joined to each convention, and can be read on their own.

build_convention_pdf(data) needs no database and no Flask application: the bulk generation
calls it in worker processes.
"""
from datetime import date

from ..money import format_euros
from ..timeutil import format_date
from ..validators import group_iban
from .data import amount_in_words, split_advance
from .pdf import cached_pdf, concatenate, render_html, render_pdf


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


def presentation(data):
    """What the template shows, derived from the data only (formats, words, schedule)."""
    decision = data["decision"]
    application = data["application"]
    cofunding = application["cofunding"]
    requested = application["requested_cents"] or 0
    total_cost = application["total_cost_cents"] or 0
    resources = requested + sum(line["amount_cents"] for line in cofunding)
    published_on = date.fromisoformat(decision["published_on"]) if decision["published_on"] else None
    years = data["call"]["year_list"]
    schedule = payment_schedule(data)
    return {
        "total": euros(decision["amount_cents"]),
        "total_words": amount_in_words(decision["amount_cents"]),
        "schedule": schedule,
        "advances": euros(sum(row["advance_cents"] for row in schedule)),
        "balances": euros(sum(row["balance_cents"] for row in schedule)),
        "iban": group_iban(data["bank"]["iban"]),
        "decision_date": format_date(published_on) if published_on else "",
        "period": (f"l'année {years[0]}" if len(years) == 1
                   else f"les années {', '.join(str(y) for y in years[:-1])} et {years[-1]}"),
        "start": format_date(date(years[0], 1, 1)),
        "end": format_date(date(years[-1], 12, 31)),
        "total_cost": euros(total_cost) if total_cost else "",
        "requested": euros(requested),
        "cofunding": [dict(line, amount=euros(line["amount_cents"])) for line in cofunding],
        "resources": euros(resources),
        "share_of_cost": (f"{decision['amount_cents'] * 100 / total_cost:.1f}".replace(".", ",") + " %"
                          if total_cost else ""),
    }


def general_conditions_pdf(call):
    """The general conditions of a call's conventions, from the call part of convention_data
    (title, year, years): the same bytes for every convention of the call."""
    return cached_pdf(render_html("convention_general.html", call=call))


def build_convention_pdf(data):
    """The convention as PDF bytes, from convention_data(...) (a plain dict)."""
    particular = render_pdf("convention.html", d=data, p=presentation(data))
    return concatenate(particular, general_conditions_pdf(data["call"]))


def convention_filename(data):
    return f"convention-{data['number'] or data['application']['reference']}.pdf"
