"""Instruction by staff: the list of submitted files of a call, admissibility, the staff panel."""
import re
from html import unescape

import pytest

from aap.extensions import db
from aap.instruction import services
from aap.models import Application

from . import factories
from . import factories_instruction as fi
from .conftest import count_queries


@pytest.fixture
def own_file(call, applicant):
    """A submitted file of the `applicant` fixture's association (Réussir Ensemble, Rhône), with
    its mandatory pieces: it meets every admissibility condition."""
    return fi.attach_pieces(factories.submitted_file(call, applicant.association))


def list_url(call, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/instruction/appels/{call.id}/dossiers" + (f"?{query}" if query else "")


def references(html):
    return re.findall(r"1J1M-\d{4}-\d{4}", html)


# --- the list -------------------------------------------------------------------------------

def test_list_shows_submitted_files_not_drafts(client, login_as, staff, call):
    lyon = fi.association("Lyon Mentorat", "69", "84")
    draft_assoc = fi.association("Brouillon Asso", "75", "11")
    submitted = factories.submitted_file(call, lyon, title="Projet lyonnais", requested_cents=42_500_00)
    draft = factories.application(call, draft_assoc, status="draft", title="Projet en brouillon")
    login_as(staff)
    html = client.get(list_url(call)).get_data(as_text=True)
    assert submitted.reference in html and "Lyon Mentorat" in html and "Projet lyonnais" in html
    assert "Auvergne-Rhône-Alpes" in html and "69 – Rhône" in html
    assert "42\u202f500\u00a0€" in html and "Déposé" in html
    assert "Projet en brouillon" not in html and "Brouillon Asso" not in html
    assert f"/candidatures/{submitted.id}" in html
    assert draft.id != submitted.id


def test_list_filters(client, login_as, staff, call):
    a = factories.submitted_file(call, fi.association("Asso Rhône", "69", "84"), requested_cents=20_000_00)
    b = factories.submitted_file(call, fi.association("Asso Paris", "75", "11"), requested_cents=80_000_00,
                          status="admissible")
    c = factories.submitted_file(call, fi.association("Asso Isère", "38", "84"), requested_cents=140_000_00,
                          status="incomplete")
    other_call = factories.call(slug="autre-appel")
    d = factories.submitted_file(other_call, fi.association("Autre appel", "69", "84"))
    login_as(staff)

    def refs(**args):
        response = client.get(list_url(call, **args))
        assert response.status_code == 200
        return set(references(response.get_data(as_text=True)))

    assert refs() == {a.reference, b.reference, c.reference}
    assert d.reference not in refs()
    assert refs(etat="admissible") == {b.reference}
    assert refs(region="84") == {a.reference, c.reference}
    assert refs(departement="38") == {c.reference}
    assert refs(montant_min="50000") == {b.reference, c.reference}
    assert refs(montant_max="80+000") == {a.reference, b.reference}
    assert refs(montant_min="30000", montant_max="100000") == {b.reference}
    assert refs(region="84", etat="submitted") == {a.reference}
    # Unknown codes are ignored rather than failing.
    assert refs(etat="nimportequoi", region="zz") == {a.reference, b.reference, c.reference}


def test_list_bad_amount_is_a_french_error_and_ignored(client, login_as, staff, call):
    a = factories.submitted_file(call, fi.association("Asso Rhône"), requested_cents=20_000_00)
    login_as(staff)
    html = client.get(list_url(call, montant_min="beaucoup")).get_data(as_text=True)
    assert "Saisissez un montant en euros" in html
    assert a.reference in html
    html = client.get(list_url(call, montant_min="100000", montant_max="10")).get_data(as_text=True)
    assert "Le montant maximum doit être supérieur ou égal au montant minimum." in html


def test_list_sorts(client, login_as, staff, call):
    small = factories.submitted_file(call, fi.association("Zèbre"), requested_cents=15_000_00)
    big = factories.submitted_file(call, fi.association("Abeille"), requested_cents=90_000_00)
    middle = factories.submitted_file(call, fi.association("Mésange"), requested_cents=50_000_00)
    login_as(staff)

    def order(**args):
        seen = []
        for ref in references(client.get(list_url(call, **args)).get_data(as_text=True)):
            if ref not in seen:
                seen.append(ref)
        return seen

    assert order(tri="montant", ordre="asc") == [small.reference, middle.reference, big.reference]
    assert order(tri="montant", ordre="desc") == [big.reference, middle.reference, small.reference]
    assert order(tri="association") == [big.reference, middle.reference, small.reference]
    assert order(tri="reference", ordre="desc") == sorted([small.reference, big.reference, middle.reference],
                                                          reverse=True)


def test_list_paginates_by_50(client, login_as, staff, call):
    files = [factories.submitted_file(call, fi.association(f"Asso {i:02d}")) for i in range(53)]
    login_as(staff)
    first = client.get(list_url(call)).get_data(as_text=True)
    second = client.get(list_url(call, page=2)).get_data(as_text=True)
    first_refs, second_refs = set(references(first)), set(references(second))
    assert len(first_refs) == 50 and len(second_refs) == 3
    assert first_refs | second_refs == {f.reference for f in files}
    assert "53 dossiers — page 1 sur 2" in first
    assert "Page suivante" in first and "dossiers?page=2" in first
    # A page beyond the end shows the last page.
    assert set(references(client.get(list_url(call, page=9)).get_data(as_text=True))) == second_refs


def test_list_counts_per_state(client, login_as, staff, call):
    for i in range(3):
        factories.submitted_file(call, fi.association(f"Déposée {i}"))
    factories.submitted_file(call, fi.association("Recevable"), status="admissible")
    factories.application(call, fi.association("Brouillon"), status="draft")
    login_as(staff)
    html = client.get(list_url(call)).get_data(as_text=True)
    assert "Tous (4)" in html and "Déposé (3)" in html and "Recevable (1)" in html
    assert "Brouillon (" not in html


def _list_queries(client, call, count):
    for i in range(count):
        factories.submitted_file(call, fi.association(f"Asso {count}-{i}", "69", "84"))
    with count_queries() as queries:
        response = client.get(list_url(call, tri="association"))
    assert response.status_code == 200
    assert len(set(references(response.get_data(as_text=True)))) == count
    return queries()


def test_list_query_count_does_not_depend_on_the_number_of_files(client, login_as, staff, app):
    login_as(staff)
    few = _list_queries(client, factories.call(slug="petit"), 5)
    many = _list_queries(client, factories.call(slug="grand"), 40)
    assert few == many
    assert many <= 8


def test_list_access(client, login_as, call, applicant, reviewer):
    url = list_url(call)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login_as(applicant)
    assert client.get(url).status_code == 403
    client.post_form("/deconnexion")
    login_as(reviewer)
    assert client.get(url).status_code == 403


def test_list_unknown_call_is_404(client, login_as, staff):
    login_as(staff)
    assert client.get("/instruction/appels/999/dossiers").status_code == 404


# --- admissibility --------------------------------------------------------------------------

def test_admissible_changes_state_records_event_and_mails_each_member(client, login_as, staff, own_file,
                                                                         applicant):
    colleague = fi.member(applicant.association, "collegue@example.org")
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{own_file.id}/recevable")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/candidatures/{own_file.id}")
    db.session.refresh(own_file)
    assert own_file.status == "admissible"
    [event] = fi.events_of(own_file, "admissibility")
    assert (event.from_state, event.to_state, event.actor_id) == ("submitted", "admissible", staff.id)
    recipients = sorted(m.to for m in factories.outbox())
    assert recipients == ["asso@example.org", "collegue@example.org"]
    mail = factories.last_mail_to(colleague.email)
    assert own_file.reference in mail.subject and "recevable" in mail.subject
    assert "déclaré recevable" in mail.body and f"http://localhost/candidatures/{own_file.id}" in mail.body


def test_admissible_twice_is_refused_without_change(client, login_as, staff, own_file):
    login_as(staff)
    client.post_form(f"/instruction/dossiers/{own_file.id}/recevable")
    mails = len(factories.outbox())
    response = client.post_form(f"/instruction/dossiers/{own_file.id}/recevable", follow_redirects=False)
    assert response.status_code == 302
    page = unescape(client.get("/accessibilite").get_data(as_text=True))
    assert "seul un dossier déposé peut être déclaré recevable" in page
    assert len(factories.outbox()) == mails
    assert len(fi.events_of(own_file, "admissibility")) == 1


def test_inadmissible_with_reason_is_mailed_and_recorded(client, login_as, staff, own_file, applicant):
    login_as(staff)
    reason = "Les statuts fournis ne sont pas ceux de l'association.\nMerci de votre compréhension."
    response = client.post_form(f"/instruction/dossiers/{own_file.id}/irrecevable",
                                {"inadmissible_reason": reason, "inadmissible_confirmed": "1"})
    assert response.status_code == 302
    db.session.refresh(own_file)
    assert own_file.status == "inadmissible"
    [event] = fi.events_of(own_file, "admissibility")
    assert (event.from_state, event.to_state, event.reason) == ("submitted", "inadmissible", reason)
    assert event.actor_id == staff.id
    mail = factories.last_mail_to(applicant.email)
    assert "n'est pas recevable" in mail.subject
    assert "Les statuts fournis ne sont pas ceux de l'association." in mail.body
    assert "Merci de votre compréhension." in mail.body


def test_inadmissible_without_reason_is_refused(client, login_as, staff, own_file):
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{own_file.id}/irrecevable",
                                {"inadmissible_reason": "   "})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Indiquez le motif d'irrecevabilité" in html
    db.session.refresh(own_file)
    assert own_file.status == "submitted"
    assert factories.outbox() == []
    assert fi.events_of(own_file) == []


def test_inadmissible_service_requires_a_reason(app, staff, own_file):
    with pytest.raises(services.InstructionError, match="motif"):
        services.mark_inadmissible(own_file, staff, "")
    assert own_file.status == "submitted"


def test_inadmissible_allowed_from_incomplete_not_from_admissible(client, login_as, staff, call):
    incomplete = factories.submitted_file(call, fi.association("À compléter"), status="incomplete")
    admissible = factories.submitted_file(call, fi.association("Déjà recevable"), status="admissible")
    login_as(staff)
    client.post_form(f"/instruction/dossiers/{incomplete.id}/irrecevable",
                     {"inadmissible_reason": "Pièces non fournies dans le délai.", "inadmissible_confirmed": "1"})
    client.post_form(f"/instruction/dossiers/{admissible.id}/irrecevable",
                     {"inadmissible_reason": "Changement d'avis.", "inadmissible_confirmed": "1"})
    db.session.refresh(incomplete)
    db.session.refresh(admissible)
    assert incomplete.status == "inadmissible"
    assert admissible.status == "admissible"
    assert "seul un dossier déposé ou à compléter" in unescape(client.get("/accessibilite").get_data(as_text=True))


def test_admissible_refused_on_a_draft(app, staff, call):
    draft = factories.application(call, fi.association("Brouillon"), status="draft")
    with pytest.raises(services.InstructionError):
        services.mark_admissible(draft, staff)
    assert db.session.get(Application, draft.id).status == "draft"


def test_staff_actions_refused_to_others(client, login_as, own_file, applicant, reviewer, other_applicant):
    fi.assign(reviewer, own_file)
    urls = [f"/instruction/dossiers/{own_file.id}/recevable",
            f"/instruction/dossiers/{own_file.id}/irrecevable",
            f"/instruction/dossiers/{own_file.id}/demande-pieces"]
    for url in urls:
        response = client.post_form(url, {"inadmissible_reason": "x"})
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    for user in (applicant, reviewer, other_applicant):
        login_as(user)
        for url in urls:
            assert client.post_form(url, {"inadmissible_reason": "x"}).status_code == 403, (user.email, url)
        assert client.get(urls[2]).status_code == 403
        client.post_form("/deconnexion")
    db.session.refresh(own_file)
    assert own_file.status == "submitted"
    assert factories.outbox() == []


def test_staff_action_on_unknown_file_is_404(client, login_as, staff):
    login_as(staff)
    assert client.post_form("/instruction/dossiers/999/recevable").status_code == 404


# --- the staff panel on the file page ---------------------------------------------------------

def test_panel_is_rendered_for_staff_only(app, staff, own_file, applicant, reviewer):
    fi.assign(reviewer, own_file)
    html = fi.render_partial(app, staff, "instruction/_panel.html", own_file)
    assert "Déclarer recevable" in html and "Déclarer irrecevable" in html
    assert 'name="inadmissible_reason"' in html and "Envoyer la demande de pièces" in html
    assert f"/instruction/dossiers/{own_file.id}/recevable" in html
    assert f"/instruction/appels/{own_file.call_id}/dossiers" in html
    for document in own_file.call.pieces:
        assert f'value="doc:{document.id}"' in html
    for user in (applicant, reviewer, None):
        assert fi.render_partial(app, user, "instruction/_panel.html", own_file).strip() == ""


def test_panel_without_actions_once_decided(app, staff, call):
    decided = factories.submitted_file(call, fi.association("Décidé"), status="admissible")
    html = fi.render_partial(app, staff, "instruction/_panel.html", decided)
    assert "Recevable" in html
    assert "Déclarer recevable" not in html and "Envoyer la demande de pièces" not in html


def test_file_page_includes_the_panel_and_the_thread(client, login_as, staff, own_file, applicant, reviewer, app):
    """Through the file page of aap/applications (applications.show), which includes our partials."""
    fi.assign(reviewer, own_file)
    with app.test_request_context():
        services.post_message(own_file, staff, "Message visible sur la page du dossier.")
    login_as(staff)
    html = unescape(client.get(f"/candidatures/{own_file.id}").get_data(as_text=True))
    assert 'id="instruction"' in html and "Déclarer recevable" in html
    assert 'id="messages"' in html and "Message visible sur la page du dossier." in html
    client.post_form("/deconnexion")
    login_as(applicant)
    html = unescape(client.get(f"/candidatures/{own_file.id}").get_data(as_text=True))
    assert 'id="messages"' in html and "Message visible sur la page du dossier." in html
    assert 'id="instruction"' not in html and "Déclarer recevable" not in html
    client.post_form("/deconnexion")
    login_as(reviewer)
    response = client.get(f"/candidatures/{own_file.id}")
    assert "Message visible sur la page du dossier." not in response.get_data(as_text=True)
