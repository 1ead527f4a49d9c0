"""The « 1 jeune 1 mentor » template of a new call: criteria of the 2025 call and the
documents asked for by the state's subsidy application form."""
from decimal import Decimal

DEFAULT_CRITERIA = [
    {
        "label": "Solidité structurelle",
        "description": "Gouvernance, situation financière, équipe salariée et bénévole, expérience "
                       "du mentorat et résultats obtenus.",
        "weight": Decimal("1"),
        "scale_max": 5,
    },
    {
        "label": "Capacité à toucher les jeunes les plus éloignés",
        "description": "Part des jeunes issus des quartiers prioritaires (QPV), des zones de "
                       "revitalisation rurale (ZRR), de l'aide sociale à l'enfance (ASE), en situation "
                       "de handicap ou en décrochage scolaire.",
        "weight": Decimal("1"),
        "scale_max": 5,
    },
    {
        "label": "Diversité territoriale",
        "description": "Départements et régions couverts, présence dans les territoires ruraux et "
                       "ultramarins.",
        "weight": Decimal("1"),
        "scale_max": 5,
    },
]

DEFAULT_DOCUMENTS = [
    ("statuts", "Statuts signés de l'association", True),
    ("dirigeants", "Liste des membres du conseil d'administration et du bureau", True),
    ("rapport_activite", "Dernier rapport d'activité approuvé", True),
    ("comptes", "Derniers comptes annuels approuvés", True),
    ("budget_projet", "Budget prévisionnel du projet", True),
    ("rib", "Relevé d'identité bancaire (RIB) au nom de l'association", True),
    ("autre", "Autre pièce utile (lettres de soutien, presse…)", False),
]

# Pieces « réservé à l'instruction »: read by the association and the staff, never by a reviewer.
# The RIB holds the bank details; the list of the board gives its members' identity, home
# address, profession and nationality (as declared to the préfecture). The reviewers judge the
# governance from the form and the activity report.
RESERVED_CODES = frozenset({"rib", "dirigeants"})


def apply_template(call):
    """Give a new call the default criteria and required documents."""
    from ..models import Criterion, RequiredDocument

    call.criteria = [Criterion(position=i, **c) for i, c in enumerate(DEFAULT_CRITERIA)]
    call.documents = [RequiredDocument(position=i, code=code, label=label, mandatory=mandatory,
                                       reserved=code in RESERVED_CODES)
                      for i, (code, label, mandatory) in enumerate(DEFAULT_DOCUMENTS)]
    return call
