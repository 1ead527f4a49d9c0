"""The project budget, laid out as the State's subsidy application form lays it out.

Structure: Cerfa n° 12156*06 (« Demande de subvention(s) », formulaire unique des associations,
décret n° 2016-1971), fiche « Budget du projet »: the charges and the products by nature, numbered
as in the associations' chart of accounts (classes 6 and 7), the total of the charges equal to the
total of the products; the voluntary contributions in kind apart (86 « emplois » = 87
« contributions »), outside both totals. Line 74 (subventions d'exploitation) lists the funders;
its first line is the grant asked for in THIS call (the State, DJEPVA).

Storage (Application.budget): integer cents by year of the project then by line code,
    {"1": {"64": 18000000, "74_aap": 10000000, ...}, "2": {...}, ...}
year "k" being the calendar year call.year + k - 1 (keys by rank, so that a call whose opening
moves to another calendar year keeps its drafts' budgets); an empty cell is absent. A call with
years > 1 (convention pluriannuelle) has one budget per year, each balanced: the convention's
annex II shows them year by year. The amount requested and its split per year are the grant
line of each year: they cannot disagree with the budget.

Everything here is pure (no database, no Flask): the line definitions, the totals, the share the
grant represents, the checks made at deposit, what the rest of the application derives from the
budget (derived()), and the table the templates show (view()).
"""
from dataclasses import dataclass, field

from .. import money

CHARGES, PRODUCTS, KIND_CHARGES, KIND_PRODUCTS = "charges", "products", "kind_charges", "kind_products"
GRANT = "74_aap"   # the grant asked for in this call


@dataclass(frozen=True)
class Line:
    code: str          # key in the stored budget: the account number, with a suffix for the funders of 74
    label: str
    side: str          # CHARGES, PRODUCTS, KIND_CHARGES or KIND_PRODUCTS
    hint: str = ""
    group: str = ""    # "74" for the funders of the subventions d'exploitation


# Cerfa n° 12156*06, « Budget du projet » (the sub-accounts of each line are given as hints).
LINES = (
    Line("60", "60 – Achats", CHARGES,
         "Prestations de services, achats de matières et fournitures, autres fournitures"),
    Line("61", "61 – Services extérieurs", CHARGES, "Locations, entretien et réparation, assurances, documentation"),
    Line("62", "62 – Autres services extérieurs", CHARGES,
         "Rémunérations intermédiaires et honoraires, publicité et publication, déplacements et missions, "
         "services bancaires"),
    Line("63", "63 – Impôts et taxes", CHARGES, "Impôts et taxes sur rémunérations, autres impôts et taxes"),
    Line("64", "64 – Charges de personnel", CHARGES,
         "Rémunération des personnels, charges sociales, autres charges de personnel"),
    Line("65", "65 – Autres charges de gestion courante", CHARGES),
    Line("66", "66 – Charges financières", CHARGES),
    Line("67", "67 – Charges exceptionnelles", CHARGES),
    Line("68", "68 – Dotations aux amortissements", CHARGES, "Amortissements, provisions et engagements"),
    Line("70", "70 – Ventes de produits finis, de marchandises, prestations de services", PRODUCTS),
    Line("73", "73 – Dotations et produits de tarification", PRODUCTS),
    Line(GRANT, "État : subvention demandée dans le cadre de cet appel à projets (DJEPVA)", PRODUCTS,
         "Le montant demandé : la ligne que l'appel finance", group="74"),
    Line("74_etat", "État : autres ministères, directions ou services déconcentrés", PRODUCTS, group="74"),
    Line("74_region", "Région(s)", PRODUCTS, group="74"),
    Line("74_departement", "Département(s)", PRODUCTS, group="74"),
    Line("74_epci", "Intercommunalité(s) : EPCI", PRODUCTS, group="74"),
    Line("74_commune", "Commune(s)", PRODUCTS, group="74"),
    Line("74_social", "Organismes sociaux (CAF, etc.)", PRODUCTS, group="74"),
    Line("74_europe", "Fonds européens (FSE, FEDER, etc.)", PRODUCTS, group="74"),
    Line("74_asp", "Agence de services et de paiement (emplois aidés)", PRODUCTS, group="74"),
    Line("74_public", "Autres établissements publics", PRODUCTS, group="74"),
    Line("74_prive", "Aides privées (fondations, mécénat d'entreprise)", PRODUCTS, group="74"),
    Line("75", "75 – Autres produits de gestion courante", PRODUCTS, "Dont cotisations, dons manuels ou legs"),
    Line("76", "76 – Produits financiers", PRODUCTS),
    Line("78", "78 – Reprises sur amortissements et provisions", PRODUCTS),
    Line("86", "86 – Emplois des contributions volontaires en nature", KIND_CHARGES,
         "Secours en nature, mise à disposition gratuite de biens et services, prestations, personnel bénévole"),
    Line("87", "87 – Contributions volontaires en nature", KIND_PRODUCTS,
         "Bénévolat, prestations en nature, dons en nature"),
)
GROUP_LABELS = {"74": "74 – Subventions d'exploitation"}
BY_CODE = {line.code: line for line in LINES}
CODES = tuple(BY_CODE)


def year_keys(years):
    return [str(k) for k in range(1, max(int(years or 1), 1) + 1)]


def field_name(year, code):
    """The form field (and HTML id) of one cell: budget_<year rank>_<line code>."""
    return f"budget_{year}_{code}"


def year_label(first_year, years, year):
    """« 2026 » for the second year of a call of 2025 (« année 2 » when the call's year is not
    known); « Montant » for an annual call."""
    if years <= 1:
        return "Montant"
    return str(int(first_year) + int(year) - 1) if first_year else f"année {year}"


def clean(value, years):
    """The stored form of a budget: only the call's years and the known lines, whole cents ≥ 0."""
    out = {}
    for year in year_keys(years):
        cells = (value or {}).get(year) or {}
        out[year] = {code: int(cells[code]) for code in CODES
                     if cells.get(code) is not None and int(cells[code]) >= 0}
    return out


def is_empty(value):
    return not any(cells for cells in (value or {}).values())


# ---------------------------------------------------------------------------------------------
# Totals

@dataclass(frozen=True)
class Totals:
    charges: int = 0
    products: int = 0
    kind_charges: int = 0
    kind_products: int = 0
    grant: int = 0

    @property
    def difference(self):
        """Products less charges: 0 when balanced, negative when products are missing."""
        return self.products - self.charges

    @property
    def kind_difference(self):
        return self.kind_products - self.kind_charges

    def __add__(self, other):
        return Totals(*(getattr(self, f) + getattr(other, f)
                        for f in ("charges", "products", "kind_charges", "kind_products", "grant")))


def year_totals(cells):
    """The totals of one year's cells ({code: cents})."""
    sums = {CHARGES: 0, PRODUCTS: 0, KIND_CHARGES: 0, KIND_PRODUCTS: 0}
    for code, cents in (cells or {}).items():
        line = BY_CODE.get(code)
        if line is not None and cents is not None:
            sums[line.side] += int(cents)
    return Totals(sums[CHARGES], sums[PRODUCTS], sums[KIND_CHARGES], sums[KIND_PRODUCTS],
                  int((cells or {}).get(GRANT) or 0))


def totals(value, years):
    """([Totals of each year], Totals of the whole project)."""
    per_year = [year_totals((value or {}).get(year)) for year in year_keys(years)]
    overall = Totals()
    for item in per_year:
        overall = overall + item
    return per_year, overall


def share_text(grant, charges):
    """The share of the project's cost the grant represents, « 33,3 % » (half up); "" without cost.

    Integer arithmetic, the same as aap/static/app/budget.js, so that both show the same figure."""
    if not charges:
        return ""
    tenths = (int(grant) * 2000 + int(charges)) // (2 * int(charges))
    return f"{tenths // 10},{tenths % 10}\u00a0%"


def balance_text(sums):
    """The balance of a year (or of the whole) as shown under the totals: « — » while nothing is typed."""
    return "—" if sums.charges == 0 and sums.products == 0 else difference_text(sums.difference)


def difference_text(difference):
    """What the gap between products and charges means, in French (also in budget.js)."""
    if difference == 0:
        return "Budget équilibré"
    if difference < 0:
        return f"Il manque {money.format_euros(-difference)} de produits"
    return f"Les produits dépassent les charges de {money.format_euros(difference)}"


# ---------------------------------------------------------------------------------------------
# What the rest of the application reads

def derived(value, years):
    """The application's columns that follow the budget (kept so that ranking, selection,
    conventions and exports read them as before): the amount requested (the grant line of every
    year), its split per year, the total cost (the charges, without the contributions in kind)
    and the project's other resources (every other product line, summed over the years: the
    convention's annex adds them to the grant to make its « total des ressources »)."""
    keys = year_keys(years)
    grants = [((value or {}).get(year) or {}).get(GRANT) for year in keys]
    per_year, overall = totals(value, years)
    has_charges = any(((value or {}).get(year) or {}).get(line.code) is not None
                      for year in keys for line in LINES if line.side == CHARGES)
    cofunding = []
    for line in LINES:
        if line.side == PRODUCTS and line.code != GRANT:
            amount = sum(int(((value or {}).get(year) or {}).get(line.code) or 0) for year in keys)
            if amount:
                cofunding.append({"funder": line.label, "amount_cents": amount})
    return {
        "requested_cents": None if all(g is None for g in grants) else sum(int(g or 0) for g in grants),
        "requested_per_year": [] if all(g is None for g in grants) else [int(g or 0) for g in grants],
        "total_cost_cents": overall.charges if has_charges else None,
        "cofunding": cofunding,
    }


@dataclass(frozen=True)
class Problem:
    """A reason why the budget cannot be deposited, shown next to its field."""
    text: str                 # starts in lower case, ends with a full stop
    year: str | None = None   # the year's rank; None: the whole project
    code: str = ""            # a line code, or "balance", "kind"
    year_label: str = ""      # « 2026 » for a year of a multi-year call

    @property
    def anchor(self):
        """The id of the field it points at (the deposit page links to it)."""
        year = self.year or "1"
        if self.code == "balance":
            return f"budget-{year}-balance"
        if self.code == "kind":
            return field_name(year, "87")
        return field_name(year, self.code or GRANT)

    @property
    def message(self):
        """As shown next to the field: « Année 2026 : indiquez… »."""
        if self.year_label:
            return f"Année {self.year_label} : {self.text}"
        return self.text[0].upper() + self.text[1:]

    @property
    def item(self):
        """As listed on the deposit page: « Le budget, année 2026 : indiquez… »."""
        return f"Le budget{', année ' + self.year_label if self.year_label else ''} : {self.text}"


def problems(value, years, first_year, min_cents=0, max_cents=0):
    """Why this budget cannot be deposited (nothing for an empty budget: that one is simply
    missing). Each year: the grant line filled, some charges, products equal to charges,
    contributions in kind balanced; the whole: the amount requested within the call's bounds
    and not above the project's cost. (The amounts requested per year add up to the amount
    requested by construction: it is their sum.)"""
    if is_empty(value):
        return []
    found = []
    multi = years > 1
    euros = money.format_euros
    per_year, overall = totals(value, years)
    for year, sums in zip(year_keys(years), per_year):
        cells = (value or {}).get(year) or {}
        label = year_label(first_year, years, year) if multi else ""
        if cells.get(GRANT) is None:
            found.append(Problem("indiquez le montant demandé à l'État dans le cadre de cet appel (ligne 74).",
                                 year, GRANT, label))
        if sums.charges == 0:
            found.append(Problem("indiquez les charges du projet (lignes 60 à 68).", year, "60", label))
        elif sums.difference != 0:
            gap = difference_text(sums.difference)
            found.append(Problem(f"le total des produits ({euros(sums.products)}) doit être égal au total des "
                                 f"charges ({euros(sums.charges)}) : {gap[0].lower()}{gap[1:]}.",
                                 year, "balance", label))
        if sums.kind_difference != 0:
            found.append(Problem(f"les contributions volontaires en nature (ligne 87, {euros(sums.kind_products)}) "
                                 f"doivent être égales à leurs emplois (ligne 86, {euros(sums.kind_charges)}).",
                                 year, "kind", label))
    if any(((value or {}).get(y) or {}).get(GRANT) is not None for y in year_keys(years)):
        requested = overall.grant
        what = f"le montant demandé sur les {years} ans" if multi else "le montant demandé"
        if min_cents and requested < min_cents:
            found.append(Problem(f"{what} ({euros(requested)}) est inférieur au minimum de l'appel "
                                 f"({euros(min_cents)}).", None, GRANT))
        if max_cents and requested > max_cents:
            found.append(Problem(f"{what} ({euros(requested)}) dépasse le maximum de l'appel ({euros(max_cents)}).",
                                 None, GRANT))
        if overall.charges and requested > overall.charges:
            found.append(Problem(f"{what} ({euros(requested)}) dépasse le coût total du projet "
                                 f"({euros(overall.charges)}).", None, GRANT))
    return found


# ---------------------------------------------------------------------------------------------
# Reading

def summary_text(value, years, first_year):
    """One line per year, for conflict messages and plain-text views."""
    if is_empty(value):
        return ""
    per_year, _ = totals(value, years)
    parts = []
    for year, sums in zip(year_keys(years), per_year):
        label = f"{year_label(first_year, years, year)} : " if years > 1 else ""
        parts.append(f"{label}charges {money.format_euros(sums.charges)}, produits "
                     f"{money.format_euros(sums.products)}, dont subvention demandée {money.format_euros(sums.grant)}")
    return "\n".join(parts)


@dataclass
class Row:
    line: Line
    cells: list            # cents or None, one per year
    total: int = 0


@dataclass
class View:
    """The budget as the templates show it (tables of the form, of the file, of the receipt)."""
    years: list            # [(key, label)]
    charges: list
    products: list         # the 74 funders carry line.group
    kind: list             # 86 then 87
    per_year: list         # Totals of each year
    overall: Totals
    multi: bool
    problems: list = field(default_factory=list)

    def columns(self):
        """[(year key or "all", totals, text of the balance, share of the grant)], the years then the
        whole project (a multi-year budget only)."""
        out = [(key, sums, balance_text(sums), share_text(sums.grant, sums.charges))
               for (key, _), sums in zip(self.years, self.per_year)]
        if self.multi:
            out.append(("all", self.overall, balance_text(self.overall),
                        share_text(self.overall.grant, self.overall.charges)))
        return out

    @property
    def empty(self):
        return not any(c is not None for row in self.charges + self.products + self.kind for c in row.cells)

    def problems_for(self, code):
        return [p for p in self.problems if (p.code or GRANT) == code]


def view(value, years, first_year, found=None):
    keys = year_keys(years)
    rows = {CHARGES: [], PRODUCTS: [], "kind": []}
    for line in LINES:
        cells = [((value or {}).get(year) or {}).get(line.code) for year in keys]
        row = Row(line, cells, sum(int(c or 0) for c in cells))
        rows["kind" if line.side in (KIND_CHARGES, KIND_PRODUCTS) else line.side].append(row)
    per_year, overall = totals(value, years)
    return View([(k, year_label(first_year, years, k)) for k in keys], rows[CHARGES], rows[PRODUCTS],
                rows["kind"], per_year, overall, years > 1, list(found or []))


def view_of_snapshot(section, call):
    """The view of a deposited budget from a snapshot's budget section and call ({"years", "year"}).
    A snapshot taken before the budget by nature has none: an empty view (its requested_cents)."""
    years = int((call or {}).get("years") or 1)
    return view(clean((section or {}).get("budget") or {}, years), years, int((call or {}).get("year") or 0))


# ---------------------------------------------------------------------------------------------
# The budget as granted (the convention's annex II)

def fits_grant(value, amounts, years):
    """Whether a budget can be the convention's annex as it stands: each year's grant line is the
    amount granted that year (`amounts`: cents, one per year), its charges are filled and equal its
    products, its contributions in kind balance."""
    if value is None or is_empty(value):
        return False
    per_year, _ = totals(value, years)
    return len(amounts) == len(per_year) and all(
        sums.grant == int(amount) and sums.charges > 0 and sums.difference == 0 and sums.kind_difference == 0
        for sums, amount in zip(per_year, amounts))


def as_granted(deposited, adjusted, amounts, years):
    """The project's budget as granted: the adjusted one when it fits the grant, else the deposited
    one when it does (a grant equal to the request); None while the budget is still to adjust."""
    for candidate in (adjusted, deposited):
        if candidate is not None and fits_grant(clean(candidate, years), amounts, years):
            return clean(candidate, years)
    return None


def with_grant(value, amounts, years):
    """The budget with each year's grant line set to the amount granted (the other lines as they are)."""
    out = clean(value, years)
    for year, amount in zip(year_keys(years), amounts):
        out[year][GRANT] = int(amount)
    return out


# The charges a reduced project gives up first (reduced_to_grant): staff, then outside services.
REDUCTION_ORDER = ("64", "62", "61", "60", "63", "65", "66", "67", "68")


def reduced_to_grant(value, amounts, years):
    """The budget with each year's grant line set to the amount granted and, when the grant is lower
    than asked, the charges reduced by the same amount (staff first, then in REDUCTION_ORDER), so
    that each year balances again: what a project scaled down to its grant looks like."""
    out = with_grant(value, amounts, years)
    for year in year_keys(years):
        cells = out[year]
        gap = year_totals(cells).difference
        for code in REDUCTION_ORDER:
            if gap >= 0:
                break
            cut = min(cells.get(code) or 0, -gap)
            if cut:
                cells[code] -= cut
                gap += cut
    return out


def adjustment_problems(value, amounts, years, first_year):
    """Why an adjusted budget cannot be the convention's annex: the deposit's checks of each year
    (charges filled, products equal to charges, contributions in kind balanced), the grant line
    being fixed at the amount granted."""
    return [p for p in problems(with_grant(value, amounts, years), years, first_year) if p.year is not None]
