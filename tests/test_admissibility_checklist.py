"""Admissibility (issue 15, point 6): a checklist of the call's conditions, computed; staff
confirm it, or override a failing condition with an internal reason; inadmissibility needs a
confirmation and a reason the association reads."""
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest

from aap.applications import history
from aap.extensions import db
from aap.instruction import admissibility, services
from aap.instruction.admissibility import checklist

from . import factories
from . import factories_instruction as fi

DEADLINE = datetime(2027, 1, 31, 22, 59, 59, tzinfo=timezone.utc)
DOCUMENTS = [(1, "Statuts signés", True), (2, "Derniers comptes", True), (3, "Autre pièce utile", False)]
IDENTITY = {"siret": "73282932000074", "rna": "W691234567", "address": "12 rue de la République",
            "postal_code": "69001", "commune": "Lyon", "representative_name": "Claire Martin",
            "representative_function": "Présidente", "legal_form": "association_1901"}


def conditions(**changes):
    values = dict(documents=DOCUMENTS, present_document_ids={1, 2}, identity=IDENTITY,
                  requested_cents=50_000_00, min_cents=20_000_00, max_cents=200_000_00,
                  submitted_at=DEADLINE - timedelta(days=3), closes_at=DEADLINE)
    values.update(changes)
    return {c.code: c for c in checklist(**values)}


# --- the pure function ------------------------------------------------------------------------

def test_a_complete_file_meets_every_condition():
    result = conditions()
    assert list(result) == ["pieces", "identity", "legal_form", "amount", "on_time"]
    assert all(c.ok for c in result.values())
    assert result["pieces"].detail == "Les 2 pièces obligatoires sont jointes"
    assert "73282932000074" in result["identity"].detail and "Claire Martin" in result["identity"].detail
    assert result["legal_form"].detail == "Association loi 1901"
    assert result["amount"].detail == "50\u202f000\u00a0€ demandés (de 20\u202f000\u00a0€ à 200\u202f000\u00a0€)"
    assert "31 janvier 2027" in result["on_time"].detail


def test_missing_mandatory_pieces_are_named_the_optional_one_is_not_needed():
    result = conditions(present_document_ids={3})
    assert not result["pieces"].ok
    assert result["pieces"].detail == "Manquantes : Statuts signés ; Derniers comptes"
    assert conditions(present_document_ids={1})["pieces"].detail == "Manquante : Derniers comptes"
    assert conditions(documents=[(3, "Autre", False)], present_document_ids=set())["pieces"].ok


@pytest.mark.parametrize("changes, expected", [
    ({"siret": ""}, "SIRET absent"),
    ({"siret": "73282932000075"}, "SIRET invalide"),
    ({"rna": None}, "RNA absent"),
    ({"rna": "123"}, "RNA invalide"),
    ({"commune": ""}, "adresse du siège incomplète"),
    ({"representative_function": ""}, "représentant légal (nom et fonction) non renseigné"),
])
def test_incomplete_identity(changes, expected):
    result = conditions(identity={**IDENTITY, **changes})["identity"]
    assert not result.ok and expected.lower() in result.detail.lower()


def test_legal_forms():
    for form in ("association_1901", "association_1908", "association_rup", "fondation"):
        assert conditions(identity={**IDENTITY, "legal_form": form})["legal_form"].ok
    other = conditions(identity={**IDENTITY, "legal_form": "autre"})["legal_form"]
    assert not other.ok and other.detail.startswith("Autre structure d'intérêt général : hors des structures")
    assert not conditions(identity={**IDENTITY, "legal_form": ""})["legal_form"].ok


def test_amount_within_the_calls_bounds():
    assert conditions(requested_cents=20_000_00)["amount"].ok and conditions(requested_cents=200_000_00)["amount"].ok
    low = conditions(requested_cents=19_999_99)["amount"]
    assert not low.ok and low.detail == ("19\u202f999,99\u00a0€ demandés, hors des limites de l'appel "
                                         "(de 20\u202f000\u00a0€ à 200\u202f000\u00a0€)")
    assert not conditions(requested_cents=200_000_01)["amount"].ok
    assert not conditions(requested_cents=None)["amount"].ok
    unbounded = conditions(requested_cents=5_000_000_00, min_cents=0, max_cents=None)["amount"]
    assert unbounded.ok and unbounded.detail == "5\u202f000\u202f000\u00a0€ demandés"
    assert conditions(requested_cents=1_00, min_cents=None, max_cents=10_00)["amount"].detail.endswith(
        "(au plus 10\u00a0€)")


def test_deposited_on_time():
    assert conditions(submitted_at=DEADLINE)["on_time"].ok
    late = conditions(submitted_at=DEADLINE + timedelta(seconds=1))["on_time"]
    assert not late.ok and "après la date limite" in late.detail
    assert not conditions(submitted_at=None)["on_time"].ok


# --- the file page and the service ----------------------------------------------------------------

@pytest.fixture
def call(app):
    return factories.call(slug="aap-recevabilite")


@pytest.fixture
def bare_file(call, applicant):
    """A deposited file without any piece, of an association whose legal form is « autre »."""
    applicant.association.legal_form = "autre"
    db.session.commit()
    return factories.submitted_file(call, applicant.association)


def page_of(client, application):
    return unescape(client.get(f"/candidatures/{application.id}").get_data(as_text=True))


def test_the_staff_panel_shows_each_condition(client, login_as, staff, bare_file, call):
    login_as(staff)
    html = page_of(client, bare_file)
    for label in admissibility.LABELS.values():
        assert label in html
    assert html.count("Non remplie") == 2 and html.count(">Remplie<") == 3
    missing = " ; ".join(d.label for d in call.pieces if d.mandatory)
    assert f"Manquantes : {missing}" in html
    assert "Autre structure d'intérêt général : hors des structures éligibles" in html
    assert "Motif pour passer outre : Pièces obligatoires jointes" in html
    assert "Motif pour passer outre : Forme juridique éligible" in html
    assert "Motif pour passer outre : Identité" not in html
    assert "Déclarer recevable malgré tout" in html
    # The inadmissibility reason is offered from the conditions not met.
    assert "Conditions de recevabilité non remplies :\n- Pièces obligatoires jointes : non remplie (manquantes" in html


def test_a_file_meeting_every_condition_is_declared_in_one_confirmation(client, login_as, staff, bare_file):
    bare_file.association.legal_form = "association_1901"
    fi.attach_pieces(bare_file)
    login_as(staff)
    html = page_of(client, bare_file)
    assert "Non remplie" not in html and "Toutes les conditions sont remplies" in html
    assert "Motif pour passer outre" not in html
    response = client.post_form(f"/instruction/dossiers/{bare_file.id}/recevable")
    assert response.status_code == 302
    db.session.refresh(bare_file)
    assert bare_file.status == "admissible"
    [event] = fi.events_of(bare_file, "admissibility")
    assert event.reason == "" and set(event.details["checklist"].values()) == {"ok"}


def test_a_failing_condition_needs_a_reason(client, login_as, staff, bare_file):
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{bare_file.id}/recevable",
                                {"override_pieces": "Pièces reçues par courrier le 3 février."})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Indiquez pourquoi vous passez outre à cette condition." in html
    assert "Forme juridique éligible" in html and "Pièces reçues par courrier le 3 février." in html
    db.session.refresh(bare_file)
    assert bare_file.status == "submitted" and fi.events_of(bare_file) == [] and factories.outbox() == []
    with pytest.raises(services.InstructionError, match="Forme juridique éligible"):
        services.mark_admissible(bare_file, staff, {"pieces": "Reçues par courrier."})
    assert db.session.get(type(bare_file), bare_file.id).status == "submitted"


def test_an_override_is_recorded_for_staff_and_never_shown_to_the_association(
        client, login_as, staff, applicant, bare_file):
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{bare_file.id}/recevable", {
        "override_pieces": "Pièces reçues par courrier le 3 février.",
        "override_legal_form": "Fondation abritée, reconnue d'intérêt général : vérifié au JO.",
        "override_amount": "ignoré : la condition est remplie"})
    assert response.status_code == 302
    db.session.refresh(bare_file)
    assert bare_file.status == "admissible"
    [event] = fi.events_of(bare_file, "admissibility")
    assert event.details["checklist"] == {"pieces": "override", "identity": "ok", "legal_form": "override",
                                          "amount": "ok", "on_time": "ok"}
    assert "Pièces obligatoires jointes" in event.reason and "Pièces reçues par courrier le 3 février." in event.reason
    assert "vérifié au JO" in event.reason and "ignoré" not in event.reason
    flashed = page_of(client, bare_file)
    assert "2 conditions passées outre" in flashed
    assert "Pièces reçues par courrier le 3 février." in flashed  # the staff journal of the file page
    # The association: its history says « recevable », without the internal reason; nor does its mail.
    rows = history.association_history(bare_file)
    assert [r.label for r in rows if "recevable" in r.label] == ["Dossier déclaré recevable"]
    assert all("courrier" not in r.text and "JO" not in r.text for r in rows)
    mail = factories.last_mail_to(applicant.email)
    assert "courrier" not in mail.body and "passée outre" not in mail.body
    client.post_form("/deconnexion")
    login_as(applicant)
    html = page_of(client, bare_file)
    assert "Dossier déclaré recevable" in html
    assert "courrier le 3 février" not in html and "vérifié au JO" not in html and "passée outre" not in html


def test_inadmissible_asks_for_a_confirmation_then_the_association_reads_the_reason(
        client, login_as, staff, applicant, bare_file):
    reason = "Dossier incomplet : les statuts et les comptes n'ont pas été fournis."
    login_as(staff)
    url = f"/instruction/dossiers/{bare_file.id}/irrecevable"
    first = client.post_form(url, {"inadmissible_reason": reason})
    html = unescape(first.get_data(as_text=True))
    assert first.status_code == 200
    assert "Confirmez l'irrecevabilité" in html and "Confirmer : déclarer irrecevable" in html
    assert "Un e-mail partira vers 1 membre de l'association" in html
    assert reason in html and 'name="inadmissible_confirmed" value="1"' in html
    db.session.refresh(bare_file)
    assert bare_file.status == "submitted" and factories.outbox() == [] and fi.events_of(bare_file) == []
    # No reason: the form again, never the confirmation.
    empty = unescape(client.post_form(url, {"inadmissible_reason": " ", "inadmissible_confirmed": "1"})
                     .get_data(as_text=True))
    assert "Indiquez le motif d'irrecevabilité" in empty and "Confirmez l'irrecevabilité" not in empty
    db.session.refresh(bare_file)
    assert bare_file.status == "submitted"
    # Confirmed.
    assert client.post_form(url, {"inadmissible_reason": reason, "inadmissible_confirmed": "1"}).status_code == 302
    db.session.refresh(bare_file)
    assert bare_file.status == "inadmissible"
    assert reason in factories.last_mail_to(applicant.email).body
    client.post_form("/deconnexion")
    login_as(applicant)
    html = page_of(client, bare_file)
    assert "Dossier déclaré irrecevable" in html and reason in html
