"""Reference data of French territories: regions and départements.

Pure Python, no dependency. Regions are the current ones (since the 2016
reform) with their INSEE codes; départements carry their prefecture
(chef-lieu) and a valid postal code of that prefecture.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple


class Region(NamedTuple):
    code: str
    name: str

    @property
    def is_overseas(self) -> bool:
        """True for the single-département overseas regions (codes 01 to 06)."""
        return self.code.startswith("0")


class Departement(NamedTuple):
    code: str
    name: str
    region_code: str
    chef_lieu: str
    postal_code: str

    @property
    def is_overseas(self) -> bool:
        """True for overseas départements (outre-mer, codes 97x)."""
        return self.code.startswith("97")

    @property
    def region(self) -> Region:
        return REGION_BY_CODE[self.region_code]


def _name_sort_key(name: str) -> str:
    """Sort key ignoring accents and case (so « Île-de-France » sorts under I)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def departement_sort_key(code: str) -> tuple[int, str]:
    """Natural order of département codes: 01..19, 2A, 2B, 21..95, 971..976."""
    if code in ("2A", "2B"):
        return (20, code)
    return (int(code), "")


_REGIONS_DATA = (
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
)

REGIONS: tuple[Region, ...] = tuple(
    sorted((Region(*row) for row in _REGIONS_DATA), key=lambda r: _name_sort_key(r.name))
)

# (code, name, region_code, chef_lieu, postal_code)
_DEPARTEMENTS_DATA = (
    ("01", "Ain", "84", "Bourg-en-Bresse", "01000"),
    ("02", "Aisne", "32", "Laon", "02000"),
    ("03", "Allier", "84", "Moulins", "03000"),
    ("04", "Alpes-de-Haute-Provence", "93", "Digne-les-Bains", "04000"),
    ("05", "Hautes-Alpes", "93", "Gap", "05000"),
    ("06", "Alpes-Maritimes", "93", "Nice", "06000"),
    ("07", "Ardèche", "84", "Privas", "07000"),
    ("08", "Ardennes", "44", "Charleville-Mézières", "08000"),
    ("09", "Ariège", "76", "Foix", "09000"),
    ("10", "Aube", "44", "Troyes", "10000"),
    ("11", "Aude", "76", "Carcassonne", "11000"),
    ("12", "Aveyron", "76", "Rodez", "12000"),
    ("13", "Bouches-du-Rhône", "93", "Marseille", "13001"),
    ("14", "Calvados", "28", "Caen", "14000"),
    ("15", "Cantal", "84", "Aurillac", "15000"),
    ("16", "Charente", "75", "Angoulême", "16000"),
    ("17", "Charente-Maritime", "75", "La Rochelle", "17000"),
    ("18", "Cher", "24", "Bourges", "18000"),
    ("19", "Corrèze", "75", "Tulle", "19000"),
    ("2A", "Corse-du-Sud", "94", "Ajaccio", "20000"),
    ("2B", "Haute-Corse", "94", "Bastia", "20200"),
    ("21", "Côte-d'Or", "27", "Dijon", "21000"),
    ("22", "Côtes-d'Armor", "53", "Saint-Brieuc", "22000"),
    ("23", "Creuse", "75", "Guéret", "23000"),
    ("24", "Dordogne", "75", "Périgueux", "24000"),
    ("25", "Doubs", "27", "Besançon", "25000"),
    ("26", "Drôme", "84", "Valence", "26000"),
    ("27", "Eure", "28", "Évreux", "27000"),
    ("28", "Eure-et-Loir", "24", "Chartres", "28000"),
    ("29", "Finistère", "53", "Quimper", "29000"),
    ("30", "Gard", "76", "Nîmes", "30000"),
    ("31", "Haute-Garonne", "76", "Toulouse", "31000"),
    ("32", "Gers", "76", "Auch", "32000"),
    ("33", "Gironde", "75", "Bordeaux", "33000"),
    ("34", "Hérault", "76", "Montpellier", "34000"),
    ("35", "Ille-et-Vilaine", "53", "Rennes", "35000"),
    ("36", "Indre", "24", "Châteauroux", "36000"),
    ("37", "Indre-et-Loire", "24", "Tours", "37000"),
    ("38", "Isère", "84", "Grenoble", "38000"),
    ("39", "Jura", "27", "Lons-le-Saunier", "39000"),
    ("40", "Landes", "75", "Mont-de-Marsan", "40000"),
    ("41", "Loir-et-Cher", "24", "Blois", "41000"),
    ("42", "Loire", "84", "Saint-Étienne", "42000"),
    ("43", "Haute-Loire", "84", "Le Puy-en-Velay", "43000"),
    ("44", "Loire-Atlantique", "52", "Nantes", "44000"),
    ("45", "Loiret", "24", "Orléans", "45000"),
    ("46", "Lot", "76", "Cahors", "46000"),
    ("47", "Lot-et-Garonne", "75", "Agen", "47000"),
    ("48", "Lozère", "76", "Mende", "48000"),
    ("49", "Maine-et-Loire", "52", "Angers", "49000"),
    ("50", "Manche", "28", "Saint-Lô", "50000"),
    ("51", "Marne", "44", "Châlons-en-Champagne", "51000"),
    ("52", "Haute-Marne", "44", "Chaumont", "52000"),
    ("53", "Mayenne", "52", "Laval", "53000"),
    ("54", "Meurthe-et-Moselle", "44", "Nancy", "54000"),
    ("55", "Meuse", "44", "Bar-le-Duc", "55000"),
    ("56", "Morbihan", "53", "Vannes", "56000"),
    ("57", "Moselle", "44", "Metz", "57000"),
    ("58", "Nièvre", "27", "Nevers", "58000"),
    ("59", "Nord", "32", "Lille", "59000"),
    ("60", "Oise", "32", "Beauvais", "60000"),
    ("61", "Orne", "28", "Alençon", "61000"),
    ("62", "Pas-de-Calais", "32", "Arras", "62000"),
    ("63", "Puy-de-Dôme", "84", "Clermont-Ferrand", "63000"),
    ("64", "Pyrénées-Atlantiques", "75", "Pau", "64000"),
    ("65", "Hautes-Pyrénées", "76", "Tarbes", "65000"),
    ("66", "Pyrénées-Orientales", "76", "Perpignan", "66000"),
    ("67", "Bas-Rhin", "44", "Strasbourg", "67000"),
    ("68", "Haut-Rhin", "44", "Colmar", "68000"),
    ("69", "Rhône", "84", "Lyon", "69001"),
    ("70", "Haute-Saône", "27", "Vesoul", "70000"),
    ("71", "Saône-et-Loire", "27", "Mâcon", "71000"),
    ("72", "Sarthe", "52", "Le Mans", "72000"),
    ("73", "Savoie", "84", "Chambéry", "73000"),
    ("74", "Haute-Savoie", "84", "Annecy", "74000"),
    ("75", "Paris", "11", "Paris", "75001"),
    ("76", "Seine-Maritime", "28", "Rouen", "76000"),
    ("77", "Seine-et-Marne", "11", "Melun", "77000"),
    ("78", "Yvelines", "11", "Versailles", "78000"),
    ("79", "Deux-Sèvres", "75", "Niort", "79000"),
    ("80", "Somme", "32", "Amiens", "80000"),
    ("81", "Tarn", "76", "Albi", "81000"),
    ("82", "Tarn-et-Garonne", "76", "Montauban", "82000"),
    ("83", "Var", "93", "Toulon", "83000"),
    ("84", "Vaucluse", "93", "Avignon", "84000"),
    ("85", "Vendée", "52", "La Roche-sur-Yon", "85000"),
    ("86", "Vienne", "75", "Poitiers", "86000"),
    ("87", "Haute-Vienne", "75", "Limoges", "87000"),
    ("88", "Vosges", "44", "Épinal", "88000"),
    ("89", "Yonne", "27", "Auxerre", "89000"),
    ("90", "Territoire de Belfort", "27", "Belfort", "90000"),
    ("91", "Essonne", "11", "Évry-Courcouronnes", "91000"),
    ("92", "Hauts-de-Seine", "11", "Nanterre", "92000"),
    ("93", "Seine-Saint-Denis", "11", "Bobigny", "93000"),
    ("94", "Val-de-Marne", "11", "Créteil", "94000"),
    ("95", "Val-d'Oise", "11", "Cergy", "95000"),
    ("971", "Guadeloupe", "01", "Basse-Terre", "97100"),
    ("972", "Martinique", "02", "Fort-de-France", "97200"),
    ("973", "Guyane", "03", "Cayenne", "97300"),
    ("974", "La Réunion", "04", "Saint-Denis", "97400"),
    ("976", "Mayotte", "06", "Mamoudzou", "97600"),
)

DEPARTEMENTS: tuple[Departement, ...] = tuple(
    sorted((Departement(*row) for row in _DEPARTEMENTS_DATA), key=lambda d: departement_sort_key(d.code))
)

REGION_BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}
DEPARTEMENT_BY_CODE: dict[str, Departement] = {d.code: d for d in DEPARTEMENTS}

_POSTAL_CODE_RE = re.compile(r"^\d{5}$")


def region_of(departement_code: str) -> Region:
    """Region of a département. Raises KeyError for an unknown code."""
    return REGION_BY_CODE[DEPARTEMENT_BY_CODE[departement_code].region_code]


def departements_of_region(region_code: str) -> list[Departement]:
    """Départements of a region, in natural code order (empty if unknown)."""
    return [d for d in DEPARTEMENTS if d.region_code == region_code]


def departement_for_postal_code(postal_code: str | None) -> Departement | None:
    """Département of a 5-digit French postal code, or None if not resolvable.

    Corsica: 200xx/201xx -> 2A, 202xx/206xx -> 2B. Overseas: 971xx..976xx ->
    3-digit codes (975, Saint-Pierre-et-Miquelon, is not a département).
    Otherwise the first two digits.
    """
    if postal_code is None:
        return None
    postal_code = str(postal_code).strip()
    if not _POSTAL_CODE_RE.match(postal_code):
        return None
    if postal_code.startswith("20"):
        third = postal_code[2]
        if third in "01":
            code = "2A"
        elif third in "26":
            code = "2B"
        else:
            return None
    elif postal_code.startswith("97"):
        code = postal_code[:3]
    else:
        code = postal_code[:2]
    return DEPARTEMENT_BY_CODE.get(code)


def departement_choices() -> list[tuple[str, str]]:
    """[(code, "code – name")] in natural code order, for form select fields."""
    return [(d.code, f"{d.code} – {d.name}") for d in DEPARTEMENTS]


def region_choices() -> list[tuple[str, str]]:
    """[(code, name)] sorted by name, for form select fields."""
    return [(r.code, r.name) for r in REGIONS]
