"""The legal mentions of the receipts and decision letters, and the texts each one implements.
The only place they are written (the service in charge, set per call: aap/calls/contact.py).

Receipt (accusé de réception of a request for a grant):
- code des relations entre le public et l'administration (CRPA) art. L112-3: every request is
  acknowledged; without the mentions the law requires, the time limits of appeal cannot be held
  against the applicant; art. L112-11: a request sent electronically gets an electronic receipt;
- CRPA art. R112-5: the receipt gives (1°) the date of receipt and the date at which, without an
  express decision, the request is deemed accepted or rejected; (2°) the name, postal and electronic
  address and telephone of the service in charge; and, when silence is rejection, the time limits
  and routes of appeal against that decision;
- CRPA art. L231-4 3°: silence kept two months on a request of a financial nature is a rejection
  (the exception to « le silence vaut acceptation » of art. L231-1);
- CRPA art. L114-5: a file found incomplete: the missing pieces are asked for with a time limit,
  and the time runs again from their receipt (the complement's receipt gives the new date);
- CRPA art. L232-4: the reasons of an implicit rejection are given on request made within the time
  of appeal, the time of appeal then extended;
- CRPA art. L411-2: a recours gracieux or hiérarchique made within the time of appeal keeps it
  (it starts again from the answer, the silence of two months on it being a rejection);
- code de justice administrative (CJA) art. R421-1 (two months from notification) and R421-2
  (two months from the birth of an implicit rejection); art. R421-5 (the time limits are held
  against the applicant only if the notification states them with the routes of appeal);
  art. R312-1 (the tribunal administratif where the authority that decided sits: Paris);
  art. R414-2 (Télérecours citoyens, the online filing of a party without a lawyer).

Decision letter: the same routes of appeal, from the letter's notification (CJA R421-1 and R421-5,
CRPA L411-2), and its author's signature, name and title (CRPA art. L212-1)."""
import calendar
from datetime import date

# Silence on a request for a grant, kept this many months, is a rejection (CRPA L231-4 3°).
IMPLICIT_REJECTION_MONTHS = 2
TRIBUNAL = "tribunal administratif de Paris"
TRIBUNAL_ADDRESS = "7 rue de Jouy, 75181 Paris Cedex 04"
TELERECOURS_URL = "https://citoyens.telerecours.fr"
MINISTER = "ministre chargé de la jeunesse"


def add_months(day, months):
    """`day` moved by whole months, the day of the month kept, or the last day of a shorter month
    (31 December + 2 months: 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deemed_rejection_date(received):
    """The date at which a request for a grant received (complete) on `received` is deemed rejected
    without an express decision (CRPA L231-4 3°: two months of silence)."""
    return add_months(received, IMPLICIT_REJECTION_MONTHS)


# The receipt: the implicit rejection (CRPA R112-5, L231-4, L114-5).
RECEIPT_IMPLICIT_REJECTION = (
    "Votre demande porte sur l'attribution d'une subvention : elle présente un caractère financier. "
    "En application de l'article L. 231-4 (3°) du code des relations entre le public et l'administration, "
    "le silence gardé par l'administration pendant deux mois vaut décision de rejet : si aucune décision "
    "expresse ne vous a été notifiée à cette date, votre demande sera réputée rejetée.")
RECEIPT_COMPLETE_FILE = (
    "Ce délai de deux mois court à compter de la réception d'un dossier complet. Si des pièces ou "
    "informations manquent, le service vous les demandera avec un délai pour les produire ; le délai de "
    "deux mois ne court alors qu'à compter de leur réception (article L. 114-5 du même code), et le "
    "récépissé de complément vous en indiquera la nouvelle échéance.")
RECEIPT_COMPLEMENT_COMPLETE_FILE = (
    "Ce complément répond à la demande de pièces du service : le délai de deux mois court à compter de sa "
    "réception (article L. 114-5 du code des relations entre le public et l'administration). Si d'autres "
    "pièces étaient encore nécessaires, elles vous seraient demandées de la même façon.")


def receipt_appeal_routes(contact):
    """The routes and time limits of appeal against the implicit rejection (CRPA R112-5 last
    paragraph, L411-2, L232-4; CJA R421-2, R421-1, R312-1, R414-2): a list of paragraphs."""
    return [
        ("Vous pouvez contester cette décision implicite de rejet dans un délai de deux mois à compter de la "
         "date à laquelle elle est née :"),
        (f"— par un recours gracieux adressé au service chargé du dossier ({contact.name}, "
         f"{contact.one_line_address}), ou par un recours hiérarchique adressé au {MINISTER} ; ce recours "
         "administratif, formé dans le délai de deux mois, le proroge : le délai de recours contentieux court "
         "à nouveau à compter de la réponse, le silence gardé deux mois sur votre recours valant rejet "
         "(article L. 411-2 du code des relations entre le public et l'administration) ;"),
        (f"— par un recours contentieux devant le {TRIBUNAL} ({TRIBUNAL_ADDRESS}), dans le délai de deux mois "
         "à compter de la naissance de la décision implicite (articles R. 421-1 et R. 421-2 du code de justice "
         "administrative). Le tribunal peut être saisi par l'application « Télérecours citoyens », accessible "
         f"sur {TELERECOURS_URL}."),
        ("Dans le délai de recours, vous pouvez demander au service les motifs de la décision implicite : ils "
         "vous sont communiqués dans le mois, et le délai de recours contentieux est prorogé jusqu'à l'expiration "
         "de deux mois suivant cette communication (article L. 232-4 du même code)."),
    ]


def decision_appeal_routes(contact):
    """The routes and time limits of appeal against a notified decision (CJA R421-1, R421-5, R312-1,
    R414-2; CRPA L411-2): a list of paragraphs."""
    return [
        ("La présente décision peut être contestée dans un délai de deux mois à compter de sa notification :"),
        (f"— par un recours gracieux adressé à son auteur, auprès du service chargé du dossier ({contact.name}, "
         f"{contact.one_line_address}), ou par un recours hiérarchique adressé au {MINISTER}. Ce recours "
         "administratif proroge le délai de recours contentieux, qui court à nouveau à compter de la réponse ; "
         "le silence gardé deux mois sur votre recours vaut rejet (article L. 411-2 du code des relations entre "
         "le public et l'administration) ;"),
        (f"— par un recours contentieux devant le {TRIBUNAL} ({TRIBUNAL_ADDRESS}), dans le délai de deux mois à "
         "compter de la notification de la présente décision ou de la décision prise sur votre recours "
         "administratif (articles R. 421-1 et R. 421-2 du code de justice administrative). Le tribunal peut "
         f"être saisi par l'application « Télérecours citoyens », accessible sur {TELERECOURS_URL}."),
    ]
