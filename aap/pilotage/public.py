"""What the call's public page shows once its decisions are published: the winners (association,
commune and département of its head office, project title, amount granted — what the publication
of the grants makes public, as the SCDL file does) and the map of winners per département. Never
a contact, a reviewer, a score, nor anything of the files not retained."""
from ..documents.data import amounts_per_year, winners
from ..referentiel import DEPARTEMENT_BY_CODE
from . import figures


def public_winners(call):
    """[{name, commune, departement, title, amount_cents}] of the call's winners (empty before
    the decisions are published), by association name."""
    rows = []
    for application in winners(call.id):
        association = application.association
        departement = DEPARTEMENT_BY_CODE.get(association.departement_code or "")
        rows.append({
            "name": association.name,
            "commune": association.commune,
            "departement": f"{departement.name} ({departement.code})" if departement else "",
            "title": application.title,
            "amount_cents": sum(amounts_per_year(application.decision, max(call.years, 1))),
        })
    return sorted(rows, key=lambda row: row["name"].casefold())


def public_departements(call):
    """The département rows of the map (winners per département), from the same rule as the
    steering page."""
    return figures.compute(call.id).departements
