"""The receipt's legal mentions (issue 17 §8): what an accusé de réception must carry.

- CRPA art. R112-5 1°: the date of receipt and the date at which, without an express decision,
  the request is deemed rejected — a grant is a request of a financial nature, so silence is
  rejection after two months (CRPA art. L231-4 3°); the time runs from a complete file (L114-5):
  a complement's receipt counts from the complement.
- CRPA art. R112-5 2°: name, postal address, e-mail and telephone of the service in charge, set
  per call (Call.service_*; defaults: aap/calls/contact.py).
- CRPA art. R112-5, last paragraph: the routes and time limits of appeal against the implicit
  rejection — recours gracieux / hiérarchique (L411-2), tribunal administratif within two months
  (CJA R421-1, R421-2), Télérecours citoyens (CJA R414-2), the reasons on request (L232-4).
- Every receipt is kept: rendered again later, it says what it said on the day (the service as
  frozen in the deposit's snapshot).
"""
import io
import re
from datetime import date, datetime

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.calls.contact import SERVICE_DEFAULTS
from aap.documents.legal_mentions import add_months, deemed_rejection_date
from aap.extensions import db
from aap.models import Application, Call, Deposit

from . import factories
from . import factories_applications as fa
from .test_calls import call_form


def pdf_text(data):
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def paris(year, month, day, hour=10):
    return timeutil.paris_to_utc(datetime(year, month, day, hour, 0, 0))


SERVICE = {"service_name": "DJEPVA – Bureau des essais", "service_address": "12 rue des Essais\n75007 Paris",
           "service_email": "essais@jeunesse.gouv.fr", "service_phone": "01 23 45 67 89"}


@pytest.mark.parametrize("received, deemed", [
    (date(2025, 12, 31), date(2026, 2, 28)),   # no 31 February: the last day of the month
    (date(2023, 12, 31), date(2024, 2, 29)),   # a leap year
    (date(2026, 3, 15), date(2026, 5, 15)),
    (date(2026, 8, 31), date(2026, 10, 31)),
    (date(2026, 12, 30), date(2027, 2, 28)),
    (date(2026, 11, 1), date(2027, 1, 1)),
])
def test_the_deemed_rejection_date_is_two_months_later_month_ends_included(received, deemed):
    assert deemed_rejection_date(received) == deemed
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def deposit_at(monkeypatch, applicant, at, **call_fields):
    """A call open at `at` and a file deposited then (Paris time)."""
    monkeypatch.setattr(timeutil, "now", lambda: at)
    call = factories.call(**call_fields)
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    return call, db.session.get(Application, application.id)


def test_the_receipt_carries_every_mention_of_r112_5(app, client, applicant, login_as, monkeypatch):
    call, application = deposit_at(monkeypatch, applicant, paris(2025, 12, 31, 15), **SERVICE)
    login_as(applicant)
    text = pdf_text(client.get(f"/candidatures/{application.id}/recepisse.pdf").data)
    # 1° the date of receipt and the date of the implicit rejection (L231-4 3°, two months later).
    assert "Date de réception de la demande 31 décembre 2025" in text
    assert "à défaut de décision expresse, la demande sera réputée rejetée 28 février 2026" in text
    assert "L. 231-4" in text and "caractère financier" in text and "silence gardé" in text
    # ... from a complete file (L114-5).
    assert "réception d'un dossier complet" in text and "L. 114-5" in text
    # 2° the service in charge, as set on the call.
    assert "DJEPVA – Bureau des essais 12 rue des Essais 75007 Paris" in text
    assert "Courriel : essais@jeunesse.gouv.fr" in text and "Téléphone : 01 23 45 67 89" in text
    # The routes and time limits of appeal against the implicit rejection.
    assert "Voies et délais de recours contre la décision implicite de rejet" in text
    assert "recours gracieux" in text and "recours hiérarchique" in text and "L. 411-2" in text
    assert "tribunal administratif de Paris" in text and "deux mois" in text
    assert "R. 421-1 et R. 421-2 du code de justice administrative" in text
    assert "Télérecours citoyens" in text and "citoyens.telerecours.fr" in text
    assert "L. 232-4" in text
    assert "L. 112-3" in text and "R. 112-5" in text


def test_a_call_without_settings_names_the_djepva(app, client, applicant, login_as, monkeypatch):
    call, application = deposit_at(monkeypatch, applicant, paris(2026, 3, 15))
    assert call.service_name == ""  # (a call of before the settings: the defaults)
    login_as(applicant)
    text = pdf_text(client.get(f"/candidatures/{application.id}/recepisse.pdf").data)
    assert "Date de réception de la demande 15 mars 2026" in text and "réputée rejetée 15 mai 2026" in text
    assert "Direction de la jeunesse, de l'éducation populaire et de la vie associative (DJEPVA)" in text
    assert "95 avenue de France 75650 Paris Cedex 13" in text
    assert SERVICE_DEFAULTS["service_email"] in text and SERVICE_DEFAULTS["service_phone"] in text


def test_every_receipt_is_kept_as_it_was_issued(app, client, applicant, login_as, monkeypatch):
    call, application = deposit_at(monkeypatch, applicant, paris(2026, 3, 15), **SERVICE)
    login_as(applicant)
    before = client.get(f"/candidatures/{application.id}/recepisse.pdf").data
    call.service_name, call.service_phone = "Un autre bureau", "09 99 99 99 99"
    db.session.commit()
    after = pdf_text(client.get(f"/candidatures/{application.id}/recepisse.pdf").data)
    assert after == pdf_text(before)
    assert "DJEPVA – Bureau des essais" in after and "Un autre bureau" not in after
    deposit = db.session.scalar(db.select(Deposit).where(Deposit.application_id == application.id))
    assert deposit.snapshot["call"]["service"]["phone"] == "01 23 45 67 89"


def test_the_complement_receipt_counts_from_the_complement(app, client, applicant, staff, login_as, monkeypatch):
    call, application = deposit_at(monkeypatch, applicant, paris(2026, 3, 15), **SERVICE)
    statutes = next(d for d in call.pieces if d.code == "statuts")
    fa.make_incomplete(application, [f"doc:{statutes.id}"], staff, due_in_days=30)
    monkeypatch.setattr(timeutil, "now", lambda: paris(2026, 3, 31, 11))
    fa.submit_now(db.session.get(Application, application.id), applicant)
    complement = db.session.scalars(db.select(Deposit).where(Deposit.application_id == application.id)
                                    .order_by(Deposit.number)).all()[-1]
    assert complement.kind == "complement"
    login_as(applicant)
    text = pdf_text(client.get(f"/candidatures/{application.id}/recepisses/{complement.id}.pdf").data)
    assert "Date de réception de ce complément 31 mars 2026" in text
    assert "réputée rejetée 31 mai 2026" in text
    assert "court à compter de sa réception" in text and "L. 114-5" in text
    assert "Courriel : essais@jeunesse.gouv.fr" in text and "tribunal administratif de Paris" in text
    # The original receipt still counts from the deposit.
    original = pdf_text(client.get(f"/candidatures/{application.id}/recepisse.pdf").data)
    assert "réputée rejetée 15 mai 2026" in original


def test_staff_set_the_service_per_call(client, staff, login_as):
    login_as(staff)
    page = client.get("/instruction/appels/nouveau").get_data(as_text=True)
    assert "Service chargé des dossiers" in page and "95 avenue de France" in page
    assert client.post_form("/instruction/appels/nouveau", call_form()).status_code == 302
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2027"))
    assert (call.service_name, call.service_email) == (SERVICE_DEFAULTS["service_name"],
                                                       SERVICE_DEFAULTS["service_email"])
    response = client.post_form(f"/instruction/appels/{call.id}", call_form(**SERVICE))
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.service_address == "12 rue des Essais\n75007 Paris" and call.service_phone == "01 23 45 67 89"
    # Emptied: the default again (the receipt always names a service); a malformed e-mail is refused.
    client.post_form(f"/instruction/appels/{call.id}", call_form(service_phone=""))
    db.session.refresh(call)
    assert call.service_phone == SERVICE_DEFAULTS["service_phone"]
    page = client.post_form(f"/instruction/appels/{call.id}", call_form(service_email="pas-une-adresse"))
    assert page.status_code == 422 and "Saisissez une adresse électronique valide" in page.get_data(as_text=True)
