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
        "descriptors": {
            "0": "Absente : ni gouvernance active, ni comptes, ni équipe identifiée.",
            "1": "Très fragile : structure naissante, sans comptes approuvés ni expérience du mentorat.",
            "2": "Fragile : fonctionnement réel mais dépendant d'une personne ou d'un financeur unique.",
            "3": "Solide : gouvernance et comptes en ordre, équipe en place, premiers résultats mesurés.",
            "4": "Très solide : financements diversifiés, équipe stable, plusieurs années de résultats.",
            "5": "Exemplaire : structure reconnue, résultats évalués, capable de porter le projet à grande échelle.",
        },
    },
    {
        "label": "Capacité à toucher les jeunes les plus éloignés",
        "description": "Part des jeunes issus des quartiers prioritaires (QPV), des zones France "
                       "Ruralités Revitalisation (FRR), de l'aide sociale à l'enfance (ASE), en situation "
                       "de handicap ou en décrochage scolaire.",
        "weight": Decimal("1"),
        "scale_max": 5,
        "descriptors": {
            "0": "Absente : aucun jeune des publics prioritaires visé ni compté.",
            "1": "Marginale : publics prioritaires cités sans action ni chiffre.",
            "2": "Limitée : une part faible de jeunes de QPV, FRR, ASE, en situation de handicap ou décrocheurs.",
            "3": "Solide : une part importante de jeunes éloignés, avec un repérage et des partenaires identifiés.",
            "4": "Forte : la majorité des jeunes vient des publics prioritaires, avec un accompagnement adapté.",
            "5": ("Exemplaire : le projet est construit pour les jeunes les plus éloignés et le démontre "
                  "chiffres à l'appui."),
        },
    },
    {
        "label": "Diversité territoriale",
        "description": "Départements et régions couverts, présence dans les territoires ruraux et "
                       "ultramarins.",
        "weight": Decimal("1"),
        "scale_max": 5,
        "descriptors": {
            "0": "Absente : aucun territoire précisé.",
            "1": "Très limitée : une seule commune ou un seul quartier.",
            "2": "Limitée : un département, sans territoire rural ni ultramarin.",
            "3": "Solide : plusieurs départements, dont des territoires ruraux ou ultramarins.",
            "4": "Large : plusieurs régions, avec des territoires ruraux et ultramarins.",
            "5": "Exemplaire : couverture nationale équilibrée, territoires ruraux et ultramarins compris.",
        },
    },
]

DEFAULT_PIECES = [
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
    from ..models import Criterion, RequiredPiece

    call.criteria = [Criterion(position=i, **dict(c, descriptors=dict(c["descriptors"])))
                     for i, c in enumerate(DEFAULT_CRITERIA)]
    call.pieces = [RequiredPiece(position=i, code=code, label=label, mandatory=mandatory,
                                       reserved=code in RESERVED_CODES)
                      for i, (code, label, mandatory) in enumerate(DEFAULT_PIECES)]
    return call
