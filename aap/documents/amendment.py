"""An amendment (« avenant ») to a convention: a pure function from a plain dict
(followup.amendments.amendment_data) to PDF bytes, with the convention's look (its base template
and typography, templates/documents/pdf/amendment.html).

The wording follows the State's practice for amending a convention of the model of the circulaire
n° 5811-SG du 29 septembre 2015 (the model convention's article « Avenant », article 13 of our
conventions: « toute modification de la convention fait l'objet d'un avenant signé par les deux
parties »): the title « Avenant n° N à la convention n° X »; the same parties as the convention;
the visas (the convention itself, then the same legal texts); one article per article of the
convention it changes, each naming that article and giving its new wording (« L'article 4 de la
convention est ainsi modifié… »), the amounts in figures and in words, before and after; the
clause « Les autres stipulations de la convention demeurent inchangées » (the amendment changes
nothing else); its entry into force at its notification, as the convention's (article 18); the
signature blocks of the convention.
"""
from datetime import date

from ..timeutil import format_date
from .convention import euros, legal_presentation
from .data import BALANCE_BY, LATER_ADVANCE_BY, amount_in_words, split_advance
from .pdf import html_to_pdf, render_html


def _years_text(years):
    years = [str(y) for y in years]
    return f"l'année {years[0]}" if len(years) == 1 else f"les années {', '.join(years[:-1])} et {years[-1]}"


def payment_rows(years, amounts, percents, dates):
    """Article 5's table as the amendment sets it: [{year, label, when, amount}] (the first year's
    advance at signature, a later year's by 31 March, each balance by 30 November, unless the
    amendment moves a date)."""
    rows = []
    for rank, (year, cents) in enumerate(zip(years, amounts)):
        advance, balance = split_advance(int(cents), percents.get(str(year), 100))
        given = dates.get(str(year)) or {}
        defaults = {"advance": None if rank == 0 else date(year, *LATER_ADVANCE_BY).isoformat(),
                    "balance": date(year, *BALANCE_BY).isoformat()}
        for kind, part in (("advance", advance), ("balance", balance)):
            if part <= 0:
                continue
            label = "Versement unique" if not (advance and balance) else ("Avance" if kind == "advance" else "Solde")
            day = given.get(f"{kind}_on") or defaults[kind]
            when = (f"au plus tard le {format_date(date.fromisoformat(day))}" if day
                    else "à la signature de la convention")
            rows.append({"year": year, "label": label, "when": when, "amount": euros(part)})
    return rows


def presentation(data):
    """What the template shows, from the data only: the articles of the convention it changes."""
    changes, previous = data["changes"], data["previous"]
    years_before = data["years_before"]
    years_after = changes.get("years") or years_before
    p = {"duration": None, "amount": None, "schedule": None, "payments": None}
    if "years" in changes:
        p["duration"] = {"before": _years_text(years_before), "after": _years_text(years_after),
                         "start": format_date(date(years_after[0], 1, 1)),
                         "end": format_date(date(years_after[-1], 12, 31))}
    if "amount_per_year" in changes or "amount_cents" in changes:
        after = changes.get("amount_per_year") or previous.get("amount_per_year") or []
        before = previous.get("amount_per_year") or after
        total_after = changes.get("amount_cents", sum(after))
        total_before = previous.get("amount_cents", sum(before))
        p["amount"] = {
            "total_before": euros(total_before), "total_before_words": amount_in_words(total_before),
            "total_after": euros(total_after), "total_after_words": amount_in_words(total_after),
            "years": [{"year": year, "amount": euros(cents), "words": amount_in_words(cents)}
                      for year, cents in zip(years_after, after)],
            "before_years": [{"year": year, "amount": euros(cents)} for year, cents in zip(years_before, before)],
        }
    dates = {}
    if changes.get("schedule"):
        p["schedule"] = []
        for old, new in zip(previous.get("schedule") or [], changes["schedule"]):
            dates[str(new["year"])] = new
            items = []
            if old.get("advance_percent") != new.get("advance_percent"):
                items.append(f"l'avance est fixée à {new['advance_percent']} % de la contribution de l'année "
                             f"(au lieu de {old.get('advance_percent')} %)")
            for kind, label in (("advance", "l'avance"), ("balance", "le solde")):
                if new.get(f"{kind}_on") and old.get(f"{kind}_on") != new.get(f"{kind}_on"):
                    items.append(f"{label} est versé au plus tard le "
                                 f"{format_date(date.fromisoformat(new[kind + '_on']))}")
            p["schedule"].append({"year": new["year"], "items": items})
    if "amount_per_year" in changes:
        p["payments"] = payment_rows(years_after, changes["amount_per_year"], data["advance_percent"], dates)
        p["payments_total"] = euros(sum(changes["amount_per_year"]))
    p["in_force_on"] = format_date(date.fromisoformat(data["in_force_on"])) if data.get("in_force_on") else ""
    p["convention_signed_on"] = (format_date(date.fromisoformat(data["convention_signed_on"]))
                                 if data.get("convention_signed_on") else "")
    return p


def amendment_html(data):
    return render_html("amendment.html", d=data, p={**presentation(data), **legal_presentation(data)})


def build_amendment_pdf(data):
    """The amendment as PDF bytes, from followup.amendments.amendment_data(...) (a plain dict)."""
    return html_to_pdf(amendment_html(data))
