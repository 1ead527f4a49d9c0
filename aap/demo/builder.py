"""Drawing the demo's people, associations, identifiers and projects from one random.Random."""
import math
import random
import re
import unicodedata
from datetime import date, datetime, timedelta

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.fr import siret as std_siret

from .. import timeutil
from ..applications.budget import derived as budget_derived
from ..models import Application, Association, Call, User
from ..models.applications import Status
from ..models.review import FAVORABLE, RESERVED, UNFAVORABLE
from ..referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS, REGIONS, departements_of_region
from ..transitions import APPLICATION, CALL
from .vocabulary import (
    BANKS,
    DEPARTEMENT_WEIGHTS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    FOLLOW_UP,
    FUNCTIONS,
    FUNDERS,
    LAST_NAMES,
    MENTORING_FORMS,
    NAME_HEADS,
    NAME_TAILS,
    OBJECTIVES,
    PARTNERS,
    PHONE_PREFIX,
    PROJECT_TITLES,
    RECRUITMENT,
    RURAL_OPENINGS,
    RURAL_TITLES,
    STREETS,
    SUMMARY_ENDINGS,
    SUMMARY_MIDDLES,
    SUMMARY_OPENINGS,
    TRAINING,
    YOUNG_BY_REGION,
)

EURO = 100  # cents


def paris(year, month, day, hour=0, minute=0, second=0):
    return timeutil.paris_to_utc(datetime(year, month, day, hour, minute, second))


# ---------------------------------------------------------------- identifiers

def make_siret(rng, taken):
    """A SIRET whose SIREN and SIRET both pass the Luhn check (associations: SIREN 77x-89x)."""
    while True:
        siren8 = rng.choice(["77", "78", "79", "80", "81", "82", "83", "84", "85", "88", "89"]) + \
            "".join(rng.choice("0123456789") for _ in range(6))
        siren = siren8 + luhn.calc_check_digit(siren8)
        # Most associations have one establishment (NIC 0001x); some have several.
        if rng.random() < 0.7:
            nic4 = "000" + rng.choice("123")
        else:
            nic4 = "".join(rng.choice("0123456789") for _ in range(4))
        body = siren + nic4
        siret = body + luhn.calc_check_digit(body)
        if siret not in taken and std_siret.is_valid(siret):
            taken.add(siret)
            return siret


def make_iban(rng):
    """A French IBAN with a valid RIB key and valid IBAN check digits, and its bank's BIC."""
    bank, bic = rng.choice(BANKS)
    branch = "".join(rng.choice("0123456789") for _ in range(5))
    account = "".join(rng.choice("0123456789") for _ in range(11))
    key = 97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97)
    bban = f"{bank}{branch}{account}{key:02d}"
    iban = "FR" + std_iban.calc_check_digits("FR00" + bban) + bban
    return std_iban.validate(iban), bic


def make_rna(rng, departement_code, taken):
    prefix = {"2A": "201", "2B": "202"}.get(departement_code, departement_code.ljust(3, "1")[:3])
    while True:
        rna = "W" + prefix + "".join(rng.choice("0123456789") for _ in range(6))
        if rna not in taken:
            taken.add(rna)
            return rna


def ascii_slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def acronym_of(name):
    words = [w for w in re.split(r"[\s'’-]+", name) if w and w[0].isupper() and w not in ("Association",)]
    letters = "".join(unicodedata.normalize("NFKD", w[0]).encode("ascii", "ignore").decode() for w in words)
    return letters.upper()[:8]


def de_place(city):
    """« de Lyon », « d'Angers », « du Mans », « de La Rochelle »."""
    if city.startswith("Le "):
        return "du " + city[3:]
    if city.startswith("Les "):
        return "des " + city[4:]
    if unicodedata.normalize("NFKD", city[0]).encode("ascii", "ignore").decode().lower() in "aeiouyh":
        return "d'" + city
    return "de " + city


def a_place(city):
    """« à Lyon », « au Mans »."""
    if city.startswith("Le "):
        return "au " + city[3:]
    if city.startswith("Les "):
        return "aux " + city[4:]
    return "à " + city


def young_weight(departement):
    """The young people of a département (thousands, roughly): its région's, shared by weight."""
    weights = [DEPARTEMENT_WEIGHTS.get(d.code, 1) for d in departements_of_region(departement.region_code)]
    return YOUNG_BY_REGION[departement.region_code] * DEPARTEMENT_WEIGHTS.get(departement.code, 1) / sum(weights)


def thousands(n):
    return f"{n:,}".replace(",", "\u202f")


def recommendation_for(values):
    """A reviewer's recommendation that agrees with the scores they gave."""
    mean = sum(values) / len(values)
    return FAVORABLE if mean >= 3.4 else RESERVED if mean >= 2.4 else UNFAVORABLE


def phone_for(rng, region_code):
    prefix = PHONE_PREFIX.get(region_code, "09")
    digits = "".join(rng.choice("0123456789") for _ in range(10 - len(prefix)))
    number = prefix + digits
    return " ".join(number[i:i + 2] for i in range(0, 10, 2))


def split_years(amount, years):
    """An amount in cents split over the years (multiples of 100 €, the remainder in year 1)."""
    if years <= 1:
        return [amount]
    share = (amount // years) // (100 * EURO) * (100 * EURO)
    return [amount - share * (years - 1)] + [share] * (years - 1)


# The line of Cerfa 12156's budget each funder of the demo goes to (aap/applications/budget.py).
FUNDER_LINES = {"Conseil régional": "74_region", "Conseil départemental": "74_departement", "Ville": "74_commune",
                "Caisse d'allocations familiales": "74_social", "Fondation d'entreprise": "74_prive",
                "Fonds social européen (FSE+)": "74_europe", "Mécénat privé": "74_prive"}
# How a year's charges split by nature (per cent; the rest, the staff, on line 64).
CHARGE_SHARES = (("60", 5), ("61", 8), ("62", 17), ("63", 3))
VOLUNTEERING_PER_MENTOR = 150 * EURO  # a mentor's time a year (some 13 hours at the SMIC), valued in kind


def project_budget(total, requested, cofunding, mentors, years):
    """A balanced budget by nature, year by year, from the amounts already drawn (no draw of its own,
    so that the demo's other draws stay the same): the grant split as split_years(), each co-funder
    and the association's own resources (line 75) split evenly; each year's charges equal its
    products, split by nature; the mentors' volunteering valued on lines 86 and 87. Returns
    (budget, remark naming the co-funders)."""
    def even(amount):  # in whole euros, the remainder in year 1
        euros, cents = divmod(amount, EURO)
        base, rest = divmod(euros, years)
        return [(base + (rest if i == 0 else 0)) * EURO + (cents if i == 0 else 0) for i in range(years)]

    result = {str(k): {} for k in range(1, years + 1)}
    own = total - requested - sum(line["amount_cents"] for line in cofunding)
    for key, amount in zip(result, split_years(requested, years)):
        result[key]["74_aap"] = amount
    for line in cofunding:
        code = FUNDER_LINES.get(line["funder"], "74_public")
        for key, amount in zip(result, even(line["amount_cents"])):
            result[key][code] = result[key].get(code, 0) + amount
    if own:
        for key, amount in zip(result, even(own)):
            result[key]["75"] = amount
    for cells in result.values():
        charges = sum(cells.values())
        for code, percent in CHARGE_SHARES:
            cells[code] = charges * percent // 100 // EURO * EURO
        cells["64"] = charges - sum(cells[code] for code, _ in CHARGE_SHARES)
        if mentors:
            cells["86"] = cells["87"] = mentors * VOLUNTEERING_PER_MENTOR
    statuses = {"obtenu": "obtenu", "demande": "demandé"}
    remark = []
    if cofunding:
        remark.append("Cofinanceurs : " + " ; ".join(f"{line['funder']} ({statuses[line['status']]})"
                                                      for line in cofunding) + ".")
    if own:
        remark.append("Ligne 75 : cotisations et dons des adhérents et des entreprises partenaires.")
    return result, "\n".join(remark)


def round_to(cents, step_euros):
    step = step_euros * EURO
    return int(round(cents / step)) * step


# ---------------------------------------------------------------- builder

# Courts of the registers of associations of the local law, by département (the demo's choice).
LOCAL_REGISTERS = {"57": ("Metz", "Thionville", "Sarreguemines"), "67": ("Strasbourg", "Saverne"),
                   "68": ("Colmar", "Mulhouse")}


def _legal_identity(association, departement):
    """The identifier of the association's legal form (aap/associations/legal.py), drawn from a
    generator of its own (the demo's is left as it was): the register's entry for the local law, the
    decree for a recognised association or foundation; no RNA for those that have none."""
    rng = random.Random(f"legal-{association.siret}")
    form = association.legal_form
    if form in ("association_1908", "fondation", "fondation_entreprise"):
        association.rna = None
    if form == "association_1908":
        association.register_court = rng.choice(LOCAL_REGISTERS.get(departement.code, ("Strasbourg",)))
        association.register_volume = str(rng.randint(40, 120))
        association.register_folio = str(rng.randint(1, 250))
    if form in ("association_rup", "fondation"):
        day = date(rng.randint(1950, 2015), rng.randint(1, 12), rng.randint(1, 28))
        association.recognition_date = day
        published = day + timedelta(days=rng.randint(2, 12))
        association.recognition_reference = f"JORF du {timeutil.format_date(published)}"


class DemoBuilder:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.sirets, self.rnas, self.names, self.emails = set(), set(), set(), set()
        self.events = []

    # -- people

    def person(self):
        gender = self.rng.choice("fm")
        first = self.rng.choice(FIRST_NAMES_F if gender == "f" else FIRST_NAMES_M)
        return gender, first, self.rng.choice(LAST_NAMES)

    def event(self, action, at, actor=None, application=None, association_id=None, call=None,
              from_state=None, to_state=None, reason="", **details):
        self.events.append({
            "action": action, "at": at, "actor_id": actor.id if actor is not None else None,
            "application_id": application.id if application is not None else None,
            "association_id": application.association_id if application is not None else association_id,
            "call_id": (application.call_id if application is not None else (call.id if call else None)),
            "from_state": from_state, "to_state": to_state, "reason": reason, "details": details,
        })

    def transition(self, action, at, actor, subject, to_state, reason="", **details):
        """Move a file or a call of the demo to `to_state` as its service would: the move must be in
        aap/transitions.py for the actor's role (None: the system); recorded as an event at `at`."""
        machine = CALL if isinstance(subject, Call) else APPLICATION
        from_state = subject.status
        to_state = machine.check(from_state, to_state, actor).target
        subject.status = to_state
        if isinstance(subject, Call):
            self.event(action, at, actor, call=subject, from_state=from_state, to_state=to_state, reason=reason,
                       **details)
        else:
            self.event(action, at, actor, subject, from_state=from_state, to_state=to_state, reason=reason,
                       **details)

    def account(self, email, role, first, last, at, password_hash=None, region_code=None, association=None):
        """A confirmed account; only the demo accounts get a password (the others use a reset link)."""
        user = User(email=email, role=role, first_name=first, last_name=last, region_code=region_code,
                    email_confirmed_at=at, created_at=at, association=association,
                    password_hash=password_hash, auth_version=1)
        self.emails.add(email)
        return user

    # -- associations

    def association_name(self, departement):
        rng = self.rng
        place = departement.chef_lieu
        patterns = ["{head} {tail} {place}", "{head} {tail}", "Association {head} {place}",
                    "{head} {tail} {region}", "Les {head2} {de_place}"]
        for _ in range(50):
            pattern = rng.choice(patterns)
            head = rng.choice(NAME_HEADS)
            name = pattern.format(head=head, tail=rng.choice(NAME_TAILS), place=place,
                                  de_place=de_place(place), region=departement.region.name,
                                  head2=rng.choice(["Ponts", "Ailes", "Racines", "Graines", "Escales",
                                                    "Passerelles", "Binômes"]))
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("could not draw a unique association name")

    def association(self, departement, at, name=None, quality=None):
        rng = self.rng
        region = departement.region_code
        name = name or self.association_name(departement)
        gender, first, last = self.person()
        legal_form = "association_1901"
        if departement.code in ("57", "67", "68"):
            legal_form = "association_1908"
        elif rng.random() < 0.05:
            legal_form = "fondation"
        elif rng.random() < 0.06:
            legal_form = "association_rup"
        budget = round_to(int(math.exp(rng.uniform(math.log(80_000), math.log(8_000_000)))) * EURO, 1000)
        slug = ascii_slug(name)[:40].strip("-")
        email = f"contact@{slug}.example.org"
        iban, bic = make_iban(rng)
        association = Association(
            name=name, acronym=acronym_of(name), legal_form=legal_form,
            rna=make_rna(rng, departement.code, self.rnas), siret=make_siret(rng, self.sirets),
            address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}", postal_code=departement.postal_code,
            commune=departement.chef_lieu, departement_code=departement.code, region_code=region,
            representative_name=f"{first} {last}", representative_function=rng.choice(FUNCTIONS[gender]),
            contact_email=email, phone=phone_for(rng, region),
            creation_date=date(rng.randint(1965, 2021), rng.randint(1, 12), rng.randint(1, 28)),
            staff_count=max(1, int(budget / EURO / 55_000 * rng.uniform(0.6, 1.3))),
            volunteer_count=rng.randint(5, 600), annual_budget_cents=budget,
            description=(f"Association implantée à {departement.chef_lieu}, engagée depuis plusieurs années "
                         "dans l'accompagnement des jeunes vers l'autonomie, l'orientation et l'emploi."),
            iban=iban, bic=bic, account_holder=name, created_at=at, updated_at=at)
        _legal_identity(association, departement)
        association.demo_quality = quality if quality is not None else rng.betavariate(2.2, 2.0)
        # Where it acts: a national network is a large association of a big city; a regional one
        # has the means of it; a small association acts in its département and around it.
        draw = rng.random()
        if budget >= 2_500_000 * EURO and DEPARTEMENT_WEIGHTS.get(departement.code, 1) >= 3 and draw < 0.5:
            association.demo_scope = "national"
        elif budget >= 500_000 * EURO and len(departements_of_region(region)) > 1 and draw < 0.55:
            association.demo_scope = "regional"
        else:
            association.demo_scope = "local"
        return association

    # -- applications

    def submitted_file(self, call, association, member, created, submitted):
        """A file of the association, every section filled, to be submitted to the call by the member
        (a draft until build_demo records its submission through `transition`)."""
        application = Application(call=call, association=association, created_by_id=member.id,
                                  updated_by_id=member.id, created_at=created, updated_at=submitted,
                                  submitted_at=submitted, status=Status.DRAFT)
        self.project(application, association, call)
        application.demo_member = member
        return application

    def project(self, application, association, call):
        """Fill every section of an application with plausible values."""
        rng = self.rng
        departement = DEPARTEMENT_BY_CODE[association.departement_code]
        # As many young people as the association's means allow (some 100 € of its budget each) and
        # its département has (1.5 % of them at most).
        most = min(5000, association.annual_budget_cents // (100 * EURO), int(15 * young_weight(departement)))
        most = max(60, most)
        young = int(math.exp(rng.uniform(math.log(50), math.log(most))))
        young = max(50, min(5000, round(young, -1) if young >= 100 else young))
        mentors = max(20, int(young * rng.uniform(0.7, 1.0)))
        city = departement.chef_lieu
        rural = departement.code in ("15", "23", "48", "46", "09", "32", "12", "43", "19", "58", "52",
                                     "55", "04", "05", "2B", "973")
        fill = {"de_place": de_place(city), "a_place": a_place(city), "autour": "autour " + de_place(city),
                "young": thousands(young), "mentors": thousands(mentors)}
        application.title = rng.choice(PROJECT_TITLES + (RURAL_TITLES if rural else [])).format(**fill)
        application.summary = " ".join([rng.choice(SUMMARY_OPENINGS + (RURAL_OPENINGS if rural else [])),
                                        rng.choice(SUMMARY_MIDDLES),
                                        rng.choice(SUMMARY_ENDINGS)]).format(**fill)
        application.objectives = rng.choice(OBJECTIVES).format(**fill)
        application.mentoring_forms = rng.choice(MENTORING_FORMS)
        application.mentoring_duration_months = rng.choice([6, 6, 8, 9, 9, 10, 12, 12])
        application.mentor_recruitment = rng.choice(RECRUITMENT)
        application.mentor_training = rng.choice(TRAINING)
        application.mentor_follow_up = rng.choice(FOLLOW_UP)
        application.partners = rng.choice(PARTNERS)
        application.young_count = young
        application.mentor_count = mentors
        # Quartiers prioritaires and rural zones do not overlap: their shares add up to 100 % at most.
        if rural:
            application.share_zrr = rng.randint(30, 80)
            application.share_qpv = rng.randint(5, min(40, 100 - application.share_zrr))
        else:
            application.share_qpv = rng.randint(20, 90)
            application.share_zrr = rng.randint(0, min(20, 100 - application.share_qpv))
        application.share_ase = rng.randint(0, 25)
        application.share_disability = rng.randint(0, 15)
        application.share_dropout = rng.randint(5, 50)
        application.age_min = rng.choice([11, 13, 15, 16, 16, 18])
        application.age_max = rng.choice([20, 25, 25, 26, 30])
        application.scope = association.demo_scope
        if application.scope == "national":
            # A national network: present in every région, in one to three départements of each.
            codes = [departement.code]
            for region in REGIONS:
                others = [d.code for d in departements_of_region(region.code)]
                codes += rng.sample(others, min(len(others), rng.randint(1, 3)))
        elif application.scope == "regional":
            codes = [d.code for d in departements_of_region(departement.region_code)]
            if len(codes) > 2:
                codes = [departement.code] + [c for c in codes if c != departement.code
                                              and rng.random() < 0.75]
        else:
            neighbours = [d.code for d in departements_of_region(departement.region_code)
                          if d.code != departement.code]
            codes = [departement.code] + rng.sample(neighbours, min(len(neighbours), rng.randint(0, 2)))
        order = {d.code: i for i, d in enumerate(DEPARTEMENTS)}
        application.departements = sorted(set(codes), key=order.get)
        requested = round_to(young * rng.uniform(120, 280) * call.years * EURO, 1000)  # per young person a year
        requested = max(call.min_amount_cents, min(call.max_amount_cents, requested))
        total = max(requested, round_to(requested / rng.uniform(0.35, 0.8), 1000))
        cofunding, room = [], total - requested
        for funder in rng.sample(FUNDERS, rng.randint(1, 3)):
            if room < 2_000 * EURO:
                break
            amount = round_to(room * rng.uniform(0.2, 0.6), 500)
            if amount <= 0:
                break
            cofunding.append({"funder": funder, "amount_cents": amount,
                              "status": rng.choice(["obtenu", "obtenu", "demande"])})
            room -= amount
        application.budget, application.budget_comment = project_budget(total, requested, cofunding, mentors,
                                                                        call.years)
        # The amount requested (split per year as drawn), the total cost, the co-funders: from the budget.
        for name, value in budget_derived(application.budget, call.years).items():
            setattr(application, name, value)
        application.attestation_name = association.representative_name

    # -- scoring

    def scores(self, quality, bias, criteria):
        rng = self.rng
        values = []
        for criterion in criteria:
            q = min(1.0, max(0.0, quality + rng.gauss(0, 0.12)))
            value = round(q * criterion.scale_max + bias + rng.gauss(0, 0.55))
            values.append(max(0, min(criterion.scale_max, value)))
        return values
