"""The demo files' attachments: one small PDF per required document (statuts, list of the board,
activity report, accounts, project budget, RIB, a letter of support), written with the
association's own data, stored like real uploads (random names under UPLOAD_FOLDER, size and
SHA-256 of the bytes).

The PDFs are built by hand (one A4 page of Helvetica text, 1 to 3 kB, exact cross-reference
table) rather than rendered: the demo's 1,745 cost about 0.1 s, less than creating their files
on disk (0.3 to 0.6 s on a shared 2-core machine). Nothing is drawn
from the demo's random generator (the board members come from a generator of their own, seeded
by the association's SIRET), so the rest of the demo is the same with or without them, and the
same seed gives the same bytes.
"""
import functools
import hashlib
import random
from datetime import date

from ..applications import files
from ..models import Attachment
from ..money import format_euros
from .builder import a_place, ascii_slug, de_place, thousands
from .vocabulary import BANKS, FIRST_NAMES_F, FIRST_NAMES_M, FUNCTIONS, LAST_NAMES, STREETS

# Bank names of the BIC codes of vocabulary.BANKS (for the RIB's « domiciliation »).
BANK_NAMES = {"CCOPFRPPXXX": "Crédit Coopératif", "BNPAFRPPXXX": "BNP Paribas", "SOGEFRPP": "Société Générale",
              "PSSTFRPPXXX": "La Banque Postale", "CMCIFR2A": "Crédit Mutuel", "CRLYFRPP": "LCL",
              "CEPAFRPP751": "Caisse d'Épargne", "CCBPFRPPMTG": "Banque Populaire",
              "AGRIFRPP866": "Crédit Agricole"}
assert {bic for _, bic in BANKS} <= set(BANK_NAMES)

# File names of the pieces, as an association would name them.
FILE_NAMES = {"statuts": "statuts", "dirigeants": "composition-bureau-ca", "rapport_activite": "rapport-activite",
              "comptes": "comptes-annuels", "budget_projet": "budget-previsionnel", "rib": "rib",
              "autre": "lettre-de-soutien"}

LEGAL_FRAMES = {
    "association_1901": "une association régie par la loi du 1er juillet 1901 et le décret du 16 août 1901",
    "association_1908": "une association inscrite régie par les articles 21 à 79-III du code civil local",
    "association_rup": "une association régie par la loi du 1er juillet 1901, reconnue d'utilité publique",
    "fondation": "une fondation reconnue d'utilité publique",
    "fondation_entreprise": "une fondation d'entreprise",
}
# Professions of the board's members (feminine, masculine).
PROFESSIONS = [("enseignante", "enseignant"), ("cadre commerciale", "cadre commercial"),
               ("retraitée de l'éducation nationale", "retraité de l'éducation nationale"),
               ("éducatrice spécialisée", "éducateur spécialisé"), ("ingénieure", "ingénieur"),
               ("cheffe d'entreprise", "chef d'entreprise"), ("conseillère d'insertion", "conseiller d'insertion"),
               ("médecin", "médecin"), ("comptable", "comptable"),
               ("responsable des ressources humaines", "responsable des ressources humaines")]


# ---------------------------------------------------------------- a PDF page built by hand

def _pdf_text(text):
    """A PDF literal string in WinAnsi (cp1252), which Helvetica's standard encoding covers."""
    data = text.replace("\u202f", "\u00a0").encode("cp1252", "replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@functools.lru_cache(maxsize=1024)
def _shown_lines(text, width):
    """The text wrapped at `width` characters, each line as a PDF « show on the next line »
    operation (cached: the pieces share many paragraphs; textwrap would cost more than the rest)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return b"\n".join(_pdf_text(line) + b" '" for line in lines)


def pdf_page(title, paragraphs):
    """A valid one-page A4 PDF 1.4: a bold title, then paragraphs (a str, or ("h", str) for a
    heading), wrapped to the page's width."""
    ops = [b"BT /F2 15 Tf 56 786 Td 18 TL", _shown_lines(title, 62), b"/F1 10 Tf 13 TL ()'"]
    for paragraph in paragraphs:
        if isinstance(paragraph, tuple):
            ops += [b"/F2 10 Tf ()'", _shown_lines(paragraph[1], 98), b"/F1 10 Tf"]
        else:
            ops.append(_shown_lines(paragraph, 98))
    ops.append(b"ET")
    stream = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---------------------------------------------------------------- the pieces' texts

def _day(value):
    return value.strftime("%d/%m/%Y")


def _share(cents, percent):
    return cents * percent // 100 // 100_00 * 100_00  # rounded down to 100 €


def _statuts(association, application, year):
    frame = LEGAL_FRAMES.get(association.legal_form, LEGAL_FRAMES["association_1901"])
    acronym = f" ({association.acronym})" if association.acronym else ""
    adopted = association.creation_date or date(year - 10, 6, 1)
    return f"Statuts de l'association {association.name}", [
        ("h", "Article 1 — Dénomination"),
        f"Il est fondé entre les adhérents aux présents statuts {frame}, ayant pour titre : "
        f"{association.name}{acronym}.",
        ("h", "Article 2 — Objet"),
        "L'association a pour objet l'accompagnement des enfants, adolescents et jeunes adultes vers "
        "l'autonomie, la réussite scolaire, l'orientation et l'insertion professionnelle, notamment par le "
        "mentorat bénévole, la formation des mentors et le suivi des binômes.",
        ("h", "Article 3 — Siège social"),
        f"Le siège social est fixé au {association.address}, {association.postal_code} {association.commune}. "
        "Il pourra être transféré par simple décision du conseil d'administration.",
        ("h", "Article 4 — Durée"),
        "La durée de l'association est illimitée.",
        ("h", "Article 5 — Membres"),
        "L'association se compose de membres actifs, qui versent une cotisation annuelle fixée par "
        "l'assemblée générale, et de membres bienfaiteurs. La qualité de membre se perd par la démission, "
        "le décès ou la radiation prononcée par le conseil d'administration pour motif grave.",
        ("h", "Article 8 — Conseil d'administration"),
        "L'association est dirigée par un conseil de six à douze membres élus pour trois ans par "
        "l'assemblée générale. Le conseil élit parmi ses membres un bureau composé d'un président, d'un "
        "secrétaire et d'un trésorier.",
        ("h", "Article 12 — Ressources"),
        "Les ressources de l'association comprennent les cotisations, les subventions de l'État, des "
        "collectivités territoriales et des établissements publics, les dons et le mécénat, et toute "
        "ressource autorisée par la loi.",
        ("h", "Article 15 — Contrat d'engagement républicain"),
        "L'association s'engage à respecter le contrat d'engagement républicain prévu par l'article 10-1 "
        "de la loi n° 2000-321 du 12 avril 2000.",
        "",
        f"Statuts adoptés par l'assemblée générale du {_day(adopted)}."
        + (f" {association.legal_identifier[:1].upper()}{association.legal_identifier[1:]}."
           if association.legal_identifier else ""),
        f"Fait {a_place(association.commune)}, pour l'association : {association.representative_name}, "
        f"{association.representative_function.lower()}.",
    ]


def _dirigeants(association, application, year):
    rng = random.Random(f"bureau-{association.siret}")  # not the demo's generator
    people = [(association.representative_name, association.representative_function,
               association.representative_function in FUNCTIONS["f"])]
    for function_f, function_m in (("Trésorière", "Trésorier"), ("Secrétaire", "Secrétaire"),
                                   ("Administratrice", "Administrateur")):
        female = rng.random() < 0.5
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        people.append((f"{first} {rng.choice(LAST_NAMES)}", function_f if female else function_m, female))
    paragraphs = [f"{association.name} — {association.legal_identifier or association.legal_form_label} — "
                  f"SIRET {association.siret}",
                  f"Composition à jour au {_day(date(year, 1, 15))}, déclarée à la préfecture.", ""]
    for name, function, female in people:
        born = date(rng.randint(1950, 1992), rng.randint(1, 12), rng.randint(1, 28))
        profession = rng.choice(PROFESSIONS)[0 if female else 1]
        paragraphs += [("h", f"{function} : {name}"),
                       f"{'Née' if female else 'Né'} le {_day(born)} ; nationalité française ; "
                       f"profession : {profession}.",
                       f"Domicile : {rng.randint(1, 90)} {rng.choice(STREETS)}, {association.postal_code} "
                       f"{association.commune}."]
    return "Liste des membres du conseil d'administration et du bureau", paragraphs


def _rapport_activite(association, application, year):
    young = application.young_count or 100
    reached = max(20, young * 3 // 4 // 10 * 10)
    mentors = max(15, (application.mentor_count or young) * 3 // 4)
    return f"Rapport d'activité {year}", [
        association.name,
        f"Rapport approuvé par l'assemblée générale du {_day(date(year + 1, 6, 14))}.",
        ("h", "L'association"),
        association.description,
        f"L'équipe compte {association.staff_count or 1} salarié(s) et {association.volunteer_count or 0} "
        f"bénévole(s) ; son siège est {a_place(association.commune)}.",
        ("h", f"Le mentorat en {year}"),
        f"{thousands(reached)} jeunes ont été accompagnés par {thousands(mentors)} mentors bénévoles formés par "
        "l'association. "
        "Les binômes se sont rencontrés en moyenne deux fois par mois ; 81 % des jeunes accompagnés ont "
        "trouvé une solution de formation, d'emploi ou de stage à l'issue de l'accompagnement.",
        ("h", "Les partenaires"),
        application.partners or "Missions locales, établissements scolaires, entreprises du territoire.",
        ("h", "Les perspectives"),
        "L'association souhaite étendre le mentorat aux jeunes les plus éloignés de l'emploi et renforcer "
        "la formation continue des mentors.",
    ]


def _comptes(association, application, year):
    total = association.annual_budget_cents or 200_000_00
    grants, gifts, dues = _share(total, 56), _share(total, 18), _share(total, 4)
    services = total - grants - gifts - dues
    staff, rent, activities = _share(total, 63), _share(total, 9), _share(total, 21)
    result = _share(total, 2)
    other = total - staff - rent - activities - result
    return f"Comptes annuels de l'exercice {year}", [
        association.name,
        f"Exercice du 1er janvier au 31 décembre {year}, comptes approuvés par l'assemblée générale du "
        f"{_day(date(year + 1, 6, 14))}.",
        ("h", "Compte de résultat — produits"),
        f"Subventions d'exploitation : {format_euros(grants, decimals=False)}",
        f"Dons et mécénat : {format_euros(gifts, decimals=False)}",
        f"Cotisations : {format_euros(dues, decimals=False)}",
        f"Prestations de services : {format_euros(services, decimals=False)}",
        f"Total des produits : {format_euros(total, decimals=False)}",
        ("h", "Compte de résultat — charges"),
        f"Salaires et charges sociales : {format_euros(staff, decimals=False)}",
        f"Loyers et charges locatives : {format_euros(rent, decimals=False)}",
        f"Achats et services liés aux activités : {format_euros(activities, decimals=False)}",
        f"Autres charges : {format_euros(other, decimals=False)}",
        f"Total des charges : {format_euros(total - result, decimals=False)}",
        ("h", "Résultat de l'exercice"),
        f"Excédent : {format_euros(result, decimals=False)}",
    ]


def _budget_projet(association, application, year):
    """The project's budget as typed in the form (aap/applications/budget.py), summed over the years."""
    from ..applications import budget
    years = application.call.years if application.call else 1
    view = budget.view(application.budget or {}, years, application.call.year if application.call else year)
    paragraphs = [f"{association.name} — projet « {application.title or 'Mentorat'} »",
                  "Budget établi selon le formulaire Cerfa n° 12156*06 (budget du projet)"
                  + (f", sur les {years} années de la convention." if years > 1 else ".")]
    for title, rows, total in (("Charges", view.charges, view.overall.charges),
                               ("Produits", view.products, view.overall.products),
                               ("Contributions volontaires en nature", view.kind, None)):
        filled = [row for row in rows if row.total]
        if not filled:
            continue
        paragraphs.append(("h", title))
        paragraphs += [f"{row.line.label} : {format_euros(row.total, decimals=False)}" for row in filled]
        if total is not None:
            paragraphs.append(f"Total des {title.lower()} : {format_euros(total, decimals=False)}")
    return f"Budget prévisionnel du projet {year + 1}", paragraphs


def _rib(association, application, year):
    iban = association.iban or ""
    bban = iban[4:]
    return "Relevé d'identité bancaire", [
        f"Titulaire du compte : {association.account_holder or association.name}",
        f"{association.address}, {association.postal_code} {association.commune}",
        f"Domiciliation : {BANK_NAMES.get(association.bic, 'Banque')} — agence {de_place(association.commune)}",
        ("h", "Identifiant national de compte bancaire (RIB)"),
        f"Code banque : {bban[0:5]}   Code guichet : {bban[5:10]}   N° de compte : {bban[10:21]}   "
        f"Clé RIB : {bban[21:23]}",
        ("h", "Identifiant international de compte bancaire"),
        "IBAN : " + " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)),
        f"BIC : {association.bic}",
    ]


def _autre(association, application, year):
    return "Lettre de soutien", [
        f"Mission locale {de_place(association.commune)}", "",
        f"{association.commune}, le {_day(date(year + 1, 1, 20))}", "",
        "Madame, Monsieur,",
        f"La mission locale soutient la candidature de l'association {association.name} à l'appel à projets "
        "« 1 jeune 1 mentor ». Nous orientons chaque année vers ses mentors des jeunes que nous accompagnons "
        "et constatons les effets de ce soutien sur leur confiance et leur insertion.",
        "Nous poursuivrons ce partenariat et restons à votre disposition pour tout renseignement.",
        "", "La directrice de la mission locale",
    ]


WRITERS = {"statuts": _statuts, "dirigeants": _dirigeants, "rapport_activite": _rapport_activite,
           "comptes": _comptes, "budget_projet": _budget_projet, "rib": _rib, "autre": _autre}


def piece_pdf(code, association, application, year):
    """The bytes of the piece `code` of the association's file (None for a code without a writer)."""
    writer = WRITERS.get(code)
    if writer is None:
        return None
    title, paragraphs = writer(association, application, year)
    return pdf_page(title, paragraphs)


# ---------------------------------------------------------------- the attachments

def wants_letter(association):
    """About one association in three adds the optional letter of support (no random draw)."""
    return int(association.siret[-3]) % 3 == 0


def attach_pieces(application, member, start, end, codes=None):
    """Give the application one PDF per required document of its call (the mandatory ones, and
    the optional letter for some), or per document of `codes`, uploaded by the member between
    start and end, and written under UPLOAD_FOLDER like an upload. Returns the new Attachments
    (in application.attachments, each with its document set, so that the snapshot lists them)."""
    association, call = application.association, application.call
    documents = [d for d in call.pieces
                 if (d.code in codes if codes is not None else d.mandatory or wants_letter(association))]
    slug = ascii_slug(association.acronym or association.name)[:30] or "association"
    step = (end - start) / (len(documents) + 1)
    added = []
    for index, document in enumerate(documents):
        data = piece_pdf(document.code, association, application, call.year - 1)
        if data is None:
            continue
        stored = files.new_stored_name()
        files.write(stored, data)
        attachment = Attachment(document=document, document_id=document.id,
                                original_name=f"{FILE_NAMES.get(document.code, document.code)}-{slug}.pdf",
                                stored_name=stored, kind="pdf", content_type=files.KINDS["pdf"][0],
                                size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                uploaded_by_id=member.id, uploaded_at=start + step * (index + 1))
        application.attachments.append(attachment)
        added.append(attachment)
    return added


def record_uploads(builder, application, member):
    """The history of the uploads, as the service records it (once the file has its id)."""
    for attachment in application.attachments:
        builder.event("attachment_added", attachment.uploaded_at, member, application,
                      document=attachment.document.label, name=attachment.original_name, sha256=attachment.sha256)

