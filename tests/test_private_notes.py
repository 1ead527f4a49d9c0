"""Private notes (issue 19 §2) and an association's whole history, calls side by side (§4): what
each role READS. A staff note is read by staff only (never on the association's pages, prints,
history or mails, never by a reviewer); a reviewer's note by its author only; an edit keeps the
former text; every note and edit is in the staff journal, not in the association's history."""
import re
from datetime import timedelta

import pytest

from aap import timeutil
from aap.applications.history import association_history
from aap.extensions import db
from aap.models import Event, OutboxMessage, PrivateNote

from . import factories
from . import factories_documents as fd
from . import factories_instruction as fi
from .conftest import count_queries, login

STAFF_TEXT = "Vigilance-staff-7Q : le trésorier a démissionné"
REVIEWER_TEXT = "Mon-avis-perso-3K : budget à relire"
OTHER_REVIEWER_TEXT = "Avis-de-l-autre-9Z : rien à signaler"


@pytest.fixture
def file_in_review(call, applicant):
    return factories.submitted_file(call, applicant.association, status="in_review")


def _add_file_note(client, application, text=STAFF_TEXT):
    return client.post_form(f"/instruction/dossiers/{application.id}/notes", {"note_body": text})


def _text(response):
    return response.get_data(as_text=True)


def test_staff_note_on_a_file_is_shown_to_staff_with_its_author_and_date(login_as, staff, own_file):
    client = login_as(staff)
    response = _add_file_note(client, own_file)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/candidatures/{own_file.id}#notes")
    page = _text(client.get(f"/candidatures/{own_file.id}"))
    notes = page[page.index('id="notes"'):]
    assert STAFF_TEXT in notes and staff.full_name in notes
    note = db.session.scalar(db.select(PrivateNote))
    assert timeutil.format_datetime(note.created_at) in notes
    # In the staff journal (who, when), without the text.
    event = db.session.scalar(db.select(Event).where(Event.action == "private_note_added"))
    assert event.actor_id == staff.id and event.application_id == own_file.id
    assert STAFF_TEXT not in str(event.details) and STAFF_TEXT not in event.reason


def test_the_association_never_reads_a_staff_note(app, client, staff, applicant, own_file):
    login(client, staff)
    _add_file_note(client, own_file)
    client.post_form(f"/instruction/associations/{own_file.association_id}/notes",
                     {"note_body": STAFF_TEXT + " (association)"})
    client.post_form(f"/dossiers/{own_file.id}/messages", {"message_body": "Bonjour, tout est en ordre."})
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})
    assert db.session.scalar(db.select(db.func.count()).select_from(PrivateNote)) == 2
    login(client, applicant)
    for url in (f"/candidatures/{own_file.id}", f"/candidatures/{own_file.id}/imprimer", "/tableau-de-bord",
                "/association"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Vigilance-staff-7Q" not in _text(response), url
        assert "Notes privées" not in _text(response), url
    assert client.get(f"/instruction/associations/{own_file.association_id}").status_code == 403
    note = db.session.scalar(db.select(PrivateNote).where(PrivateNote.application_id.is_not(None)))
    assert client.get(f"/notes/{note.id}/modifier").status_code == 404
    # The association's history of the file: no trace of the notes; the mails: no text of them.
    assert fi.events_of(own_file, "private_note_added")
    labels = [row.label for row in association_history(own_file)]
    assert labels and not any("privée" in label for label in labels)
    assert all("Vigilance-staff-7Q" not in (m.body + m.subject) for m in db.session.scalars(db.select(OutboxMessage)))


def test_a_reviewer_reads_only_their_own_notes(client, staff, reviewer, file_in_review):
    other = factories.user("reviewer", email="autre-evaluateur@example.org", region_code="11")
    fi.assign(reviewer, file_in_review)
    fi.assign(other, file_in_review)
    login(client, staff)
    _add_file_note(client, file_in_review)
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})
    login(client, other)
    assert client.post_form(f"/evaluation/dossiers/{file_in_review.id}/notes",
                            {"note_body": OTHER_REVIEWER_TEXT}).status_code == 302
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})
    login(client, reviewer)
    response = client.post_form(f"/evaluation/dossiers/{file_in_review.id}/notes", {"note_body": REVIEWER_TEXT})
    assert response.headers["Location"].endswith(f"/evaluation/dossiers/{file_in_review.id}#notes")
    page = _text(client.get(f"/evaluation/dossiers/{file_in_review.id}"))
    assert REVIEWER_TEXT in page
    assert "Vigilance-staff-7Q" not in page and "Avis-de-l-autre-9Z" not in page
    staff_note, other_note = (db.session.scalar(db.select(PrivateNote).where(PrivateNote.body == text))
                              for text in (STAFF_TEXT, OTHER_REVIEWER_TEXT))
    assert client.get(f"/notes/{staff_note.id}/modifier").status_code == 404
    assert client.get(f"/notes/{other_note.id}/modifier").status_code == 404
    # A reviewer cannot write a staff note (403: the role), nor a note on a file not theirs (404).
    assert client.post_form(f"/instruction/dossiers/{file_in_review.id}/notes", {"note_body": "x"}).status_code == 403
    unassigned = factories.submitted_file(file_in_review.call, "Autre association", status="in_review")
    assert client.post_form(f"/evaluation/dossiers/{unassigned.id}/notes", {"note_body": "x"}).status_code == 404
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})
    # Staff do not read the reviewers' own notes.
    login(client, staff)
    page = _text(client.get(f"/candidatures/{file_in_review.id}"))
    assert "Vigilance-staff-7Q" in page and "Mon-avis-perso-3K" not in page and "Avis-de-l-autre-9Z" not in page


def test_an_edit_keeps_the_former_text_with_its_date(login_as, staff, own_file):
    colleague = factories.user("staff", email="collegue@example.org")
    client = login_as(staff)
    _add_file_note(client, own_file, "Premier texte de la note.")
    note = db.session.scalar(db.select(PrivateNote))
    first_written = note.updated_at
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})
    login(client, colleague)
    assert "Premier texte de la note." in _text(client.get(f"/notes/{note.id}/modifier"))
    response = client.post_form(f"/notes/{note.id}/modifier", {"note_body": "Texte corrigé de la note."})
    assert response.status_code == 302
    db.session.expire_all()
    assert note.body == "Texte corrigé de la note." and note.updated_by_id == colleague.id
    [version] = note.versions
    assert (version.body, version.written_by_id, version.written_at) == ("Premier texte de la note.", staff.id,
                                                                          first_written)
    page = _text(client.get(f"/candidatures/{own_file.id}"))
    notes = page[page.index('id="notes"'):]
    assert "Texte corrigé de la note." in notes and "Premier texte de la note." in notes
    assert "1 version précédente" in notes and colleague.full_name in notes
    assert [e.actor_id for e in fi.events_of(own_file, "private_note_edited")] == [colleague.id]
    assert not any("privée" in row.label for row in association_history(own_file))
    # An empty text is refused, the note unchanged.
    assert client.post_form(f"/notes/{note.id}/modifier", {"note_body": "  "}).status_code == 400
    db.session.expire_all()
    assert note.body == "Texte corrigé de la note." and len(note.versions) == 1


def test_notes_on_the_association_are_on_its_staff_page(login_as, staff, own_file):
    client = login_as(staff)
    url = f"/instruction/associations/{own_file.association_id}"
    response = client.post_form(url + "/notes", {"note_body": "Interlocutrice : la trésorière."})
    assert response.headers["Location"].endswith(url + "#notes")
    page = _text(client.get(url))
    assert "Interlocutrice : la trésorière." in page[page.index('id="notes"'):]
    # A note on the association is not a note on one of its files.
    assert "Interlocutrice" not in _text(client.get(f"/candidatures/{own_file.id}"))


# --- an association's whole history (§4) ---------------------------------------------------------

def _calls():
    now = timeutil.now()
    old = factories.call(slug="aap-2024", title="Appel 2024", status="closed", year=2024,
                         opens_at=now - timedelta(days=700), closes_at=now - timedelta(days=650))
    recent = factories.call(slug="aap-2025", title="Appel 2025", status="closed", year=2025,
                            opens_at=now - timedelta(days=300), closes_at=now - timedelta(days=250))
    return old, recent


def test_the_staff_page_lists_every_file_across_calls_and_flags_a_returning_winner(login_as, staff):
    old, recent = _calls()
    association = fd.association("Réussir Ensemble")
    first = fd.winner(old, association, amount_cents=40_000_00)
    second = fd.winner(recent, association, amount_cents=55_000_00, requested_cents=60_000_00,
                       requested_per_year=[60_000_00])
    client = login_as(staff)
    _add_file_note(client, first, "Note sur le dossier 2024.")
    page = _text(client.get(f"/instruction/associations/{association.id}"))
    table = page[page.index('id="dossiers"'):page.index('id="notes"')]
    assert "Déjà lauréate" in table and "Retenue 2 fois" in table
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert [first.reference in r for r in rows] == [False, True]  # the latest call first
    assert "Appel 2025" in rows[0] and "60\u202f000\xa0€" in rows[0] and "55\u202f000\xa0€" in rows[0]
    assert "Lauréate d'un appel précédent" in rows[0] and "Lauréate d'un appel précédent" not in rows[1]
    assert "1 note" in rows[1] and "Retenu" in rows[1]
    assert second.reference in rows[0]


def test_the_association_staff_page_runs_a_bounded_number_of_queries(login_as, staff):
    calls = [factories.call(slug=f"aap-{2020 + i}", status="closed", year=2020 + i,
                            opens_at=timeutil.now() - timedelta(days=900 - 100 * i),
                            closes_at=timeutil.now() - timedelta(days=880 - 100 * i)) for i in range(5)]
    association = fd.association("Réussir Ensemble")
    fd.winner(calls[0], association)
    client = login_as(staff)
    url = f"/instruction/associations/{association.id}"
    client.get(url)
    with count_queries() as one:
        assert client.get(url).status_code == 200
    for call in calls[1:]:
        _add_file_note(client, fd.winner(call, association))
    client.get(url)
    with count_queries() as five:
        assert client.get(url).status_code == 200
    assert five() == one()


def test_calls_side_by_side(login_as, staff):
    old, recent = _calls()
    fd.winner(old, fd.association("A", departement="69", region="84"), amount_cents=40_000_00, young_count=100,
              departements=["69", "75"])
    fd.winner(recent, fd.association("B", departement="35", region="53"), amount_cents=50_000_00, young_count=200,
              departements=["35"])
    fd.winner(recent, fd.association("C", departement="13", region="93"), amount_cents=30_000_00, young_count=50,
              departements=["13"])
    fd.winner(recent, fd.association("D"), outcome="rejected", amount_cents=None)
    client = login_as(staff)
    client.get("/instruction/appels/comparaison")
    with count_queries() as two_calls:
        page = _text(client.get("/instruction/appels/comparaison"))
    table = page[page.index('id="comparaison"'):]
    header = re.search(r"<thead>(.*?)</thead>", table, re.S).group(1)
    assert header.index("Appel 2024") < header.index("Appel 2025")

    def row(label):
        cells = re.search(r">" + re.escape(label) + r"</th>(.*?)</tr>", table, re.S).group(1)
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]

    assert row("Dossiers déposés") == ["1", "3"]
    assert row("Lauréats") == ["1 (100 %)", "2 (67 %)"]
    assert row("Montant accordé") == ["40\u202f000\xa0€", "80\u202f000\xa0€"]
    assert row("Régions couvertes par siège") == ["1 / 18", "2 / 18"]
    assert row("Régions couvertes par territoires d'action") == ["2 / 18", "2 / 18"]
    assert row("Jeunes accompagnés annoncés (par an)") == ["100", "250"]
    factories.call(slug="aap-2026", status="published")
    client.get("/instruction/appels/comparaison")
    with count_queries() as three_calls:
        client.get("/instruction/appels/comparaison")
    assert three_calls() == two_calls()
