"""Staff and a reviewer in a browser: staff publish a call, declare files admissible and run the
automatic assignment; a reviewer declares a conflict of interest on one file (which they can no
longer open) and scores another one, then sends the review."""
import re

from aap.extensions import db
from aap.models import Application, Assignment, Call, Conflict, Review

from .. import factories, factories_instruction
from .conftest import login, mail_link, unexpected_errors

REVIEWER = "evaluatrice@example.org"
OTHER_REVIEWER = "evaluateur2@example.org"
STAFF = "agent@example.org"
TITLE = "Appel à projets 1 jeune 1 mentor — instruction"


def set_up(app):
    """A draft call, its staff member and two reviewers of another région than the files."""
    with app.app_context():
        factories.user("staff", email=STAFF)
        for email, first_name, last_name in [(REVIEWER, "Sophie", "Lambert"), (OTHER_REVIEWER, "Marc", "Durand")]:
            reviewer = factories.user("reviewer", email=email, region_code="11")
            reviewer.first_name, reviewer.last_name = first_name, last_name
        db.session.commit()
        call = factories.call(slug="aap-instruction", status="draft", title=TITLE, reviewers_per_file=2)
        return call.id


def submit_files(app, call_id):
    """Three associations (région Auvergne-Rhône-Alpes) submit their files once the call is open."""
    with app.app_context():
        call = db.session.get(Call, call_id)
        files = [factories.submitted_file(call, name, region="84", title=title)
                 for name, title in [("Mentorat Solidaire", "Des mentors pour la Guillotière"),
                                     ("Jeunes d'Avenir", "Un mentor pour chaque décrocheur"),
                                     ("Passerelles", "Mentorat en lycée professionnel")]]
        for application in files:  # deposited with their pieces: the admissibility checklist passes
            factories_instruction.attach_pieces(application)
        return [(f.id, f.reference, f.association.name) for f in files]


def staff_publishes_the_call(page, base, call_id):
    login(page, base, STAFF)
    page.shots("tableau-de-bord")
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_url(re.compile(rf".*/instruction/appels/{call_id}$"))
    assert "L'appel est prêt" in page.locator(".fr-callout").first.inner_text()
    page.shots("appel-brouillon")
    page.get_by_role("button", name="Publier l'appel à projets").click()
    page.get_by_text("est publié : sa page publique est en ligne").wait_for()
    page.get_by_role("button", name="Clore l'appel à projets").wait_for()
    page.shots("appel-publie")


def staff_declares_admissible(page, base, call_id, files):
    page.get_by_role("link", name="Dossiers", exact=True).first.click()
    page.wait_for_url(re.compile(rf".*/instruction/appels/{call_id}/dossiers$"))
    assert page.locator("table caption").inner_text().strip() == "3 dossiers"
    page.shots("dossiers-deposes")
    for _id, reference, name in files[:2]:
        page.get_by_role("link", name=reference, exact=True).click()
        page.get_by_role("heading", name="Instruction").wait_for()
        if reference == files[0][1]:
            page.shots("dossier-a-instruire")
        page.get_by_role("button", name="Déclarer recevable").click()
        page.get_by_text(f"Le dossier {reference} est déclaré recevable").wait_for()
        page.get_by_role("link", name="Tous les dossiers de l'appel").click()
    # The filter tags count the states: two admissible files, one still to check.
    page.get_by_role("link", name="Recevable (2)").wait_for()
    page.get_by_role("link", name="Déposé (1)").wait_for()
    page.shots("dossiers-recevables")


def staff_runs_the_automatic_assignment(page, base, call_id, files):
    page.goto(f"{base}/instruction/appels/{call_id}/affectations")
    page.shots("affectations-vides")
    page.get_by_role("button", name="Affecter automatiquement").click()
    page.get_by_role("heading", name="Détail par dossier").wait_for()
    # Both reviewers on each of the two admissible files (never the file still « déposé »).
    assert "4 nouvelles affectations proposées pour 2 dossiers" in page.locator("main").inner_text()
    assert "Sophie Lambert" in page.locator("table").first.inner_text()
    proposed = page.locator("table").nth(1).inner_text()
    assert files[0][1] in proposed and files[1][1] in proposed and files[2][1] not in proposed
    assert proposed.count("Marc Durand, Sophie Lambert") + proposed.count("Sophie Lambert, Marc Durand") == 2
    page.shots("proposition-affectation")
    page.get_by_role("button", name="Confirmer et prévenir les évaluateurs").click()
    page.get_by_text("4 affectation(s) enregistrée(s) ; 2 évaluateur(s) prévenu(s) par e-mail.").wait_for()
    page.shots("affectations-confirmees")


def reviewer_declares_a_conflict(page, base, conflicted):
    _id, reference, name = conflicted
    page.get_by_role("link", name=reference, exact=True).click()
    page.get_by_role("heading", name=f"Avant d'ouvrir le dossier {reference}").wait_for()
    # Nothing of the project is shown before the reviewer answers the question.
    assert "Des mentors pour la Guillotière" not in page.locator("main").inner_text()
    assert name in page.locator(".fr-callout").inner_text()
    page.shots("question-lien-interets")
    page.get_by_label("Nature du lien avec cette association").fill(
        "Je suis administratrice bénévole de cette association.")
    page.get_by_role("button", name="Je déclare un lien d'intérêts").click()
    page.get_by_text("Votre lien d'intérêts est enregistré et le dossier vous est retiré.").wait_for()
    page.get_by_role("heading", name="À évaluer (1)").wait_for()
    assert page.get_by_role("link", name=reference, exact=True).count() == 0
    page.shots("conflit-declare")
    # The file is gone for this reviewer: its review page and its file page answer 404.
    for path in (f"/evaluation/dossiers/{conflicted[0]}", f"/candidatures/{conflicted[0]}"):
        response = page.goto(base + path)
        assert response.status == 404, (path, response.status)
    page.shots("dossier-en-conflit-introuvable")
    page.goto(base + "/tableau-de-bord")


def reviewer_scores_a_file(page, scored, criteria):
    _id, reference, name = scored
    page.get_by_role("link", name=reference, exact=True).click()
    page.get_by_role("button", name="Je n'ai pas de lien avec cette association").click()
    page.get_by_role("heading", name="Un mentor pour chaque décrocheur").wait_for()
    page.shots("evaluation-vide")

    # Sent too early: refused, the missing parts listed in the error summary and next to the fields.
    # Scores are chosen from the scale, each with what it means.
    first = criteria[0]
    page.get_by_text("4 — Très solide : financements diversifiés").wait_for()
    page.locator(f"label[for=score_{first[0]}-4]").click()
    page.get_by_role("button", name="Envoyer l'évaluation").click()
    summary = page.locator("#resume-erreurs")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    assert f"Notez le critère « {criteria[1][1]} »." in summary.inner_text()
    assert "Choisissez un avis global" in summary.inner_text()
    assert page.locator(f"#score_{first[0]}-4").is_checked()  # what was chosen is kept
    page.shots("evaluation-incomplete")

    for (criterion_id, _label), (value, comment) in zip(criteria, [("4", "Gouvernance solide."),
                                                                   ("5", "Public très éloigné de l'emploi."),
                                                                   ("3", "Deux départements seulement.")]):
        page.locator(f"label[for=score_{criterion_id}-{value}]").click()
        page.locator(f"#comment_{criterion_id}").fill(comment)
    # The draft saves itself as the reviewer goes.
    page.get_by_text("Brouillon enregistré automatiquement à").wait_for()
    page.locator("label[for=recommendation-0]").click()
    page.get_by_label("Montant proposé (facultatif)").fill("80 000")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_text("Brouillon enregistré.").wait_for()
    assert page.locator(f"#comment_{criteria[1][0]}").input_value() == "Public très éloigné de l'emploi."
    page.get_by_role("button", name="Envoyer l'évaluation").click()
    # Sending asks for a confirmation, the review shown as it will be sent.
    page.get_by_role("heading", name="Confirmer l'envoi de votre évaluation").wait_for()
    assert "Public très éloigné de l'emploi." in page.locator("main").inner_text()
    page.shots("evaluation-confirmation")
    page.get_by_role("button", name="Confirmer l'envoi").click()
    page.get_by_text("Votre évaluation est envoyée. Merci !").wait_for()
    # Sent: shown read-only, no form any more.
    assert page.get_by_role("button", name="Envoyer l'évaluation").count() == 0
    page.shots("evaluation-envoyee")
    page.get_by_role("link", name="Mes évaluations").first.click()
    page.get_by_role("heading", name="Évaluations envoyées (1)").wait_for()
    page.get_by_role("heading", name="À évaluer (0)").wait_for()
    page.shots("tableau-de-bord-fin")


def test_staff_assign_and_reviewer_declares_a_conflict_then_scores(live_app, open_page):
    app, base = live_app.app, live_app.url
    call_id = set_up(app)

    staff = open_page("instructeur")
    staff_publishes_the_call(staff, base, call_id)
    # The public page is online for everyone (a person not logged in).
    reviewer = open_page("evaluatrice")
    response = reviewer.goto(base + "/appels/aap-instruction")
    assert response.status == 200
    reviewer.get_by_role("heading", name=TITLE, level=1).wait_for()

    files = submit_files(app, call_id)
    staff_declares_admissible(staff, base, call_id, files)
    staff_runs_the_automatic_assignment(staff, base, call_id, files)

    with app.app_context():
        states = {a.id: a.status for a in db.session.scalars(
            db.select(Application).where(Application.call_id == call_id))}
        assert [states[f[0]] for f in files] == ["in_review", "in_review", "submitted"]
        criteria = [(c.id, c.label) for c in db.session.get(Call, call_id).criteria]
    # The reviewer is told by e-mail, with the link to the review pages.
    assert mail_link(app, REVIEWER, r"http://\S+/evaluation/dossiers/\d+")

    login(reviewer, base, REVIEWER)
    reviewer.get_by_role("heading", name="À évaluer (2)").wait_for()
    reviewer.shots("tableau-de-bord")
    reviewer_declares_a_conflict(reviewer, base, files[0])
    reviewer_scores_a_file(reviewer, files[1], criteria)

    with app.app_context():
        reviewer_id = db.session.scalar(db.select(Review.reviewer_id).where(Review.application_id == files[1][0]))
        conflict = db.session.scalar(db.select(Conflict).where(Conflict.reviewer_id == reviewer_id))
        assert conflict.association.name == files[0][2]
        assert conflict.application_id == files[0][0]
        assert db.session.scalar(db.select(Assignment).where(
            Assignment.reviewer_id == reviewer_id, Assignment.application_id == files[0][0])) is None
        review = db.session.scalar(db.select(Review).where(Review.application_id == files[1][0]))
        assert review.status == "submitted" and review.recommendation == "favorable"
        assert sorted(s.value for s in review.scores) == [3, 4, 5]
        assert review.proposed_amount_cents == 80_000_00

    # Staff see the declared conflict on the call's page of conflicts.
    staff.goto(f"{base}/instruction/appels/{call_id}/conflits")
    staff.get_by_text("Je suis administratrice bénévole de cette association.").wait_for()
    staff.shots("liens-d-interets")

    assert unexpected_errors(staff) == [], staff.js_errors
    assert unexpected_errors(reviewer, allowed_statuses=(400, 404)) == [], reviewer.js_errors
    assert [s for s, _url in staff.http_errors] == [], staff.http_errors
    # The only error responses are the ones the journey provoked (the refused review, the 404s).
    assert sorted({s for s, _url in reviewer.http_errors}) == [400, 404], reviewer.http_errors
