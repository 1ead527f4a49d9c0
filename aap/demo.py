"""The demo data set: `flask --app aap demo-data`.

A closed 2025 call « 1 jeune 1 mentor » (multi-year CPO) with about 230 submitted files from
associations in every région and département, a panel of reviewers who scored them (some
lenient, some severe), and 67 winners within the envelope; a 2026 top-up call under review (files
still to check, reviews sent, saved or not started, four of them for the demo reviewer); an open
2026 call with a few drafts; one account per role (aap.cli.DEMO_ACCOUNTS, password
aap.cli.DEMO_PASSWORD).

Deterministic: everything is drawn from random.Random(seed) and dated with fixed times, so the
same seed gives the same data. Fast: objects are added in bulk, flushed a few times, committed once.
"""
import math
import random
import re
import secrets
import unicodedata
from datetime import date, datetime, timedelta

import click
from sqlalchemy import func, insert
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.fr import siret as std_siret

from . import timeutil
from .calls.template import apply_template
from .extensions import db
from .models import (Application, Assignment, Association, Call, Conflict, Decision, Event, Review,
                     Score, User)
from .models.calls import CALL_CLOSED, CALL_PUBLISHED
from .models.review import FAVORABLE, RESERVED, UNFAVORABLE
from .models.users import hash_password
from .referentiel import DEPARTEMENT_BY_CODE, DEPARTEMENTS, departements_of_region

N_APPLICATIONS = 230
N_SELECTED = 67
N_INADMISSIBLE = 14
N_WAITLISTED = 15
N_REVIEWERS = 25
N_DRAFTS_2026 = 6
N_TOPUP_FILES = 24      # the 2026 top-up call, under review
N_TOPUP_UNCHECKED = 4  # of which not yet checked for admissibility
N_DEMO_REVIEWER_FILES = 4
EURO = 100  # cents


class DemoError(click.ClickException, ValueError):
    """Refusal to build the demo data (shown by the CLI as a clear French message)."""


def paris(year, month, day, hour=0, minute=0, second=0):
    return timeutil.paris_to_utc(datetime(year, month, day, hour, minute, second))


# ---------------------------------------------------------------- reference lists

FIRST_NAMES_F = ["Camille", "Claire", "Sophie", "Nadia", "Aïcha", "Julie", "Manon", "Léa", "Fatou",
                 "Inès", "Émilie", "Sarah", "Marion", "Hélène", "Amandine", "Yasmina", "Chloé",
                 "Anne", "Isabelle", "Laure", "Mathilde", "Salomé", "Lucie", "Mélanie", "Karima"]
FIRST_NAMES_M = ["Thomas", "Nicolas", "Karim", "Julien", "Mamadou", "Antoine", "Pierre", "Youssef",
                 "Maxime", "Olivier", "Sébastien", "Hugo", "Mehdi", "Romain", "François", "Bruno",
                 "Guillaume", "Arnaud", "Samir", "Vincent", "Loïc", "Théo", "Rachid", "Yann", "Didier"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
              "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
              "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
              "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
              "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
              "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Diallo",
              "Benali", "Nguyen", "Traoré", "Le Goff", "Kerjean", "Hoarau", "Payet", "Jean-Baptiste",
              "Ahamada", "Lucas", "Colin", "Brunet", "Haddad", "Boyer", "Ferreira", "Camara"]
NAME_HEADS = ["Tremplin", "Passerelles", "Cap", "Élan", "Horizons", "Boussole", "Relais", "Envol",
              "Déclic", "Ricochet", "Trajectoires", "Sillage", "Ancrage", "Tandem", "Binômes",
              "Main tendue", "Graines", "Escales", "Phare", "Boussole", "Ailes", "Ponts", "Racines",
              "Alliances", "Regards"]
NAME_TAILS = ["Jeunesse", "Mentorat", "Avenir", "Emploi", "Solidaire", "Réussite", "Insertion",
              "Citoyenneté", "Éducation", "Orientation", "Entraide", "Parrainage"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "place de la Mairie",
           "rue Pasteur", "rue du Général de Gaulle", "allée des Tilleuls", "rue Jules Ferry",
           "rue Gambetta", "quai des Chartrons", "rue Nationale", "avenue de la Gare", "rue des Écoles",
           "impasse des Lilas", "rue Émile Zola", "chemin des Vignes", "rue Voltaire", "cours Lafayette",
           "rue Louise Michel", "avenue Simone Veil"]
FUNCTIONS = {"f": ["Présidente", "Directrice", "Présidente", "Déléguée générale"],
             "m": ["Président", "Directeur", "Président", "Délégué général"]}
# Bank code (5 digits) and BIC of banks that usually hold associations' accounts.
BANKS = [("42559", "CCOPFRPPXXX"), ("30004", "BNPAFRPPXXX"), ("30003", "SOGEFRPP"),
         ("20041", "PSSTFRPPXXX"), ("10278", "CMCIFR2A"), ("30002", "CRLYFRPP"),
         ("17515", "CEPAFRPP751"), ("10207", "CCBPFRPPMTG"), ("16606", "AGRIFRPP866")]
# Weight of each département in the extra associations (population, roughly); others weigh 1.
DEPARTEMENT_WEIGHTS = {"75": 7, "93": 6, "13": 6, "59": 6, "69": 5, "92": 4, "94": 4, "91": 3,
                       "95": 3, "77": 3, "78": 3, "33": 4, "31": 4, "44": 3, "34": 3, "06": 3, "67": 3,
                       "38": 3, "76": 3, "62": 3, "57": 2, "35": 2, "974": 2, "63": 2, "29": 2,
                       "30": 2, "83": 2, "84": 2, "45": 2, "37": 2, "21": 2, "54": 2, "49": 2}
PHONE_PREFIX = {"11": "01", "24": "02", "28": "02", "52": "02", "53": "02", "32": "03", "44": "03",
                "27": "03", "84": "04", "93": "04", "94": "04", "76": "05", "75": "05", "01": "0590",
                "02": "0596", "03": "0594", "04": "0262", "06": "0269"}
# Reviewers' régions (the demo reviewer is the first).
REVIEWER_REGIONS = ["53", "11", "11", "11", "84", "84", "93", "76", "75", "32", "44", "52", "28",
                    "27", "24", "94", "04", "01", "11", "84", "76", "75", "44", "32", "52"]

PROJECT_TITLES = [
    "Un mentor pour chaque jeune {de_place}",
    "Tandems vers l'emploi {autour}",
    "Mentorat d'orientation pour les collégiens {de_place}",
    "Réussir son entrée dans la vie active avec un mentor",
    "Parcours mentorés pour les jeunes de l'aide sociale à l'enfance",
    "Des binômes pour raccrocher : prévenir le décrochage {a_place}",
    "Mentorat étudiant dans les quartiers prioritaires {de_place}",
    "Ouvrir les réseaux professionnels aux jeunes {autour}",
    "Mentorat inclusif pour les jeunes en situation de handicap",
    "Premiers pas, premiers jobs : mentorat pour les 16-25 ans",
    "Mentorat entrepreneurial pour les jeunes des quartiers",
]
SUMMARY_OPENINGS = [
    "Le projet met en relation des jeunes {de_place} et des environs avec des mentors bénévoles "
    "issus du monde professionnel.",
    "Nous proposons à des jeunes éloignés de l'emploi un accompagnement individuel par un mentor "
    "formé, pendant au moins six mois.",
    "Le programme s'adresse aux collégiens et lycéens {autour} qui manquent de repères pour leur "
    "orientation.",
    "Nous accompagnons des jeunes confiés à l'aide sociale à l'enfance vers l'autonomie grâce à un "
    "mentor stable et disponible.",
]
SUMMARY_MIDDLES = [
    "Chaque binôme se rencontre au moins deux fois par mois, en présentiel ou à distance.",
    "Les mentors sont recrutés auprès d'entreprises partenaires, de retraités et d'étudiants.",
    "Un référent salarié suit chaque binôme et organise des temps collectifs tous les trimestres.",
    "Les jeunes sont orientés par les missions locales, les établissements scolaires et les "
    "services de prévention spécialisée.",
]
SUMMARY_ENDINGS = [
    "L'objectif est d'accompagner {young} jeunes par an d'ici la fin de la convention.",
    "Nous visons {young} jeunes mentorés par an, dont une majorité issue des quartiers prioritaires.",
    "Le projet prévoit d'accompagner {young} jeunes par an et de mesurer leur insertion à six mois.",
]
OBJECTIVES = [
    "Accompagner chaque année {young} jeunes ; 70 % en emploi, en formation ou en stage six mois "
    "après la fin du mentorat ; recruter et former {mentors} mentors.",
    "Réduire le décrochage scolaire des jeunes accompagnés ; consolider leur projet d'orientation ; "
    "ouvrir leur réseau professionnel ({young} jeunes par an).",
    "Développer l'autonomie et la confiance des jeunes ; les accompagner vers une solution "
    "d'insertion durable ; essaimer dans de nouveaux territoires.",
]
MENTORING_FORMS = ["Mentorat individuel en présentiel, complété par des ateliers collectifs.",
                   "Mentorat individuel et en petits groupes, en présentiel et à distance.",
                   "Mentorat en entreprise et mentorat étudiant, avec des rencontres mensuelles.",
                   "Mentorat individuel de proximité, à domicile ou dans nos locaux."]
RECRUITMENT = ["Campagnes auprès des entreprises partenaires et des réseaux de retraités ; entretien "
               "individuel et vérification de l'honorabilité (FIJAIS) avant toute mise en relation.",
               "Recrutement par les associations étudiantes et les plateformes de bénévolat ; "
               "entretien de motivation et charte du mentor signée.",
               "Appel aux salariés des entreprises du territoire via le mécénat de compétences ; "
               "entretien et contrôle d'honorabilité."]
TRAINING = ["Deux demi-journées de formation initiale (posture, écoute, connaissance des publics) "
            "puis des ateliers d'analyse de pratiques chaque trimestre.",
            "Un module en ligne et une journée en présentiel, complétés par un guide du mentor.",
            "Formation initiale d'une journée et supervision par un professionnel de l'éducation."]
FOLLOW_UP = ["Un point mensuel entre le chargé de mission et chaque binôme ; bilan à mi-parcours et "
             "en fin d'accompagnement.",
             "Suivi par un référent salarié pour 40 binômes au plus ; questionnaires de satisfaction "
             "et de résultats à 3, 6 et 12 mois.",
             "Rencontres collectives trimestrielles et suivi individuel par téléphone tous les mois."]
PARTNERS = ["Missions locales, France Travail, établissements scolaires du territoire.",
            "Conseil départemental (ASE), foyers de jeunes travailleurs, entreprises partenaires.",
            "Universités, associations étudiantes, clubs d'entreprises.",
            "Centres sociaux, clubs de prévention, collectivités locales."]
FUNDERS = ["Conseil régional", "Conseil départemental", "Ville", "Caisse d'allocations familiales",
           "Fondation d'entreprise", "Fonds social européen (FSE+)", "Mécénat privé"]
INADMISSIBLE_REASONS = [
    "Dossier incomplet : les derniers comptes annuels approuvés n'ont pas été fournis malgré la relance.",
    "Structure non éligible : l'association a été déclarée il y a moins d'un an.",
    "Le projet présenté ne relève pas du mentorat au sens de l'appel à projets (soutien scolaire collectif).",
    "Dossier incomplet : le budget prévisionnel du projet n'a pas été joint.",
    "Le relevé d'identité bancaire n'est pas au nom de l'association.",
]
COMMENTS = {
    0: {"low": "Structure fragile : gouvernance peu lisible et situation financière préoccupante.",
        "mid": "Structure correcte mais équipe réduite pour le volume annoncé.",
        "high": "Structure solide, expérimentée, comptes sains et équipe qualifiée."},
    1: {"low": "Les publics prioritaires (QPV, ZRR, ASE) sont peu présents dans le projet.",
        "mid": "Publics prioritaires présents mais le repérage reste à préciser.",
        "high": "Excellent ciblage des jeunes les plus éloignés, partenariats de repérage solides."},
    2: {"low": "Projet très localisé, sans perspective d'extension.",
        "mid": "Couverture territoriale raisonnable pour la taille de la structure.",
        "high": "Très bonne couverture, y compris en zones rurales ou ultramarines."},
}
REVIEW_COMMENTS = {
    FAVORABLE: "Projet convaincant et bien construit ; avis favorable.",
    RESERVED: "Projet intéressant mais plusieurs points restent à consolider.",
    UNFAVORABLE: "Le projet ne répond pas suffisamment aux priorités de l'appel.",
}
CONFLICT_REASONS = ["Ancien membre du conseil d'administration de l'association.",
                    "L'association est un partenaire opérationnel de ma structure.",
                    "Lien familial avec un dirigeant de l'association."]
REJECT_REASON = ("Au regard des critères de l'appel à projets et de l'enveloppe disponible, votre "
                 "projet n'a pas été retenu.")
PUBLISH_REASON = "Décision du comité de sélection."

DESCRIPTION_2025 = """\
Le plan « 1 jeune 1 mentor » soutient les structures d'intérêt général qui accompagnent des \
jeunes de 5 à 30 ans par le mentorat, en particulier ceux qui en sont le plus éloignés.

## Objet

Cet appel finance, par une **convention pluriannuelle d'objectifs (2025-2027)**, le \
développement de programmes de mentorat : recrutement et formation des mentors, mise en \
relation, suivi des binômes et évaluation.

## Structures éligibles

- associations loi 1901 et fondations déclarées depuis au moins un an ;
- disposant d'un numéro SIRET et d'un numéro RNA ;
- signataires du contrat d'engagement républicain.

Les dossiers incomplets ou déposés après la date limite ne sont pas recevables.
"""
DESCRIPTION_2026 = """\
Le plan « 1 jeune 1 mentor » poursuit en 2026 le soutien aux structures qui accompagnent les \
jeunes par le mentorat.

## Objet

Cet appel finance, par une **convention annuelle**, le développement et la consolidation de \
programmes de mentorat, en priorité pour les jeunes des quartiers prioritaires, des zones \
rurales, de l'aide sociale à l'enfance, en situation de handicap ou en décrochage.

## Calendrier

- dépôt des dossiers jusqu'au **31 janvier 2027 à 23 h 59** (heure de Paris) ;
- évaluation des dossiers en février et mars 2027 ;
- décisions au printemps 2027.

Les dossiers incomplets ou déposés après la date limite ne sont pas recevables.
"""

DESCRIPTION_TOPUP = """\
Un appel complémentaire pour renforcer, dès l'automne 2026, les programmes de mentorat dans les \
quartiers prioritaires de la politique de la ville et les zones de revitalisation rurale.

## Objet

Cet appel finance, par une **convention annuelle**, l'extension d'un programme de mentorat \
existant vers de nouveaux territoires prioritaires ou de nouveaux publics.

## Calendrier

- dépôt des dossiers jusqu'au **30 octobre 2026 à 23 h 59** (heure de Paris) ;
- évaluation des dossiers en novembre et jusqu'au 11 décembre 2026 ;
- décisions en décembre 2026.
"""


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


def thousands(n):
    return f"{n:,}".replace(",", "\u202f")


RURAL_TITLES = ["Mentorat rural : rompre l'isolement des jeunes {autour}",
                "Un mentor près de chez soi : le mentorat dans les villages {autour}"]
RURAL_OPENINGS = ["Le projet développe le mentorat dans les territoires ruraux {autour}, où les jeunes "
                  "ont peu accès aux réseaux professionnels."]


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


def round_to(cents, step_euros):
    step = step_euros * EURO
    return int(round(cents / step)) * step


# ---------------------------------------------------------------- builder

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
        association.demo_quality = quality if quality is not None else rng.betavariate(2.2, 2.0)
        return association

    # -- applications

    def project(self, application, association, call):
        """Fill every section of an application with plausible values."""
        rng = self.rng
        departement = DEPARTEMENT_BY_CODE[association.departement_code]
        young = int(math.exp(rng.uniform(math.log(50), math.log(5000))))
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
        application.share_qpv = rng.randint(5, 40) if rural else rng.randint(20, 90)
        application.share_zrr = rng.randint(30, 80) if rural else rng.randint(0, 20)
        application.share_ase = rng.randint(0, 25)
        application.share_disability = rng.randint(0, 15)
        application.share_dropout = rng.randint(5, 50)
        application.age_min = rng.choice([11, 13, 15, 16, 16, 18])
        application.age_max = rng.choice([20, 25, 25, 26, 30])
        draw = rng.random()
        if draw < 0.08:
            application.scope = "national"
            others = [d.code for d in DEPARTEMENTS if d.code != departement.code]
            codes = [departement.code] + rng.sample(others, rng.randint(12, 40))
        elif draw < 0.4:
            application.scope = "regional"
            codes = [d.code for d in departements_of_region(departement.region_code)]
            if len(codes) > 2:
                codes = [departement.code] + [c for c in codes if c != departement.code
                                              and rng.random() < 0.75]
        else:
            application.scope = "local"
            neighbours = [d.code for d in departements_of_region(departement.region_code)
                          if d.code != departement.code]
            codes = [departement.code] + rng.sample(neighbours, min(len(neighbours), rng.randint(0, 2)))
        order = {d.code: i for i, d in enumerate(DEPARTEMENTS)}
        application.departements = sorted(set(codes), key=order.get)
        requested = round_to(young * rng.uniform(120, 420) * EURO, 1000)
        requested = max(call.min_amount_cents, min(call.max_amount_cents, requested))
        total = max(requested, round_to(requested / rng.uniform(0.35, 0.8), 1000))
        application.total_cost_cents = total
        application.requested_cents = requested
        application.requested_per_year = split_years(requested, call.years) if call.years > 1 else [requested]
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
        application.cofunding = cofunding
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


def _check_empty():
    for model in (User, Call, Association):
        if db.session.scalar(db.select(model.id).limit(1)) is not None:
            raise DemoError(
                "La base de données n'est pas vide : les données de démonstration ne se chargent que "
                "dans une base neuve. Utilisez une autre base (DATABASE_URL) ou supprimez la base "
                "actuelle, puis lancez « flask --app aap db upgrade » et « flask --app aap demo-data ».")


def build_demo(seed=2025):
    """Build the whole demo data set in an empty database; returns French summary lines."""
    from .applications.services import build_snapshot, fingerprint
    from .cli import DEMO_ACCOUNTS, DEMO_PASSWORD

    _check_empty()
    b = DemoBuilder(seed)
    rng = b.rng
    emails = dict((role, email) for email, role in DEMO_ACCOUNTS)
    # One (salted, slow) hash shared by the four demo accounts: they have the same password.
    demo_hash = hash_password(DEMO_PASSWORD)
    # The panel's other reviewers have activated their accounts (so they can be assigned) with a
    # password of their own, unknown here: they would sign in through a reset link.
    unknown_hash = hash_password(secrets.token_urlsafe(24))

    # ---- staff, admin, reviewers
    t0 = paris(2024, 11, 4, 9)
    staff = b.account(emails["staff"], "staff", "Camille", "Durand", t0, demo_hash)
    admin = b.account(emails["admin"], "admin", "Dominique", "Bernard", t0, demo_hash)
    colleague = b.account("mathieu.roussel@jeunesse-sports.example.org", "staff", "Mathieu", "Roussel", t0)
    reviewers, biases = [], []
    for index, region in enumerate(REVIEWER_REGIONS[:N_REVIEWERS]):
        if index == 0:
            reviewer = b.account(emails["reviewer"], "reviewer", "Yann", "Le Goff", t0, demo_hash,
                                 region_code=region)
        else:
            _, first, last = b.person()
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@evaluateurs.example.org"
            n = 2
            while email in b.emails:
                email = f"{ascii_slug(first)}.{ascii_slug(last)}{n}@evaluateurs.example.org"
                n += 1
            reviewer = b.account(email, "reviewer", first, last, t0, unknown_hash, region_code=region)
        reviewers.append(reviewer)
        # A few lenient and a few severe reviewers; the others close to neutral.
        biases.append(0.8 if index % 6 == 1 else -0.8 if index % 6 == 4 else rng.gauss(0, 0.25))

    # ---- calls
    call25 = apply_template(Call(
        slug="aap-2025", title="Appel à projets 1 jeune 1 mentor 2025", description=DESCRIPTION_2025,
        year=2025, status=CALL_CLOSED, opens_at=paris(2025, 2, 3, 10), closes_at=paris(2025, 3, 31, 23, 59, 59),
        review_deadline=paris(2025, 5, 16, 23, 59, 59), budget_cents=16_000_000 * EURO,
        min_amount_cents=20_000 * EURO, max_amount_cents=600_000 * EURO, years=3, reviewers_per_file=3,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2025, 1, 27, 10), created_at=paris(2025, 1, 13, 14)))
    call26 = apply_template(Call(
        slug="aap-2026", title="Appel à projets 1 jeune 1 mentor 2026", description=DESCRIPTION_2026,
        year=2026, status=CALL_PUBLISHED, opens_at=paris(2026, 10, 1), closes_at=paris(2027, 1, 31, 23, 59, 59),
        review_deadline=paris(2027, 3, 31, 23, 59, 59), budget_cents=18_000_000 * EURO,
        min_amount_cents=20_000 * EURO, max_amount_cents=500_000 * EURO, years=1, reviewers_per_file=3,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2026, 9, 15, 10), created_at=paris(2026, 9, 1, 11)))

    # ---- associations: one per département first (all 101, so all 18 régions), then by population
    departements = list(DEPARTEMENTS)
    rng.shuffle(departements)
    extra = rng.choices(DEPARTEMENTS, weights=[DEPARTEMENT_WEIGHTS.get(d.code, 1) for d in DEPARTEMENTS],
                        k=N_APPLICATIONS - len(departements))
    demo_departement = DEPARTEMENT_BY_CODE["69"]
    departements.remove(demo_departement)
    placed = [demo_departement] + departements + extra
    associations = []
    for index, departement in enumerate(placed):
        at = paris(2025, 2, 3, 10) + timedelta(minutes=rng.randint(0, 50 * 24 * 60))
        if index == 0:
            association = b.association(departement, at, name="Tremplin Mentorat Rhône", quality=0.9)
            association.acronym = "TMR"
        else:
            association = b.association(departement, at)
        associations.append(association)

    members = []
    for index, association in enumerate(associations):
        first, _, last = association.representative_name.partition(" ")
        if index == 0:
            user = b.account(emails["applicant"], "applicant", first, last, association.created_at,
                             demo_hash, association=association)
        else:
            user = b.account(association.contact_email, "applicant", first, last, association.created_at,
                             association=association)
        members.append(user)

    db.session.add_all([staff, admin, colleague, call25, call26, *reviewers, *associations, *members])
    db.session.flush()
    b.event("call_created", call25.created_at, staff, call=call25, slug=call25.slug)
    b.event("call_published", call25.published_at, staff, call=call25, from_state="draft", to_state="published")
    b.event("call_closed", paris(2025, 4, 1, 9), staff, call=call25, from_state="published", to_state="closed")
    b.event("call_created", call26.created_at, staff, call=call26, slug=call26.slug)
    b.event("call_published", call26.published_at, staff, call=call26, from_state="draft", to_state="published")

    # ---- 2025 applications, submitted in the order of their submission time
    applications = []
    deadline = call25.closes_at
    for association, member in zip(associations, members):
        created = association.created_at
        # Many files arrive in the last days before the deadline.
        remaining = (deadline - created).total_seconds()
        submitted = created + timedelta(seconds=remaining * (1 - rng.random() ** 2.5) * 0.98)
        application = Application(call=call25, association=association, created_by_id=member.id,
                                  updated_by_id=member.id, created_at=created, updated_at=submitted,
                                  submitted_at=submitted, status="submitted")
        b.project(application, association, call25)
        application.demo_member = member
        applications.append(application)
    applications.sort(key=lambda a: a.submitted_at)
    for number, application in enumerate(applications, start=1):
        application.reference = f"{call25.reference_prefix}-2025-{number:04d}"
    call25.next_number = len(applications) + 1
    for application in applications:
        application.snapshot = build_snapshot(application)
        application.fingerprint = fingerprint(application.snapshot)

    # ---- 2026 drafts: the demo association and a few others of the 2025 cohort
    drafts = []
    others = rng.sample(range(1, len(associations)), N_DRAFTS_2026 - 1)
    for order, index in enumerate([0] + sorted(others)):
        association, member = associations[index], members[index]
        created = paris(2026, 10, 2, 9) + timedelta(days=order * 6, minutes=rng.randint(0, 600))
        draft = Application(call=call26, association=association, status="draft", created_by_id=member.id,
                            updated_by_id=member.id, created_at=created, updated_at=created + timedelta(days=3))
        b.project(draft, association, call26)
        # A draft in progress: the budget and the attestation are still to be filled.
        draft.requested_per_year, draft.cofunding, draft.attestation_name = [], [], None
        if order % 2 == 0:
            draft.total_cost_cents = draft.requested_cents = None
        draft.demo_member = member
        drafts.append(draft)

    db.session.add_all(applications + drafts)
    db.session.flush()

    for application in applications:
        member = application.demo_member
        b.event("application_created", application.created_at, member, application)
        b.event("application_submitted", application.submitted_at, member, application, from_state="draft",
                to_state="submitted", reference=application.reference, fingerprint=application.fingerprint)
    for draft in drafts:
        b.event("application_created", draft.created_at, draft.demo_member, draft)

    # ---- admissibility
    # The demo association's file is admissible (it is one of the winners to show).
    inadmissible = set(rng.sample([a.id for a in applications if a.association is not associations[0]],
                                  N_INADMISSIBLE))
    admissible = []
    for application in applications:
        at = paris(2025, 4, 2, 9) + timedelta(minutes=rng.randint(0, 8 * 24 * 60))
        if application.id in inadmissible:
            reason = rng.choice(INADMISSIBLE_REASONS)
            application.status = "inadmissible"
            b.event("admissibility", at, rng.choice([staff, colleague]), application, from_state="submitted",
                    to_state="inadmissible", reason=reason)
        else:
            application.status = "admissible"
            b.event("admissibility", at, rng.choice([staff, colleague]), application, from_state="submitted",
                    to_state="admissible")
            admissible.append(application)

    # ---- a few declared conflicts of interest
    conflicts = set()
    conflict_rows = []
    for _ in range(10):
        reviewer = rng.choice(reviewers)
        association = rng.choice(associations)
        if (reviewer.id, association.id) in conflicts:
            continue
        conflicts.add((reviewer.id, association.id))
        at = paris(2025, 4, 10, 9) + timedelta(minutes=rng.randint(0, 3000))
        conflict_rows.append(dict(reviewer_id=reviewer.id, association_id=association.id,
                                  reason=rng.choice(CONFLICT_REASONS), created_at=at))
        b.event("conflict_declared", at, reviewer, association_id=association.id)

    # ---- assignment: k reviewers per file, never of the file's région nor in conflict, balanced loads
    loads = {r.id: 0 for r in reviewers}
    assigned_at = paris(2025, 4, 14, 10)
    assignments, reviews, scores = [], [], {}
    order = admissible[:]
    rng.shuffle(order)
    criteria = call25.criteria
    for application in order:
        region = application.association.region_code
        candidates = [r for r in reviewers if r.region_code != region
                      and (r.id, application.association_id) not in conflicts]
        candidates.sort(key=lambda r: (loads[r.id], rng.random()))
        chosen = sorted(candidates[:call25.reviewers_per_file], key=lambda r: r.id)
        quality = application.association.demo_quality
        last_review = assigned_at
        for reviewer in chosen:
            loads[reviewer.id] += 1
            opened = assigned_at + timedelta(days=rng.randint(0, 12), minutes=rng.randint(0, 600))
            submitted = opened + timedelta(days=rng.randint(0, 14), minutes=rng.randint(10, 300))
            submitted = min(submitted, call25.review_deadline - timedelta(minutes=rng.randint(5, 600)))
            last_review = max(last_review, submitted)
            assignments.append(dict(application_id=application.id, reviewer_id=reviewer.id,
                                    assigned_by_id=staff.id, assigned_at=assigned_at,
                                    notified_at=assigned_at, no_conflict_confirmed_at=opened))
            values = b.scores(quality, biases[reviewers.index(reviewer)], criteria)
            mean = sum(values) / len(values)
            recommendation = FAVORABLE if mean >= 3.4 else RESERVED if mean >= 2.4 else UNFAVORABLE
            proposed = None
            if recommendation != UNFAVORABLE:
                factor = rng.uniform(0.85, 1.0) if recommendation == FAVORABLE else rng.uniform(0.6, 0.85)
                proposed = max(call25.min_amount_cents, round_to(application.requested_cents * factor, 1000))
            reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status="submitted",
                                recommendation=recommendation, proposed_amount_cents=proposed,
                                comment=REVIEW_COMMENTS[recommendation], created_at=opened,
                                updated_at=submitted, submitted_at=submitted))
            scores[(application.id, reviewer.id)] = values
            b.event("review_submitted", submitted, reviewer, application, reviewer_id=reviewer.id,
                    recommendation=recommendation)
        b.event("reviewer_assigned", assigned_at, staff, application,
                reviewer_ids=[r.id for r in chosen], manual=False)
        b.event("state_change", assigned_at, staff, application, from_state="admissible", to_state="in_review",
                reason="Affectation automatique des évaluateurs.")
        b.event("state_change", last_review, None, application, from_state="in_review", to_state="reviewed",
                reason="Toutes les évaluations attendues ont été envoyées.")
    b.event("auto_assignment_applied", assigned_at, staff, call=call25, pairs=len(assignments))

    # ---- ranking: weighted mean of the criteria (on 20), averaged over the reviewers
    weights = [float(c.weight) for c in criteria]
    per_application = {}
    for (application_id, _), values in scores.items():
        total = sum(w * v / c.scale_max for w, v, c in zip(weights, values, criteria))
        per_application.setdefault(application_id, []).append(20 * total / sum(weights))
    for application in admissible:
        marks = per_application[application.id]
        application.demo_score = sum(marks) / len(marks)
    ranked = sorted(admissible, key=lambda a: (-a.demo_score, a.reference))

    # Territorial balance: the best file of each région first, then the best of the rest.
    winners, seen_regions = [], set()
    for application in ranked:
        region = application.association.region_code
        if region not in seen_regions and application.demo_score >= 9:
            seen_regions.add(region)
            winners.append(application)
    for application in ranked:
        if len(winners) >= N_SELECTED:
            break
        if application not in winners:
            winners.append(application)
    winners = winners[:N_SELECTED]
    winner_ids = {a.id for a in winners}
    rest = [a for a in ranked if a.id not in winner_ids]
    waitlisted_ids = {a.id for a in rest[:N_WAITLISTED]}

    granted = {}
    for application in winners:
        factor = 1.0 if rng.random() < 0.55 else rng.uniform(0.7, 0.95)
        granted[application.id] = max(call25.min_amount_cents,
                                      round_to(application.requested_cents * factor, 1000))
    total = sum(granted.values())
    if total > call25.budget_cents:
        ratio = call25.budget_cents / total
        for key in granted:
            granted[key] = max(call25.min_amount_cents, int(granted[key] * ratio) // (1000 * EURO) * (1000 * EURO))
    while sum(granted.values()) > call25.budget_cents:
        largest = max(granted, key=lambda k: (granted[k], k))
        granted[largest] -= 1000 * EURO
    decided_at, published_at = paris(2025, 6, 12, 15), paris(2025, 6, 20, 10)
    decisions = []
    for application in ranked:
        if application.id in winner_ids:
            outcome, amount, reason = "selected", granted[application.id], ""
        elif application.id in waitlisted_ids:
            outcome, amount, reason = "waitlisted", None, ""
        else:
            outcome, amount, reason = "rejected", None, REJECT_REASON
        decisions.append(dict(
            application_id=application.id, outcome=outcome, amount_cents=amount,
            amount_per_year=split_years(amount, call25.years) if amount else [], reason=reason,
            decided_by_id=staff.id, decided_at=decided_at, published_at=published_at,
            published_by_id=admin.id))
        application.status = outcome
        b.event("decision_published", published_at, admin, application, from_state="reviewed", to_state=outcome,
                reason=reason or PUBLISH_REASON, outcome=outcome, amount_cents=amount)
        application.updated_at = published_at

    reviews_2025 = len(reviews)

    # ---- the 2026 top-up call, under review (drawn last: the 2025 data do not depend on it)
    topup_summary = _topup_call(b, staff, colleague, reviewers, biases, associations[1:], members[1:], conflicts,
                                assignments, reviews, scores)

    # Bulk inserts (executemany), then the scores with the ids of their reviews.
    db.session.flush()
    for model, rows in ((Conflict, conflict_rows), (Assignment, assignments), (Review, reviews),
                        (Decision, decisions)):
        db.session.execute(insert(model), rows)
    review_ids = {(a, r): i for i, a, r in db.session.execute(
        db.select(Review.id, Review.application_id, Review.reviewer_id))}
    score_rows = []
    for key, values in sorted(scores.items()):
        for i, (criterion, value) in enumerate(zip(criteria, values)):
            level = "low" if value <= 1 else "high" if value >= criterion.scale_max - 1 else "mid"
            score_rows.append(dict(review_id=review_ids[key], criterion_id=criterion.id, value=value,
                                   comment=COMMENTS[i][level]))
    db.session.execute(insert(Score), score_rows)
    b.events.sort(key=lambda e: (e["at"], e["action"], e["application_id"] or 0))
    db.session.execute(insert(Event), b.events)

    granted_total = sum(granted.values())
    summary = [
        f"Appel « {call25.title} » (clos) : {len(applications)} dossiers déposés par {len(associations)} "
        f"associations de {len({a.departement_code for a in associations})} départements et "
        f"{len({a.region_code for a in associations})} régions.",
        f"  {len(admissible)} recevables, {N_INADMISSIBLE} irrecevables ; {reviews_2025} évaluations par "
        f"{len(reviewers)} évaluateurs ; {len(winners)} lauréats pour "
        f"{_euros(granted_total)} sur une enveloppe de {_euros(call25.budget_cents)}.",
        topup_summary,
        f"Appel « {call26.title} » (ouvert jusqu'au {timeutil.format_datetime(call26.closes_at)}) : "
        f"{len(drafts)} brouillons.",
    ]
    db.session.commit()
    return summary


def _topup_call(b, staff, colleague, reviewers, biases, associations, members, conflicts,
                assignments, reviews, scores):
    """A closed 2026 top-up call whose review is under way, so that every role has work in
    progress: files still to check for admissibility, files assigned to two reviewers each with
    reviews sent, saved as drafts or not started, and four files for the demo reviewer (one
    review sent, one saved, one to write, one whose absence of conflict is still to confirm).
    Appends to assignments, reviews and scores (inserted in bulk by build_demo); returns the
    summary line."""
    from .applications.services import build_snapshot, fingerprint

    rng = b.rng
    call = apply_template(Call(
        slug="aap-2026-renfort", title="Appel à projets 1 jeune 1 mentor 2026 — renfort quartiers et ruralité",
        description=DESCRIPTION_TOPUP, reference_prefix="1J1M-RF",
        year=2026, status=CALL_CLOSED, opens_at=paris(2026, 9, 1, 10), closes_at=paris(2026, 10, 30, 23, 59, 59),
        review_deadline=paris(2026, 12, 11, 23, 59, 59), budget_cents=3_000_000 * EURO,
        min_amount_cents=20_000 * EURO, max_amount_cents=200_000 * EURO, years=1, reviewers_per_file=2,
        avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
        published_at=paris(2026, 8, 25, 10), created_at=paris(2026, 8, 18, 11)))
    chosen = sorted(rng.sample(range(len(associations)), N_TOPUP_FILES))
    files = []
    for index in chosen:
        association, member = associations[index], members[index]
        created = paris(2026, 9, 1, 10) + timedelta(minutes=rng.randint(0, 40 * 24 * 60))
        submitted = created + timedelta(minutes=rng.randint(60, 14 * 24 * 60))
        application = Application(call=call, association=association, created_by_id=member.id,
                                  updated_by_id=member.id, created_at=created, updated_at=submitted,
                                  submitted_at=min(submitted, call.closes_at - timedelta(minutes=5)),
                                  status="submitted")
        b.project(application, association, call)
        application.demo_member = member
        files.append(application)
    files.sort(key=lambda a: a.submitted_at)
    for number, application in enumerate(files, start=1):
        application.reference = f"{call.reference_prefix}-{call.year}-{number:04d}"
        application.snapshot = build_snapshot(application)
        application.fingerprint = fingerprint(application.snapshot)
    call.next_number = len(files) + 1
    db.session.add(call)
    db.session.add_all(files)
    db.session.flush()
    b.event("call_created", call.created_at, staff, call=call, slug=call.slug)
    b.event("call_published", call.published_at, staff, call=call, from_state="draft", to_state="published")
    b.event("call_closed", paris(2026, 11, 2, 9), staff, call=call, from_state="published", to_state="closed")
    for application in files:
        b.event("application_created", application.created_at, application.demo_member, application)
        b.event("application_submitted", application.submitted_at, application.demo_member, application,
                from_state="draft", to_state="submitted", reference=application.reference,
                fingerprint=application.fingerprint)

    # The last files to arrive are not checked yet; the others are admissible.
    admissible = files[:-N_TOPUP_UNCHECKED]
    for application in admissible:
        application.status = "admissible"
        b.event("admissibility", paris(2026, 11, 3, 9) + timedelta(minutes=rng.randint(0, 3 * 24 * 60)),
                rng.choice([staff, colleague]), application, from_state="submitted", to_state="admissible")

    # Two reviewers per file, never of the file's région nor in conflict, balanced; the demo
    # reviewer (the panel's first) takes the first files he may review.
    demo_reviewer = reviewers[0]
    loads = {r.id: 0 for r in reviewers}
    assigned_at = paris(2026, 11, 9, 10)
    deadline_now = paris(2026, 11, 22, 18)
    demo_files = 0
    for application in admissible:
        region = application.association.region_code
        candidates = [r for r in reviewers if r.region_code != region
                      and (r.id, application.association_id) not in conflicts]
        team = []
        if demo_reviewer in candidates and demo_files < N_DEMO_REVIEWER_FILES:
            team.append(demo_reviewer)
            demo_files += 1
        others = sorted((r for r in candidates if r is not demo_reviewer), key=lambda r: (loads[r.id], rng.random()))
        team += others[:call.reviewers_per_file - len(team)]
        sent = 0
        last = assigned_at
        for reviewer in sorted(team, key=lambda r: r.id):
            loads[reviewer.id] += 1
            if reviewer is demo_reviewer:
                state = ["submitted", "draft", "todo", "unconfirmed"][demo_files - 1]
            else:
                state = rng.choices(["submitted", "draft", "todo"], weights=[55, 20, 25])[0]
            opened = assigned_at + timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 600))
            assignments.append(dict(application_id=application.id, reviewer_id=reviewer.id,
                                    assigned_by_id=staff.id, assigned_at=assigned_at, notified_at=assigned_at,
                                    no_conflict_confirmed_at=None if state == "unconfirmed" else opened))
            if state in ("todo", "unconfirmed"):
                continue
            values = b.scores(application.association.demo_quality, biases[reviewers.index(reviewer)],
                              call.criteria)
            saved = min(opened + timedelta(days=rng.randint(0, 6), minutes=rng.randint(10, 300)), deadline_now)
            scores[(application.id, reviewer.id)] = values
            if state == "draft":
                reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status="draft",
                                    recommendation=None, proposed_amount_cents=None, comment="",
                                    created_at=opened, updated_at=saved, submitted_at=None))
                continue
            mean = sum(values) / len(values)
            recommendation = FAVORABLE if mean >= 3.4 else RESERVED if mean >= 2.4 else UNFAVORABLE
            proposed = (None if recommendation == UNFAVORABLE
                        else max(call.min_amount_cents, round_to(application.requested_cents * 0.9, 1000)))
            reviews.append(dict(application_id=application.id, reviewer_id=reviewer.id, status="submitted",
                                recommendation=recommendation, proposed_amount_cents=proposed,
                                comment=REVIEW_COMMENTS[recommendation], created_at=opened,
                                updated_at=saved, submitted_at=saved))
            b.event("review_submitted", saved, reviewer, application, reviewer_id=reviewer.id,
                    recommendation=recommendation)
            sent += 1
            last = max(last, saved)
        b.event("reviewer_assigned", assigned_at, staff, application, reviewer_ids=[r.id for r in team],
                manual=False)
        b.event("state_change", assigned_at, staff, application, from_state="admissible", to_state="in_review",
                reason="Affectation automatique des évaluateurs.")
        application.status = "in_review"
        if sent == len(team):
            application.status = "reviewed"
            b.event("state_change", last, None, application, from_state="in_review", to_state="reviewed",
                    reason="Toutes les évaluations attendues ont été envoyées.")
    b.event("auto_assignment_applied", assigned_at, staff, call=call,
            pairs=sum(1 for a in assignments if a["assigned_at"] == assigned_at))
    expected = len(admissible) * call.reviewers_per_file
    sent_total = sum(1 for r in reviews if r["status"] == "submitted" and r["application_id"] in
                     {a.id for a in admissible})
    return (f"Appel « {call.title} » (en évaluation jusqu'au {timeutil.format_datetime(call.review_deadline)}) : "
            f"{len(files)} dossiers, {N_TOPUP_UNCHECKED} à examiner ; {sent_total} évaluations envoyées sur "
            f"{expected}, dont {N_DEMO_REVIEWER_FILES} dossiers pour l'évaluateur de démonstration.")


def _euros(cents):
    from .money import format_euros
    return format_euros(cents, decimals=False)


def demo_digest():
    """A digest of the demo's content (not of creation times nor password hashes), to compare runs."""
    import hashlib
    parts = []
    for row in db.session.execute(db.select(
            Association.name, Association.siret, Association.rna, Association.iban, Association.bic,
            Association.departement_code, Association.representative_name).order_by(Association.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(
            Application.reference, Application.status, Application.title, Application.requested_cents,
            Application.departements, Application.young_count, Application.fingerprint,
            Application.association_id).order_by(Application.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(Review.application_id, Review.reviewer_id, Review.recommendation,
                                            func.sum(Score.value)).join(Score)
                                  .group_by(Review.id, Review.application_id, Review.reviewer_id,
                                            Review.recommendation).order_by(Review.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(Decision.application_id, Decision.outcome, Decision.amount_cents)
                                  .order_by(Decision.id)):
        parts.append(repr(tuple(row)))
    for row in db.session.execute(db.select(User.email, User.role, User.region_code).order_by(User.id)):
        parts.append(repr(tuple(row)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


