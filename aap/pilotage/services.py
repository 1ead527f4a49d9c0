"""Changes of the steering page: the plan's reference figures (admins only)."""
from sqlalchemy import select

from .. import events
from ..database import lock
from ..extensions import db
from ..models.followup import PlanFigure

# The plan's history as the 2025 call states it. The Senate's opinion on the 2026 budget bill
# (programme 163, https://www.senat.fr/rap/a25-144-62/a25-144-623.html) counts 72,000 young people
# in 2021 and more than 135,000 in 2023 and 2024: admins correct these on the page.
DEFAULT_FIGURES = [
    (2021, 40000, "Appel à projets 2025 « 1 jeune 1 mentor » (40\u202f000 jeunes en 2021) ; le Sénat, avis sur le "
                  "PLF 2026 (programme 163), en compte 72\u202f000"),
    (2024, 150000, "Appel à projets 2025 « 1 jeune 1 mentor » (plus de 150\u202f000 jeunes en 2024) ; le Sénat, avis "
                   "sur le PLF 2026 (programme 163), en compte plus de 135\u202f000"),
]


class FigureError(ValueError):
    pass


def save_reference_figure(actor, *, year, young_people, label):
    """Create or change the reference figure of a year; recorded in the journal."""
    if not 2000 <= year <= 2100:
        raise FigureError("Saisissez une année entre 2000 et 2100.")
    if young_people < 0:
        raise FigureError("Le nombre de jeunes ne peut pas être négatif.")
    figure = db.session.scalar(select(PlanFigure).where(PlanFigure.year == year))
    if figure is not None:
        figure = lock(figure)
    before = None if figure is None else figure.young_people
    if figure is None:
        figure = PlanFigure(year=year)
        db.session.add(figure)
    figure.young_people = young_people
    figure.label = label.strip()
    figure.updated_by_id = actor.id
    db.session.flush()
    events.record("plan_figure_saved", actor=actor, year=year, young_people=young_people, previous=before)
    return figure


def delete_reference_figure(actor, year):
    figure = db.session.scalar(select(PlanFigure).where(PlanFigure.year == year))
    if figure is None:
        raise FigureError(f"Aucun chiffre de référence pour {year}.")
    figure = lock(figure)
    events.record("plan_figure_deleted", actor=actor, year=figure.year, young_people=figure.young_people)
    db.session.delete(figure)
    db.session.flush()


def ensure_reference_figures(actor=None):
    """The plan's default reference figures (DEFAULT_FIGURES), for the years that have none yet
    (an admin's change is kept). Returns how many were added. Flushes; the caller commits."""
    existing = set(db.session.scalars(select(PlanFigure.year)))
    added = 0
    for year, young_people, label in DEFAULT_FIGURES:
        if year not in existing:
            db.session.add(PlanFigure(year=year, young_people=young_people, label=label,
                                      updated_by_id=getattr(actor, "id", None)))
            added += 1
    db.session.flush()
    return added
