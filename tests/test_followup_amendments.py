"""Amendments (« avenants ») to a convention in force (aap/followup/amendments.py, amendment_views.py,
the PDF of aap/documents/amendment.py): what an amendment holds, what is refused, its PDF's text,
who reads, downloads and establishes one, and its coming into force (the decision's new version,
the payment lines replanned, the reports opened)."""
import html
import io
from datetime import date

import pytest
from pypdf import PdfReader

from aap.documents.amendment import payment_rows
from aap.extensions import db
from aap.followup import amendments, payments
from aap.models import Event
from aap.models.followup import Amendment, ConventionState, PaymentLine, PaymentState, Report

from . import factories
from . import factories_documents as fd
from . import factories_followup as ff

MORE_IN_2026 = [30_000_00, 40_000_00, 30_000_00]


@pytest.fixture
def cpo(app, applicant):
    """A 2025-2027 CPO of the applicant's association in force, 30 000 € a year, its payment lines
    planned (advance 50 % and balance each year)."""
    call = factories.call(slug="aap-avenants", year=2025, years=3, advance_percent=50)
    application = fd.winner(call, applicant.association, amount_cents=90_000_00,
                            per_year=[30_000_00, 30_000_00, 30_000_00])
    convention = ff.convention(application, ConventionState.IN_FORCE)
    payments.plan_payments(convention, None)
    db.session.commit()
    return convention


def _lines(convention, year=None):
    return [line for line in convention.payments if year is None or line.year == year]


def _set(convention, year, kind, state):
    for line in _lines(convention, year):
        if line.kind == kind and line.state != PaymentState.CANCELLED:
            line.state = state
    db.session.commit()


def _pdf_text(data):
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)


def _in_force(amendment):
    amendment.state = ConventionState.IN_FORCE
    db.session.flush()


# --- What an amendment holds -------------------------------------------------------------------

def test_an_amendment_holds_only_what_changes_and_what_it_was_and_tells_the_members(cpo, staff, applicant):
    from aap.models import OutboxMessage
    amendment = amendments.create_amendment(cpo, staff, reason="Extension du projet à deux départements",
                                            amount_per_year=[30_000_00, 40_000_00, 30_000_00])
    db.session.commit()
    assert (amendment.number, amendment.state) == (1, ConventionState.ISSUED)
    assert amendment.changes == {"amount_cents": 100_000_00, "amount_per_year": [30_000_00, 40_000_00, 30_000_00]}
    assert amendment.previous == {"amount_cents": 90_000_00, "amount_per_year": [30_000_00, 30_000_00, 30_000_00]}
    assert len(amendment.data_fingerprint) == 64
    assert amendments.change_rows(amendment) == [
        ("Montant total", "90\u202f000,00\u00a0€", "100\u202f000,00\u00a0€"),
        ("Montant 2026", "30\u202f000,00\u00a0€", "40\u202f000,00\u00a0€")]
    mail = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to == applicant.email)).all()[-1]
    assert "Avenant n° 1" in mail.subject
    assert f"/suivi/dossiers/{cpo.application_id}#avenants" in mail.body
    assert "Extension du projet à deux départements" in mail.body
    assert "Montant 2026 : 30" in mail.body
    event = db.session.scalars(db.select(Event).where(Event.action == "amendment_created")).one()
    assert event.details["number"] == 1 and event.application_id == cpo.application_id


def test_duration_and_schedule_changes(cpo, staff):
    _set(cpo, 2025, "advance", PaymentState.PAID)
    amendment = amendments.create_amendment(
        cpo, staff, reason="Projet ramené à deux ans", years=[2025, 2026],
        amount_per_year=[30_000_00, 30_000_00],
        schedule=[{"year": 2026, "advance_percent": 80, "balance_on": date(2026, 10, 15)}])
    assert amendment.changes["years"] == [2025, 2026] and amendment.previous["years"] == [2025, 2026, 2027]
    assert amendment.changes["amount_cents"] == 60_000_00
    assert amendment.changes["schedule"] == [{"year": 2026, "advance_percent": 80,
                                               "advance_on": "2026-01-01", "balance_on": "2026-10-15"}]
    assert amendment.previous["schedule"][0]["advance_percent"] == 50
    labels = [row[0] for row in amendments.change_rows(amendment)]
    assert labels == ["Montant total", "Durée (années)", "Montant 2027", "Avance 2026", "Date du solde 2026"]


# --- What is refused ------------------------------------------------------------------------------

def check_refused(convention, staff, message, **arguments):
    arguments.setdefault("reason", "Motif")
    with pytest.raises(amendments.AmendmentError) as error:
        amendments.create_amendment(convention, staff, **arguments)
    db.session.rollback()
    assert message in error.value.message
    assert db.session.query(Amendment).count() == 0 or message.startswith("L'avenant n°")


@pytest.mark.parametrize("state", [ConventionState.ISSUED, ConventionState.ASSOCIATION_SIGNED,
                                   ConventionState.COUNTERSIGNED, ConventionState.TERMINATED])
def test_only_a_convention_in_force_is_amended(app, staff, state):
    call = factories.call(slug=f"aap-etat-{state.value}", year=2025)
    _, convention = ff.winner_convention(call, state)
    check_refused(convention, staff, "n'est pas en vigueur", amount_per_year=[40_000_00])


def test_refusals(cpo, staff):
    check_refused(cpo, staff, "Indiquez le motif", reason="  ", amount_per_year=[1, 2, 3])
    check_refused(cpo, staff, "ne change rien", amount_per_year=[30_000_00, 30_000_00, 30_000_00])
    check_refused(cpo, staff, "montant maximum par dossier", amount_per_year=[60_000_00, 60_000_00, 60_000_00])
    check_refused(cpo, staff, "n'en fait pas partie", years=[2025, 2026, 2027, 2028],
             amount_per_year=[1_00, 1_00, 1_00, 1_00])
    check_refused(cpo, staff, "doivent se suivre", years=[2025, 2027], amount_per_year=[1_00, 1_00])
    _set(cpo, 2026, "advance", PaymentState.REQUESTED)  # 15 000 € put to payment for 2026
    check_refused(cpo, staff, "ne peut pas être inférieur à ce qui est déjà mis en paiement",
             amount_per_year=[30_000_00, 10_000_00, 30_000_00])
    check_refused(cpo, staff, "ne peut pas être retirée", years=[2025], amount_per_year=[30_000_00])
    check_refused(cpo, staff, "pourcentage de son avance ne peut plus changer",
             schedule=[{"year": 2026, "advance_percent": 70}])
    _set(cpo, 2025, "advance", PaymentState.PAID)
    _set(cpo, 2025, "balance", PaymentState.PAID)  # 2025 is past (the clock says 2026) and paid
    check_refused(cpo, staff, "L'année 2025 est passée et son solde est payé",
             amount_per_year=[35_000_00, 30_000_00, 30_000_00])
    check_refused(cpo, staff, "au cours de l'année 2027", schedule=[{"year": 2027, "balance_on": date(2028, 1, 5)}])


def test_one_amendment_at_a_time(cpo, staff):
    first = amendments.create_amendment(cpo, staff, reason="Premier", amount_per_year=[30_000_00, 30_000_00, 35_000_00])
    db.session.commit()
    check_refused(cpo, staff, "L'avenant n° 1 n'est pas encore en vigueur",
             amount_per_year=[30_000_00, 30_000_00, 40_000_00])
    _in_force(first)
    amendments.apply_amendment(first, staff)
    second = amendments.create_amendment(cpo, staff, reason="Second", amount_per_year=[30_000_00, 30_000_00, 40_000_00])
    assert second.number == 2 and second.previous["amount_cents"] == 95_000_00


# --- The PDF ------------------------------------------------------------------------------------------

def test_the_pdf_says_what_changes_in_figures_and_in_words(cpo, staff):
    amendment = amendments.create_amendment(cpo, staff, reason="Extension du projet",
                                            amount_per_year=[30_000_00, 40_000_00, 30_000_00])
    text = _pdf_text(amendments.amendment_pdf(amendment))
    assert f"Avenant n° 1 à la convention n° {cpo.number}" in text
    assert "Réussir Ensemble" in text and "L'État" in text  # the parties, as in the convention
    assert f"Vu la convention pluriannuelle d'objectifs n° {cpo.number}" in text
    assert "Vu la loi n° 2000-321 du 12 avril 2000" in text  # the convention's legal texts
    assert "L'article 4 de la convention est ainsi modifié" in text
    assert "90 000,00 € (quatre-vingt-dix mille euros)" in text
    assert "100 000,00 € (cent mille euros)" in text
    assert "quarante mille euros" in text  # 2026's new amount in words
    assert "Le tableau des versements de l'article 5" in text
    assert "Les autres stipulations de la convention demeurent inchangées." in text
    assert "prend effet à la date de sa notification" in text
    assert "Pour l'association" in text and "Pour l'État" in text


def test_the_pdf_of_a_shorter_convention_rewrites_its_duration(cpo, staff):
    amendment = amendments.create_amendment(cpo, staff, reason="Deux ans", years=[2025, 2026],
                                            amount_per_year=[30_000_00, 30_000_00])
    text = _pdf_text(amendments.amendment_pdf(amendment))
    assert "L'article 2 de la convention est ainsi modifié" in text
    assert "les années 2025 et 2026, du 1er janvier 2025 au 31 décembre 2026" in text
    assert "au lieu de les années 2025, 2026 et 2027" in text


def test_the_payments_table_follows_the_call_and_the_amendment():
    rows = payment_rows([2025, 2026], [30_000_00, 10_000_00], {"2025": 50, "2026": 100},
                        {"2026": {"balance_on": "2026-10-15"}})
    assert [(r["year"], r["label"], r["when"], r["amount"]) for r in rows] == [
        (2025, "Avance", "à la signature de la convention", "15\u202f000,00\u00a0€"),
        (2025, "Solde", "au plus tard le 30 novembre 2025", "15\u202f000,00\u00a0€"),
        (2026, "Versement unique", "au plus tard le 31 mars 2026", "10\u202f000,00\u00a0€")]


# --- Coming into force --------------------------------------------------------------------------------

def test_apply_amendment_makes_a_new_version_of_the_decision_and_replans(cpo, staff):
    _set(cpo, 2025, "advance", PaymentState.PAID)
    amendment = amendments.create_amendment(cpo, staff, reason="Extension",
                                            amount_per_year=[30_000_00, 40_000_00, 30_000_00])
    db.session.commit()
    _in_force(amendment)
    amendments.apply_amendment(amendment, staff)
    db.session.commit()
    decision = cpo.application.decision
    assert (decision.amount_cents, decision.amount_per_year) == (100_000_00, [30_000_00, 40_000_00, 30_000_00])
    assert decision.version == 2 and decision.versions[0].amount_cents == 90_000_00
    assert "Avenant n° 1" in decision.reason
    live = [line for line in db.session.scalars(db.select(PaymentLine).where(PaymentLine.convention_id == cpo.id))
            if line.state != PaymentState.CANCELLED]
    assert sum(line.amount_cents for line in live) == 100_000_00
    assert {line.year for line in live if line.generation == 1} == {2025, 2026, 2027}
    assert sum(line.amount_cents for line in live if line.year == 2026) == 40_000_00
    assert db.session.query(Report).filter_by(convention_id=cpo.id).count() == 3
    assert db.session.scalars(db.select(Event).where(Event.action == "amendment_applied")).one()


def test_apply_amendment_of_the_schedule_splits_and_dates_the_new_lines(cpo, staff):
    amendment = amendments.create_amendment(
        cpo, staff, reason="Avance portée à 80 % en 2027",
        schedule=[{"year": 2027, "advance_percent": 80, "balance_on": date(2027, 9, 30)}])
    _in_force(amendment)
    amendments.apply_amendment(amendment, staff)
    lines = {line.kind: line for line in db.session.scalars(db.select(PaymentLine).where(
        PaymentLine.convention_id == cpo.id, PaymentLine.year == 2027, PaymentLine.generation == 1))}
    assert (lines["advance"].amount_cents, lines["balance"].amount_cents) == (24_000_00, 6_000_00)
    assert lines["balance"].planned_on == date(2027, 9, 30)
    assert cpo.application.decision.version == 1  # (the amounts did not change)


# --- Pages: who reads, downloads, establishes ------------------------------------------------------

def test_members_read_the_section_and_download_the_pdf_others_get_404(cpo, staff, applicant, other_applicant,
                                                                         reviewer, client, login_as):
    amendments.create_amendment(cpo, staff, reason="Extension du projet", amount_per_year=MORE_IN_2026)
    db.session.commit()
    page, pdf = f"/suivi/dossiers/{cpo.application_id}", f"/suivi/dossiers/{cpo.application_id}/avenants/1.pdf"
    login_as(applicant)
    html = client.get(page).get_data(as_text=True)
    assert 'id="avenants"' in html and "Avenant n° 1" in html and "Extension du projet" in html
    assert "40\u202f000,00\u00a0€" in html and "Établir un avenant" not in html
    response = client.get(pdf)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Avenant n° 1" in _pdf_text(response.data)
    downloaded = db.session.scalars(db.select(Event).where(Event.action == "amendment_downloaded")).one()
    assert downloaded.actor_id == applicant.id
    assert client.get(f"/suivi/dossiers/{cpo.application_id}/avenants/nouveau").status_code == 403
    assert client.get(f"/suivi/dossiers/{cpo.application_id}/avenants/2.pdf").status_code == 404
    client.post_form("/deconnexion")
    for person in (other_applicant, reviewer):
        login_as(person)
        assert client.get(pdf).status_code == 404
        assert client.get(page).status_code == 404
        client.post_form("/deconnexion")


def test_the_association_history_tells_of_the_amendment(cpo, staff, applicant):
    from aap.applications.history import association_history
    amendments.create_amendment(cpo, staff, reason="Extension du projet", amount_per_year=MORE_IN_2026)
    db.session.commit()
    rows = [row for row in association_history(cpo.application) if "Avenant" in row.label]
    assert rows[0].label == "Avenant n° 1 établi par la DJEPVA, à signer"
    assert rows[0].text == "Extension du projet" and rows[0].actor == "DJEPVA"
    assert "100\u202f000" in rows[0].detail


def _form(reason="Extension du projet", **overrides):
    data = {"avenant-reason": reason, "avenant-advance_percent": ""}
    for rank, (year, amount) in enumerate(((2025, "30 000"), (2026, "40 000"), (2027, "30 000"))):
        data[f"avenant-years-{rank}-included"] = "y"
        data[f"avenant-years-{rank}-amount"] = amount
    data.update(overrides)
    return data


def test_staff_preview_then_establish_an_amendment(cpo, staff, client, login_as):
    login_as(staff)
    url = f"/suivi/dossiers/{cpo.application_id}/avenants/nouveau"
    html = client.get(url).get_data(as_text=True)
    assert 'value="30 000"' in html and 'name="avenant-years-2-amount"' in html
    preview = client.post_form(url, {**_form(), "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Vérifiez les modifications" in text and "Montant 2026" in text
    assert db.session.query(Amendment).count() == 0
    done = client.post_form(url, {**_form(), "action": "confirm"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/suivi/dossiers/{cpo.application_id}#avenants")
    assert db.session.query(Amendment).one().changes["amount_cents"] == 100_000_00
    # one at a time: the page sends back with the reason
    again = client.get(url)
    assert again.status_code == 303


def test_the_form_keeps_what_was_typed_with_the_message_next_to_the_field(cpo, staff, client, login_as):
    login_as(staff)
    url = f"/suivi/dossiers/{cpo.application_id}/avenants/nouveau"
    response = client.post_form(url, {**_form(reason="", **{"avenant-years-1-amount": "douze"}), "action": "preview"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez le motif de l&#39;avenant" in text and 'value="douze"' in text
    unchecked = _form()
    for rank in range(3):
        del unchecked[f"avenant-years-{rank}-included"]
    response = client.post_form(url, {**unchecked, "action": "preview"})
    assert response.status_code == 422 and "Cochez au moins une année" in response.get_data(as_text=True)
    refused = client.post_form(url, {**_form(**{"avenant-years-0-amount": "90 000"}), "action": "confirm"})
    assert refused.status_code == 422 and "montant maximum par dossier" in refused.get_data(as_text=True)
    assert 'value="90 000"' in refused.get_data(as_text=True)
    assert db.session.query(Amendment).count() == 0


def test_the_section_costs_the_same_queries_whatever_the_number_of_amendments(cpo, staff, client, login_as):
    from .conftest import count_queries
    login_as(staff)
    page = f"/suivi/dossiers/{cpo.application_id}"
    first = amendments.create_amendment(cpo, staff, reason="Un", amount_per_year=[30_000_00, 30_000_00, 31_000_00])
    db.session.commit()
    with count_queries() as one:
        assert client.get(page).status_code == 200
    _in_force(first)
    amendments.apply_amendment(first, staff)
    amendments.create_amendment(cpo, staff, reason="Deux", amount_per_year=[30_000_00, 30_000_00, 32_000_00])
    db.session.commit()
    with count_queries() as two:
        html = client.get(page).get_data(as_text=True)
    assert "Avenant n° 2" in html and "Avenant n° 1" in html
    assert two() <= one() + 1  # (SIG's signature block may read each amendment's documents once)


# --- The published decision once the convention is signed (selection.amendments) ----------------

@pytest.mark.parametrize("state", [ConventionState.ASSOCIATION_SIGNED, ConventionState.IN_FORCE])
def test_a_signed_conventions_amount_changes_by_an_amendment_not_a_new_decision(app, staff, client, login_as, state):
    from aap.selection import amendments as decisions
    from aap.selection.services import DecisionError
    call = factories.call(slug="aap-signee", year=2025, years=1)
    application = fd.winner(call, amount_cents=40_000_00)
    convention = ff.convention(application, state)
    login_as(staff)
    url = f"/selection/appels/{call.id}/dossiers/{application.id}/modifier"
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/suivi/dossiers/{application.id}#avenants")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert (f"La convention {convention.number} est à l'état « {state.label} » : ses données sont figées et le "
            f"montant ne se modifie plus par une nouvelle décision, mais par un avenant") in page
    response = client.post_form(url, {"modifier-amount": "50000", "modifier-reason": "Cofinancement"})
    assert response.status_code == 303 and "/suivi/dossiers/" in response.headers["Location"]
    with pytest.raises(DecisionError, match="par un avenant à la convention"):
        decisions.amend_decision(application, staff, 50_000_00, reason="Cofinancement")
    db.session.expire_all()
    assert (application.decision.version, application.decision.amount_cents) == (1, 40_000_00)


def test_an_issued_convention_follows_the_amended_decision(app, staff, applicant, client, login_as):
    from aap.selection import amendments as decisions

    from .test_waitlist_and_amendments import _adjust_budget
    call = factories.call(slug="aap-emise", year=2025, years=1)
    application = fd.winner(call, applicant.association, amount_cents=40_000_00)
    ff.convention(application, ConventionState.ISSUED)
    login_as(applicant)
    assert "40 000,00" in _pdf_text(client.get(f"/candidatures/{application.id}/convention.pdf").data)
    decisions.amend_decision(application, staff, 35_000_00, reason="Cofinancement plus élevé")
    db.session.expire_all()
    assert application.decision.amount_cents == 35_000_00
    _adjust_budget(application, applicant)  # (a grant below the request: the budget adjusted first)
    response = client.get(f"/candidatures/{application.id}/convention.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.data)
    assert "35 000,00" in text and "40 000,00" not in text


def _amendments_section(client, application_id):
    page = html.unescape(client.get(f"/suivi/dossiers/{application_id}").get_data(as_text=True))
    return " ".join(page.split('id="avenants"')[1].split("</section>")[0].split())


@pytest.mark.parametrize("state", [ConventionState.ISSUED, ConventionState.ASSOCIATION_SIGNED,
                                   ConventionState.COUNTERSIGNED])
def test_before_the_convention_is_in_force_staff_read_only_when_an_amendment_can_be_made(app, staff, client,
                                                                                           login_as, state):
    call = factories.call(slug="aap-avenants-avant", year=2025)
    application, _convention = ff.winner_convention(call, state)
    login_as(staff)
    section = _amendments_section(client, application.id)
    assert ("Un avenant pourra être établi une fois la convention en vigueur (signée par l'association, "
            "contresignée par l'État et notifiée).") in section
    assert "Aucun avenant" not in section and "telle qu'elle a été signée" not in section
    assert "n'est pas en vigueur" not in section and "Établir un avenant" not in section


def test_in_force_and_terminated_conventions_without_amendment(cpo, staff, client, login_as):
    login_as(staff)
    section = _amendments_section(client, cpo.application_id)
    assert "Aucun avenant : la convention s'applique telle qu'elle a été signée." in section
    assert "Établir un avenant" in section and "pourra être établi" not in section
    cpo.state = ConventionState.TERMINATED
    db.session.commit()
    section = _amendments_section(client, cpo.application_id)
    assert "Aucun avenant." in section and "telle qu'elle a été signée" not in section
    assert "un avenant ne peut modifier qu'une convention en vigueur" in section
