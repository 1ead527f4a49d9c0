"""Selection in a browser: staff rank the reviewed files with and without calibration, apply the
optimal proposal, publish the decisions, download the conventions (ZIP made in the background)
and the Excel workbook; the selected association reads its decision and downloads its convention."""
import io
import re
import zipfile

from openpyxl import load_workbook
from pypdf import PdfReader

from aap.extensions import db
from aap.models import Application, Decision

from .. import factories, factories_selection
from .conftest import login, mail_link, unexpected_errors

STAFF = "agent@example.org"
MEMBER = "claire@mentorat-solidaire.fr"

# Criteria of the default template: three, equal weights, scale 0-5 (a review's total is /20).
# A severe reviewer scores the Auvergne-Rhône-Alpes files, a lenient one those of Île-de-France,
# a third one gives every file the same marks. Raw means put the lenient reviewer's files first;
# calibration lifts the severe reviewer's best file (Mentorat Solidaire) above a lenient one's.
FILES = [
    # (association, région, département, severe or lenient reviewer's marks)
    ("Mentorat Solidaire", "84", "69", "severe", (3, 3, 3)),
    ("Jeunes d'Avenir", "84", "42", "severe", (2, 2, 2)),
    ("Passerelles Lyon", "84", "69", "severe", (1, 1, 1)),
    ("Tremplin Paris", "11", "75", "lenient", (4, 4, 4)),
    ("Cap Mentorat", "11", "93", "lenient", (5, 5, 5)),
    ("Duo Réussite", "11", "94", "lenient", (5, 5, 4)),
]


def set_up(app):
    """A closed call (300 000 €: three files of 100 000 €) with six files reviewed twice."""
    with app.app_context():
        factories.user("staff", email=STAFF)
        call = factories.call(slug="aap-selection", status="closed", opens_in_days=-60, closes_in_days=-20,
                              title="Appel à projets 1 jeune 1 mentor — sélection", budget_cents=300_000_00)
        member = factories.user("applicant", email=MEMBER, association_name="Mentorat Solidaire")
        factories.complete_identity(member.association)
        severe, lenient, steady = factories_selection.reviewers(3)
        references = {}
        for name, region, departement, who, marks in FILES:
            fields = dict(status="reviewed", title=f"Projet de {name}", requested_cents=100_000_00,
                          requested_per_year=[100_000_00], departements=[departement])
            if name == "Mentorat Solidaire":
                application = factories.application(call, member.association, **fields)
            else:
                application = factories_selection.file(call, name, region=region, departement=departement,
                                                       with_member=True, **fields)
            factories_selection.review(application, severe if who == "severe" else lenient, marks)
            factories_selection.review(application, steady, (3, 3, 3))
            references[name] = application.reference
        return call.id, references


def plain(text):
    """French number formatting uses (narrow) no-break spaces: compare with plain ones."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def rank_cells(page, reference):
    """The text of each cell of the ranking row of a file."""
    row = page.locator("#decision-lot tbody tr").filter(has=page.get_by_role("link", name=reference, exact=True))
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def staff_ranks(page, base, call_id, references):
    login(page, base, STAFF)
    page.get_by_role("link", name="Sélection", exact=True).first.click()
    page.get_by_role("heading", name="Sélection des lauréats").wait_for()
    page.get_by_role("link", name="Appel à projets 1 jeune 1 mentor — sélection").click()
    page.wait_for_url(re.compile(rf".*/selection/appels/{call_id}$"))
    page.get_by_role("heading", name="Classement et décisions").wait_for()
    # Without calibration: the lenient reviewer's files lead, Mentorat Solidaire is 4th (12/20).
    cells = rank_cells(page, references["Mentorat Solidaire"])
    assert cells[1] == "4" and cells[4] == "12,00", cells
    assert rank_cells(page, references["Cap Mentorat"])[1] == "1"
    assert page.get_by_role("columnheader", name="Rang calibré").count() == 0
    page.shots("classement")

    page.locator("label[for=f-calibration]").click()
    page.get_by_role("button", name="Appliquer").click()
    page.wait_for_url(re.compile(r".*calibration=1"))
    page.get_by_role("columnheader", name="Rang calibré").wait_for()
    cells = rank_cells(page, references["Mentorat Solidaire"])
    # Raw rank 4, calibrated rank 3: it overtakes the lenient reviewer's Tremplin Paris (3 → 4).
    # With three reviews each, the reviewers' leniency is only partly corrected (the calibration
    # shrinks a reviewer's mean towards the call's: aap/selection/scoring.py PRIOR_REVIEWS).
    assert (cells[1], cells[2]) == ("4", "3"), cells
    assert rank_cells(page, references["Tremplin Paris"])[1:3] == ["3", "4"]
    page.shots("classement-calibre")


def staff_applies_the_proposal(page, references):
    page.get_by_role("link", name="Proposer une sélection").click()
    page.get_by_role("heading", name="Proposer une sélection", level=1).wait_for()
    page.locator("label[for=calibrated]").click()
    page.get_by_role("button", name="Proposer une sélection").click()
    page.get_by_role("heading", name="Entrent (3)").wait_for()
    entering = page.locator("table").filter(has_text="Dossiers retenus par la proposition").inner_text()
    # The best calibrated files of each région, within the 300 000 € budget.
    for name in ("Mentorat Solidaire", "Cap Mentorat", "Duo Réussite"):
        assert references[name] in entering, (name, entering)
    for name in ("Jeunes d'Avenir", "Passerelles Lyon", "Tremplin Paris"):
        assert references[name] not in entering, (name, entering)
    assert "3 dossiers retenus par la proposition, pour 300 000 €" in plain(page.locator("main").inner_text())
    page.shots("proposition")
    page.get_by_role("button", name="Appliquer les lignes cochées").click()
    page.get_by_text("Proposition appliquée en brouillon : 3 dossier(s) retenu(s)").wait_for()
    page.shots("decisions-brouillon")


def staff_publishes(page):
    """Through the confirmation page (nothing happens before it), then the mails: drafts first,
    sent in a second step with their own confirmation."""
    page.get_by_role("link", name="Publier les décisions (3 en brouillon)…").click()
    page.get_by_role("heading", name="Publier les décisions").wait_for()
    main = plain(page.locator("main").inner_text())
    assert "3 décisions seront publiées : 3 « Retenu »." in main, main
    assert "Des dossiers restent sans décision" in main and "Aucun courrier ne part maintenant" in main
    assert "Montant de la subvention accordée : 100 000 €." in main  # the preview of the mail
    page.shots("publication-confirmation")
    page.get_by_role("button", name="Publier les 3 décisions").click()
    page.get_by_text("Cochez chaque avertissement").wait_for()  # a warning not acknowledged: refused
    for key in page.locator("input[name=ack]").evaluate_all("inputs => inputs.map(i => i.value)"):
        page.locator(f"label[for=ack-{key}]").click()
    page.get_by_role("button", name="Publier les 3 décisions").click()
    page.get_by_text("3 décision(s) publiée(s). Les courriers sont prêts en brouillon").wait_for()
    page.shots("courriers-brouillons")
    page.get_by_role("link", name=re.compile(r"Envoyer les \d+ messages?…")).click()
    page.get_by_role("heading", name="Envoyer les courriers de décision").wait_for()
    page.get_by_role("button", name=re.compile(r"Envoyer les \d+ messages?")).click()
    page.get_by_text(re.compile(r"3 courrier\(s\) envoyé\(s\)")).wait_for()
    page.shots("courriers-envoyes")
    page.get_by_role("link", name="Retour au classement").click()
    assert page.get_by_role("button", name="Publier les décisions (0 en brouillon)").is_disabled()


def staff_downloads_documents(page, base, references, winners):
    page.goto(base + "/tableau-de-bord")
    page.get_by_role("link", name="Conventions et exports").click()
    page.get_by_role("heading", name="Lauréats").wait_for()
    page.shots("documents")
    page.get_by_role("button", name="Générer toutes les conventions (ZIP)").click()
    page.get_by_text("La génération des conventions a commencé").wait_for()
    # The page follows the background job and shows the link once the ZIP is written.
    link = page.get_by_role("link", name="Télécharger le ZIP des conventions")
    link.wait_for(state="visible", timeout=90_000)
    assert page.locator("[data-job-count]").inner_text() == "3 / 3"
    page.shots("conventions-generees")
    with page.expect_download() as info:
        link.click()
    archive = zipfile.ZipFile(info.value.path())
    names = sorted(archive.namelist())
    # Named with the convention's number, in merit order, and the association (issue 17 §6).
    assert names == [f"1J1M-2026-CA-000{n} - {name}.pdf" for n, name in
                     enumerate(["Cap Mentorat", "Duo Réussite", "Mentorat Solidaire"], 1)], names
    texts = []
    for name in names:
        content = archive.read(name)
        assert content.startswith(b"%PDF-"), name
        texts.append(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages))
    for name in winners:
        assert sum(name in text for text in texts) == 1, name

    with page.expect_download() as info:
        page.get_by_role("link", name="Tableur Excel (.xlsx)").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    assert workbook.sheetnames[:3] == ["Synthèse", "Lauréats", "Candidatures"]  # (issue 17 §11)
    rows = list(workbook["Lauréats"].iter_rows(values_only=True))
    header = rows[0]
    body = [dict(zip(header, row)) for row in rows[1:] if row[0] and str(row[0]).startswith("1J1M-")]
    assert sorted(r["Association"] for r in body) == sorted(winners)
    assert sorted(r["Référence"] for r in body) == sorted(references[n] for n in winners)
    assert all(r["Montant accordé"] == 100_000 for r in body), body
    assert "Tremplin Paris" in {row[1] for row in workbook["Candidatures"].iter_rows(values_only=True)}


def association_reads_its_decision(page, base):
    login(page, base, MEMBER)
    page.get_by_role("heading", name="Tableau de bord de Mentorat Solidaire").wait_for()
    # The file's badge (beside the call's phase badge « Appel : … »).
    badges = [text.strip() for text in page.locator("table .fr-badge").all_text_contents()]
    assert [b for b in badges if not b.startswith("Appel")] == ["Retenu"], badges
    page.shots("tableau-de-bord")
    page.get_by_role("link", name="Projet de Mentorat Solidaire").click()
    page.get_by_role("heading", name="Décision : Retenu").wait_for()
    assert "Montant accordé : 100 000 €" in plain(page.locator(".fr-callout").inner_text())
    page.shots("decision")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger la convention (PDF)").click()
    assert re.fullmatch(r"convention-[\w-]+\.pdf", info.value.suggested_filename)
    content = open(info.value.path(), "rb").read()
    assert content.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Mentorat Solidaire" in text and "100 000" in plain(text), text[:500]
    assert "FR7630006000011234567890189" in text.replace(" ", ""), text[:500]  # the bank details


def test_staff_select_publish_export_and_the_association_downloads_its_convention(live_app, open_page):
    app, base = live_app.app, live_app.url
    call_id, references = set_up(app)
    winners = ["Mentorat Solidaire", "Cap Mentorat", "Duo Réussite"]

    staff = open_page("instructeur")
    staff_ranks(staff, base, call_id, references)
    staff_applies_the_proposal(staff, references)
    staff_publishes(staff)

    with app.app_context():
        decisions = {d.application.association.name: (d.outcome, d.amount_cents, d.published_at is not None)
                     for d in db.session.scalars(db.select(Decision))}
        assert decisions == {name: ("selected", 100_000_00, True) for name in winners}
        application_id = db.session.scalar(db.select(Application.id).where(
            Application.reference == references["Mentorat Solidaire"]))
        assert db.session.get(Application, application_id).status == "selected"
    # The decision e-mail reaches the association's member.
    assert mail_link(app, MEMBER, re.escape(references["Mentorat Solidaire"]) + r"[^\n]*\n+.*est retenu")

    staff_downloads_documents(staff, base, references, winners)

    association = open_page("association")
    association_reads_its_decision(association, base)

    # The one refusal the journey provokes: publishing before acknowledging a warning (422).
    publish_url = f"{base}/selection/appels/{call_id}/publier"
    for page, expected in ((staff, [(422, publish_url)]), (association, [])):
        assert unexpected_errors(page, allowed_statuses=(422,) if expected else ()) == [], page.js_errors
        assert page.http_errors == expected, page.http_errors
