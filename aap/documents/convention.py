"""The grant agreement (convention) of a winner: a pure function from a plain dict to PDF bytes.

build_convention_pdf(data) needs no database and no Flask application: the bulk generation
calls it in worker processes.
"""
from datetime import date

from ..money import format_euros
from ..timeutil import format_date
from .data import amount_in_words, split_advance
from .pdf import render_pdf


def euros(cents):
    """French format with cents: « 42 500,00 € »."""
    return format_euros(cents, decimals=True)


def group_iban(iban):
    compact = (iban or "").replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def payment_schedule(data):
    """Rows (year, label, due, cents) of the payments: per year an advance, then the balance."""
    percent = data["call"]["advance_percent"]
    rows = []
    years = data["call"]["year_list"]
    for index, (year, amount) in enumerate(zip(years, data["decision"]["amount_per_year"])):
        advance, balance = split_advance(amount, percent)
        if percent >= 100:
            due = ("à la signature de la présente convention" if index == 0
                   else f"au cours du premier trimestre {year}, sous réserve de la disponibilité des crédits")
            rows.append({"year": year, "label": "Versement unique", "due": due, "cents": amount})
            continue
        if advance:
            due = ("à la signature de la présente convention" if index == 0
                   else f"au cours du premier trimestre {year}, sous réserve de la disponibilité des crédits")
            rows.append({"year": year, "label": f"Avance ({percent} %)", "due": due, "cents": advance})
        if balance:
            due = (f"après réception et examen du compte rendu financier et du rapport d'activité "
                   f"de l'année {year}")
            rows.append({"year": year, "label": f"Solde ({100 - percent} %)", "due": due, "cents": balance})
    for row in rows:
        row["amount"] = euros(row["cents"])
    return rows


def presentation(data):
    """What the template shows, derived from the data only (formats, words, schedule)."""
    decision = data["decision"]
    application = data["application"]
    per_year = [
        {"year": year, "cents": cents, "amount": euros(cents), "words": amount_in_words(cents)}
        for year, cents in zip(data["call"]["year_list"], decision["amount_per_year"])
    ]
    cofunding = application["cofunding"]
    requested = application["requested_cents"] or 0
    total_cost = application["total_cost_cents"] or 0
    resources = requested + sum(line["amount_cents"] for line in cofunding)
    published_on = date.fromisoformat(decision["published_on"]) if decision["published_on"] else None
    years = data["call"]["year_list"]
    return {
        "total": euros(decision["amount_cents"]),
        "total_words": amount_in_words(decision["amount_cents"]),
        "per_year": per_year,
        "schedule": payment_schedule(data),
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


def build_convention_pdf(data):
    """The convention as PDF bytes, from convention_data(...) (a plain dict)."""
    return render_pdf("convention.html", d=data, p=presentation(data))


def convention_filename(data):
    return f"convention-{data['number'] or data['application']['reference']}.pdf"
