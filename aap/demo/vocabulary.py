"""The names, places and texts the demo data set draws from (in French, as users see them)."""
from ..models.review import FAVORABLE, RESERVED, UNFAVORABLE

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
           "rue Gambetta", "rue Nationale", "avenue de la Gare", "rue des Écoles",
           "impasse des Lilas", "rue Émile Zola", "chemin des Vignes", "rue Voltaire",
           "rue Louise Michel", "avenue Simone Veil"]  # names found in most towns (no « quai des Chartrons »)
FUNCTIONS = {"f": ["Présidente", "Directrice", "Présidente", "Déléguée générale"],
             "m": ["Président", "Directeur", "Président", "Délégué général"]}
# Bank code (5 digits) and BIC of banks that usually hold associations' accounts.
BANKS = [("42559", "CCOPFRPPXXX"), ("30004", "BNPAFRPPXXX"), ("30003", "SOGEFRPP"),
         ("20041", "PSSTFRPPXXX"), ("10278", "CMCIFR2A"), ("30002", "CRLYFRPP"),
         ("17515", "CEPAFRPP751"), ("10207", "CCBPFRPPMTG"), ("16606", "AGRIFRPP866")]
# Young people (5 to 29 years old, thousands, INSEE estimates rounded) per région: the demo's
# associations and their projects follow them (build_demo, test_demo).
YOUNG_BY_REGION = {"11": 4050, "84": 2450, "32": 1880, "76": 1700, "75": 1630, "44": 1610, "93": 1430,
                   "52": 1160, "53": 970, "28": 920, "27": 770, "24": 720, "94": 90, "01": 120, "02": 100,
                   "03": 130, "04": 320, "06": 170}
# Weight of each département within its région (population, roughly); others weigh 1.
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
RURAL_TITLES = ["Mentorat rural : rompre l'isolement des jeunes {autour}",
                "Un mentor près de chez soi : le mentorat dans les villages {autour}"]
RURAL_OPENINGS = ["Le projet développe le mentorat dans les territoires ruraux {autour}, où les jeunes "
                  "ont peu accès aux réseaux professionnels."]

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
            "Centres sociaux, clubs de prévention, médecins scolaires, collectivités locales."]
FUNDERS = ["Conseil régional", "Conseil départemental", "Ville", "Caisse d'allocations familiales",
           "Fondation d'entreprise", "Fonds social européen (FSE+)", "Mécénat privé"]
INADMISSIBLE_REASONS = [
    "Dossier incomplet : les derniers comptes annuels approuvés n'ont pas été fournis malgré la relance.",
    "Structure non éligible : l'association a été déclarée il y a moins d'un an.",
    "Le projet présenté ne relève pas du mentorat au sens de l'appel à projets (soutien scolaire collectif).",
    "Dossier incomplet : le budget prévisionnel du projet n'a pas été joint.",
    "Le relevé d'identité bancaire n'est pas au nom de l'association.",
]
# The 2025 grid: the four grounds of the selection, « qualité des actions » first, with the
# weights staff gave them (the three others come from the call template).
QUALITY_CRITERION = {
    "label": "Qualité des actions",
    "description": "Pertinence du programme de mentorat : durée et fréquence des rencontres, recrutement, "
                   "formation et suivi des mentors, évaluation des résultats.",
    "scale_max": 5,
    "descriptors": {
        "0": "Absente : aucune action de mentorat décrite.",
        "1": "Très insuffisante : des intentions sans programme ni moyens.",
        "2": "Insuffisante : un programme esquissé, sans formation ni suivi des mentors.",
        "3": "Solide : un programme complet, des mentors formés et suivis.",
        "4": "Très solide : un programme éprouvé, évalué, avec des résultats mesurés.",
        "5": "Exemplaire : un programme de référence, évalué de façon indépendante.",
    },
}
GRID_2025_WEIGHTS = {"Qualité des actions": 3, "Solidité structurelle": 2,
                     "Capacité à toucher les jeunes les plus éloignés": 3, "Diversité territoriale": 2}
COMMENTS = {  # by criterion label, then low / mid / high score
    "Qualité des actions": {
        "low": "Programme peu structuré : ni formation des mentors ni suivi des binômes décrits.",
        "mid": "Programme cohérent, mais le suivi des binômes et l'évaluation restent légers.",
        "high": "Programme exemplaire : mentors formés et supervisés, résultats mesurés."},
    "Solidité structurelle": {
        "low": "Structure fragile : gouvernance peu lisible et situation financière préoccupante.",
        "mid": "Structure correcte mais équipe réduite pour le volume annoncé.",
        "high": "Structure solide, expérimentée, comptes sains et équipe qualifiée."},
    "Capacité à toucher les jeunes les plus éloignés": {
        "low": "Les publics prioritaires (quartiers, zones rurales, ASE) sont peu présents dans le projet.",
        "mid": "Publics prioritaires présents mais le repérage reste à préciser.",
        "high": "Excellent ciblage des jeunes les plus éloignés, partenariats de repérage solides."},
    "Diversité territoriale": {
        "low": "Projet très localisé, sans perspective d'extension.",
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
