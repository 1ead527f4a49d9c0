"""The legal and budgetary texts of a call's conventions, set per call by staff (Call.convention_texts,
a JSON object; an empty or missing key falls back on the default). The defaults below are right for
the 2025 call and are the only place they are written.

What each text implements:
- the visas: the legal basis of a State grant to an association — loi n° 2000-321 (art. 9-1: what a
  grant is; art. 10: the convention above 23 000 €; art. 10-1: the contrat d'engagement
  républicain), décret n° 2001-495 (the 23 000 € threshold), the loi de finances of the year (the
  credits), décret n° 2012-1246 (GBCP: commitment, ordonnateur and comptable), loi n° 2021-1109
  art. 12 and décret n° 2021-1947 (the contrat d'engagement républicain and its withdrawal rule),
  circulaire du Premier ministre n° 5811-SG du 29 septembre 2015 (the model convention and the
  partnership between the State and associations);
- the imputation budgétaire: the programme (163 « Jeunesse et vie associative »), its action, the
  centre financier and the activité of the credits, which the finance office gives per call;
- the signatory of the State, by delegation of the minister;
- the State-aid basis, when the call's amounts call for one: none (a non-economic activity of
  general interest), the de minimis regulation (règlement (UE) 2023/2831), or a SIEG mandate under
  décision 2012/21/UE;
- how the convention is signed: electronically, or on paper in a number of originals.
"""

# The loi de finances of each year (the visa of the year's credits).
FINANCE_LAWS = {
    2025: "la loi n° 2025-127 du 14 février 2025 de finances pour 2025",
}

VISAS_BEFORE_FINANCE_LAW = [
    "Vu la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs relations avec les "
    "administrations, notamment ses articles 9-1, 10 et 10-1 ;",
    "Vu la loi n° 2021-1109 du 24 août 2021 confortant le respect des principes de la République, notamment son "
    "article 12 ;",
]
VISAS_AFTER_FINANCE_LAW = [
    "Vu le décret n° 2001-495 du 6 juin 2001 pris pour l'application de l'article 10 de la loi n° 2000-321 du "
    "12 avril 2000 et relatif à la transparence financière des aides octroyées par les personnes publiques ;",
    "Vu le décret n° 2012-1246 du 7 novembre 2012 relatif à la gestion budgétaire et comptable publique ;",
    "Vu le décret n° 2021-1947 du 31 décembre 2021 pris pour l'application de l'article 10-1 de la loi "
    "n° 2000-321 du 12 avril 2000 et approuvant le contrat d'engagement républicain des associations et "
    "fondations bénéficiant de subventions publiques ou d'un agrément de l'État ;",
    "Vu la circulaire n° 5811-SG du Premier ministre du 29 septembre 2015 relative aux nouvelles relations entre "
    "les pouvoirs publics et les associations : déclinaison de la charte des engagements réciproques et "
    "soutien public aux associations ;",
]

# The State-aid basis of a call (the key stored), its label in the call's form, the visa it adds
# and the paragraph of article 4 that states it.
STATE_AID_NONE, STATE_AID_DE_MINIMIS, STATE_AID_SIEG = "none", "de_minimis", "sieg"
STATE_AID = {
    STATE_AID_NONE: {
        "label": "Aucun régime d'aide d'État (activité non économique d'intérêt général)",
        "visa": "", "clause": ""},
    STATE_AID_DE_MINIMIS: {
        "label": "Aide de minimis : règlement (UE) 2023/2831",
        "visa": ("Vu le règlement (UE) 2023/2831 de la Commission du 13 décembre 2023 relatif à l'application des "
                 "articles 107 et 108 du traité sur le fonctionnement de l'Union européenne aux aides de minimis ;"),
        "clause": ("La subvention est une aide de minimis au sens du règlement (UE) 2023/2831 de la Commission du "
                   "13 décembre 2023. En la sollicitant, l'association a déclaré les aides de minimis reçues au "
                   "cours des trois dernières années ; leur montant cumulé, cette subvention comprise, ne dépasse "
                   "pas le plafond fixé par ce règlement. L'association conserve les pièces établissant ce "
                   "respect pendant dix ans.")},
    STATE_AID_SIEG: {
        "label": "Compensation d'un service d'intérêt économique général (SIEG) : décision 2012/21/UE",
        "visa": ("Vu la décision 2012/21/UE de la Commission du 20 décembre 2011 relative à l'application de "
                 "l'article 106, paragraphe 2, du traité sur le fonctionnement de l'Union européenne aux aides "
                 "d'État sous forme de compensations de service public octroyées à certaines entreprises chargées "
                 "de la gestion de services d'intérêt économique général ;"),
        "clause": ("La présente convention vaut mandat de service d'intérêt économique général au sens de la "
                   "décision 2012/21/UE de la Commission du 20 décembre 2011 : le service confié est le projet "
                   "décrit à l'article 1 et à l'annexe I, pour la durée de l'article 2, sur les territoires de "
                   "l'annexe I. La subvention en est la compensation ; son montant ne dépasse pas ce qui est "
                   "nécessaire pour couvrir les coûts nets du service. Toute surcompensation constatée lors des "
                   "contrôles est reversée à l'État.")},
}

# How the convention is signed.
SIGNATURE_ELECTRONIC, SIGNATURE_PAPER = "electronic", "paper"
SIGNATURE_MODES = {
    SIGNATURE_ELECTRONIC: "Signature électronique",
    SIGNATURE_PAPER: "Signature sur papier, en plusieurs exemplaires originaux",
}

CONVENTION_TEXT_DEFAULTS = {
    "visas": "",  # empty: default_visas(year)
    "budget_programme": "163 « Jeunesse et vie associative »",
    "budget_action": "02 « Actions en faveur de la jeunesse et de l'éducation populaire »",
    "budget_centre": "",
    "budget_activity": "",
    "signatory_name": "",
    "signatory_title": "directeur de la jeunesse, de l'éducation populaire et de la vie associative, "
                       "délégué interministériel à la jeunesse",
    "state_aid": STATE_AID_NONE,
    "signature_mode": SIGNATURE_ELECTRONIC,
    "originals": 2,
}
CONVENTION_TEXT_FIELDS = tuple(CONVENTION_TEXT_DEFAULTS)
# Lengths the call's form accepts.
CONVENTION_TEXT_MAX = {"visas": 10_000, "budget_programme": 200, "budget_action": 200, "budget_centre": 60,
                       "budget_activity": 60, "signatory_name": 120, "signatory_title": 300}
MAX_ORIGINALS = 10


def finance_law_visa(year):
    law = FINANCE_LAWS.get(year)
    return f"Vu {law} ;" if law else f"Vu la loi de finances pour {year} ;"


def default_visas(year):
    """The visas of a call of `year`, one per line."""
    return "\n".join(VISAS_BEFORE_FINANCE_LAW + [finance_law_visa(year)] + VISAS_AFTER_FINANCE_LAW)


def _text(stored, key):
    value = stored.get(key)
    return value.strip() if isinstance(value, str) else ""


def convention_texts(stored, year):
    """The texts of a call's conventions: the call's stored values (a dict, possibly empty) with the
    defaults where a value is empty. A plain JSON-serialisable dict."""
    stored = stored if isinstance(stored, dict) else {}
    texts = {key: _text(stored, key) or default for key, default in CONVENTION_TEXT_DEFAULTS.items()
             if isinstance(default, str)}
    texts["visas"] = _text(stored, "visas") or default_visas(year)
    if texts["state_aid"] not in STATE_AID:
        texts["state_aid"] = STATE_AID_NONE
    if texts["signature_mode"] not in SIGNATURE_MODES:
        texts["signature_mode"] = SIGNATURE_ELECTRONIC
    try:
        originals = int(stored.get("originals") or CONVENTION_TEXT_DEFAULTS["originals"])
    except (TypeError, ValueError):
        originals = CONVENTION_TEXT_DEFAULTS["originals"]
    texts["originals"] = min(max(originals, 2), MAX_ORIGINALS)
    return texts


def visa_lines(texts):
    """The visas as a list (one per non-empty line), with the State-aid visa when a basis is set."""
    lines = [line.strip() for line in texts["visas"].splitlines() if line.strip()]
    aid_visa = STATE_AID[texts["state_aid"]]["visa"]
    return lines + ([aid_visa] if aid_visa else [])


def check_convention_texts(stored):
    """French messages, keyed by text, for what the call's form may not store."""
    errors = {}
    stored = stored if isinstance(stored, dict) else {}
    for key, limit in CONVENTION_TEXT_MAX.items():
        value = stored.get(key) or ""
        if len(value) > limit:
            errors[key] = f"Ce texte ne peut pas dépasser {limit:,} caractères.".replace(",", "\u202f")
    if (stored.get("state_aid") or STATE_AID_NONE) not in STATE_AID:
        errors["state_aid"] = "Choisissez le régime d'aide d'État."
    if (stored.get("signature_mode") or SIGNATURE_ELECTRONIC) not in SIGNATURE_MODES:
        errors["signature_mode"] = "Choisissez le mode de signature."
    originals = stored.get("originals")
    if originals is not None and not (isinstance(originals, int) and 2 <= originals <= MAX_ORIGINALS):
        errors["originals"] = f"Le nombre d'exemplaires originaux va de 2 à {MAX_ORIGINALS}."
    return errors
