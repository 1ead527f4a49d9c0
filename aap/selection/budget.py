"""Budget and territorial balance of a set of winners. Pure functions on plain data.

Two meanings of « territorial coverage », always named: by head office (« par siège »: the région
where the association is) and by action territories (« par territoires d'action »: the
départements where its young people are reached, declared by the file)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS, REGION_BY_CODE, REGIONS, departement_sort_key


@dataclass(frozen=True)
class Winner:
    amount_cents: int
    region_code: str | None          # the association's région (seat)
    departements: tuple = ()         # départements where the project runs (declared by the file)
    young_count: int = 0
    share_qpv: int | None = None     # percent of the young people
    share_zrr: int | None = None     # percent of the young people in rural zones (FRR, formerly ZRR)
    amount_per_year: tuple = ()      # cents per year of the call (() : split evenly)


@dataclass
class YearLine:
    year: int | None
    envelope_cents: int
    granted_cents: int = 0

    @property
    def remaining_cents(self):
        return self.envelope_cents - self.granted_cents

    @property
    def over_budget(self):
        return self.granted_cents > self.envelope_cents


def split(total_cents, years, given=()):
    """An amount per year: `given` when it sums to the total, else split evenly."""
    years = max(int(years or 1), 1)
    given = tuple(int(v or 0) for v in given or ())
    if len(given) == years and sum(given) == total_cents:
        return given
    base, remainder = divmod(int(total_cents or 0), years)
    return tuple(base + (1 if i < remainder else 0) for i in range(years))


@dataclass
class RegionLine:
    code: str | None
    name: str
    winners: int = 0
    amount_cents: int = 0
    young_count: int = 0


@dataclass
class Summary:
    envelope_cents: int
    granted_cents: int = 0
    winners: int = 0
    regions: list = field(default_factory=list)          # [RegionLine] by name, with 0 for the régions
                                                         # with candidates but no winner (by head office)
    regions_covered: list = field(default_factory=list)  # codes of régions with a winner's action territory
    regions_by_seat: list = field(default_factory=list)  # codes of régions with a winner's head office
    years: list = field(default_factory=list)            # [YearLine], one per year of the call
    departements_covered: list = field(default_factory=list)
    young_count: int = 0
    qpv_percent: float | None = None
    zrr_percent: float | None = None
    freed_cents: int = 0      # granted, then renounced or withdrawn (no longer in granted_cents)
    freed_files: int = 0

    @property
    def remaining_cents(self):
        return self.envelope_cents - self.granted_cents

    @property
    def over_budget(self):
        return self.granted_cents > self.envelope_cents

    @property
    def cost_per_young_cents(self):
        """Per young person and per year: the head counts are yearly, the amounts for every year."""
        if not self.young_count:
            return None
        return round(self.granted_cents / max(len(self.years), 1) / self.young_count)

    @property
    def regions_uncovered(self):
        covered = set(self.regions_covered)
        return [r for r in REGIONS if r.code not in covered]

    @property
    def region_total(self):
        return len(REGIONS)

    @property
    def departement_total(self):
        return len(DEPARTEMENTS)


def summarise(envelope_cents, winners, envelopes=(), first_year=None, candidate_regions=()):
    """Envelope, granted, remaining (in total and per year: `envelopes`, one per year from
    `first_year`); per région (head office) winners, amount, young people, with 0 for the
    `candidate_regions` without a winner; coverage in both meanings; QPV / FRR shares."""
    summary = Summary(envelope_cents=envelope_cents)
    envelopes = tuple(envelopes) or (envelope_cents,)
    summary.years = [YearLine(year=None if first_year is None else first_year + i, envelope_cents=envelope)
                     for i, envelope in enumerate(envelopes)]
    lines = {}
    departements = set()
    weighted_qpv = weighted_zrr = 0.0
    young_qpv = young_zrr = 0
    for winner in winners:
        summary.winners += 1
        summary.granted_cents += winner.amount_cents or 0
        young = winner.young_count or 0
        summary.young_count += young
        code = winner.region_code
        line = lines.get(code)
        if line is None:
            region = REGION_BY_CODE.get(code) if code else None
            line = lines[code] = RegionLine(code=code, name=region.name if region else "Région non renseignée")
        line.winners += 1
        line.amount_cents += winner.amount_cents or 0
        for year, amount in zip(summary.years, split(winner.amount_cents or 0, len(envelopes),
                                                     winner.amount_per_year)):
            year.granted_cents += amount
        line.young_count += young
        departements.update(d for d in winner.departements or () if d in DEPARTEMENT_BY_CODE)
        if winner.share_qpv is not None:
            weighted_qpv += young * winner.share_qpv / 100
            young_qpv += young
        if winner.share_zrr is not None:
            weighted_zrr += young * winner.share_zrr / 100
            young_zrr += young
    summary.regions_by_seat = [r.code for r in REGIONS if r.code in lines]
    for code in candidate_regions:
        if code in REGION_BY_CODE and code not in lines:
            lines[code] = RegionLine(code=code, name=REGION_BY_CODE[code].name)
    summary.regions = sorted(lines.values(), key=lambda line: (line.code is None, line.name))
    summary.departements_covered = sorted(departements, key=departement_sort_key)
    covered = {DEPARTEMENT_BY_CODE[d].region_code for d in departements}
    summary.regions_covered = [r.code for r in REGIONS if r.code in covered]
    if summary.young_count:
        # Young people of files that did not give the share count in the denominator (unknown = 0).
        summary.qpv_percent = 100 * weighted_qpv / summary.young_count if young_qpv else None
        summary.zrr_percent = 100 * weighted_zrr / summary.young_count if young_zrr else None
    return summary
