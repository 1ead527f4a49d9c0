"""Legal forms of the parties (issue 17 §7): each form asks for its own identifier (RNA; register of
the tribunal judiciaire for the local law of Alsace-Moselle; decree of recognition; prefectural
authorisation), validated next to its field; completeness, admissibility, the convention's
parties and the open data follow."""
import re
from datetime import date, timedelta
from html import unescape as html_unescape

import pytest

from aap.associations import legal, services
from aap.documents.convention import convention_html
from aap.documents.data import convention_data
from aap.documents.opendata import scdl_rows
from aap.extensions import db
from aap.instruction.admissibility import IDENTITY, checklist

from . import factories
from .factories_documents import association, signed, winner
from .test_associations import VALID_IDENTITY, page

TODAY = date(2026, 12, 3)
LOCAL = {"legal_form": "association_1908", "register_court": "Strasbourg", "register_volume": "85",
         "register_folio": "12"}
FOUNDATION = {"legal_form": "fondation", "recognition_date": date(1985, 3, 12),
              "recognition_reference": "JORF du 15 mars 1985"}
COMPANY_FOUNDATION = {"legal_form": "fondation_entreprise", "recognition_date": date(2018, 5, 3),
                      "recognition_reference": "Préfecture du Rhône n° 69-2018-05-03-001"}


# --- the rules, one form at a time --------------------------------------------------------------

@pytest.mark.parametrize("identity, departement, field, message", [
    ({"legal_form": "association_1901", "rna": "W12345678"}, "69", "rna", "W suivi de 9 chiffres"),
    ({"legal_form": "association_rup", "rna": "X123456789"}, "69", "rna", "W suivi de 9 chiffres"),
    ({**LOCAL, "register_folio": ""}, "67", "register_folio", legal.FOLIO_REQUIRED),
    ({**LOCAL, "register_court": ""}, "67", "register_court", legal.COURT_REQUIRED),
    ({**LOCAL, "register_folio": "douze"}, "67", "register_folio", legal.FOLIO_INVALID),
    ({**LOCAL, "register_volume": "85bis"}, "67", "register_volume", legal.VOLUME_INVALID),
    (LOCAL, "69", "legal_form", legal.LOCAL_LAW_OUTSIDE),
    ({**FOUNDATION, "recognition_date": TODAY + timedelta(days=1)}, "75", "recognition_date", legal.DATE_FUTURE),
    ({**FOUNDATION, "recognition_date": None}, "75", "recognition_date", legal.DATE_REQUIRED["fondation"]),
    ({**COMPANY_FOUNDATION, "recognition_date": None}, "69", "recognition_date",
     legal.DATE_REQUIRED["fondation_entreprise"]),
], ids=["rna-short", "rup-rna-letter", "missing-folio", "missing-court", "folio-words", "volume-bis",
        "local-law-in-rhone", "decree-future", "decree-undated", "arrete-undated"])
def test_each_form_has_its_identifier_checked(identity, departement, field, message):
    errors = legal.problems(identity, departement, TODAY)
    assert message in errors[field], errors


@pytest.mark.parametrize("identity", [
    {"legal_form": "association_1901", "rna": "W691234567"},
    {"legal_form": "association_rup", "rna": "W751234567", "recognition_date": date(1990, 1, 1)},
    {**LOCAL, "register_volume": "lxxv"},
    {**LOCAL, "rna": "not an RNA: ignored, this form has none"},
    FOUNDATION, COMPANY_FOUNDATION,
])
def test_a_complete_identifier_passes(identity):
    assert legal.problems(identity, "67" if identity["legal_form"] == "association_1908" else "75", TODAY) == {}
    assert legal.missing(identity) == []


def test_what_each_form_still_misses():
    assert legal.missing({"legal_form": "association_1901"}) == [("rna", "Numéro RNA")]
    assert [f for f, _ in legal.missing({"legal_form": "association_1908", "rna": "W691234567"})] == ["register_court"]
    assert [f for f, _ in legal.missing({"legal_form": "fondation"})] == ["recognition_date", "recognition_reference"]
    assert [f for f, _ in legal.missing({"legal_form": "association_rup", "rna": "W691234567"})] == ["recognition_date"]
    assert legal.missing({"legal_form": "autre"}) == []


# --- the identity page ---------------------------------------------------------------------------

def test_local_law_association_missing_folio_is_refused_next_to_the_field_and_keeps_what_was_typed(
        client, applicant, login_as):
    login_as(applicant)
    data = {**VALID_IDENTITY, "legal_form": "association_1908", "rna": "", "postal_code": "67000",
            "commune": "Strasbourg", "register_court": "Strasbourg", "register_volume": "85", "register_folio": ""}
    response = client.post_form("/association", data)
    form = page(response)
    assert legal.FOLIO_REQUIRED in form.messages["register_folio"]
    assert form.values["register_court"] == "Strasbourg" and form.values["register_volume"] == "85"
    db.session.expire_all()
    assert applicant.association.register_court is None

    response = client.post_form("/association", {**data, "register_folio": "12"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = applicant.association
    assert (saved.register_court, saved.register_volume, saved.register_folio, saved.rna) == ("Strasbourg", "85",
                                                                                             "12", None)
    assert saved.legal_identifier == ("inscrite au registre des associations du tribunal judiciaire de Strasbourg, "
                                      "volume 85, folio 12")


def test_local_law_outside_alsace_moselle_is_refused(client, applicant, login_as):
    login_as(applicant)
    response = client.post_form("/association", {**VALID_IDENTITY, **LOCAL, "rna": ""})
    assert legal.LOCAL_LAW_OUTSIDE in page(response).messages["legal_form"]


def test_foundation_gives_its_decree_and_no_rna(client, applicant, login_as):
    login_as(applicant)
    data = {**VALID_IDENTITY, "legal_form": "fondation", "rna": "W691234567", "recognition_date": "12/03/1985",
            "recognition_reference": "JORF du 15 mars 1985"}
    assert client.post_form("/association", data).status_code == 302
    db.session.expire_all()
    saved = applicant.association
    assert saved.rna is None  # a foundation has none: the value of another form is not kept
    assert saved.recognition_date == date(1985, 3, 12)
    assert saved.legal_identifier == "reconnue d'utilité publique par décret du 12 mars 1985 (JORF du 15 mars 1985)"
    html = client.get("/association").get_data(as_text=True)
    assert 'data-legal-forms="association_rup fondation fondation_entreprise"' in html
    assert "Forme juridique et identifiant" in html


def test_wrong_rna_of_a_1901_association_is_refused(client, applicant, login_as):
    login_as(applicant)
    response = client.post_form("/association", {**VALID_IDENTITY, "rna": "W12"})
    assert "W suivi de 9 chiffres" in page(response).messages["rna"]


def test_the_service_checks_again(applicant):
    with pytest.raises(services.AssociationError) as refusal:
        services.update_identity(applicant.association, {"legal_form": "fondation_entreprise",
                                                         "recognition_date": services.today_paris()
                                                         + timedelta(days=3)}, applicant)
    assert refusal.value.errors == {"recognition_date": legal.DATE_FUTURE}


# --- completeness, admissibility ------------------------------------------------------------------

def test_completeness_asks_for_the_identifier_of_the_form(app, applicant):
    record = factories.complete_identity(applicant.association)
    labels = lambda: [label for label, _url in services.identity_missing(record)]  # noqa: E731
    with app.test_request_context():
        assert labels() == []
        record.legal_form = "fondation"
        assert "Numéro RNA" not in labels()
        assert "Date du décret de reconnaissance d'utilité publique" in labels()
        assert "Référence du décret (Journal officiel)" in labels()
        record.legal_form, record.departement_code = "association_1908", "67"
        assert labels() == ["Inscription au registre des associations (tribunal, volume, folio)"]


def _identity_condition(identity):
    base = {"siret": "73282932000074", "address": "1 rue", "postal_code": "67000", "commune": "Strasbourg",
            "representative_name": "Claire Martin", "representative_function": "Présidente"}
    conditions = checklist(documents=[], present_document_ids=[], identity={**base, **identity}, requested_cents=1,
                           min_cents=0, max_cents=0, submitted_at=None, closes_at=None)
    return next(c for c in conditions if c.code == IDENTITY)


def test_admissibility_reads_the_identifier_of_the_form():
    local = _identity_condition(LOCAL)
    assert local.ok and "tribunal judiciaire de Strasbourg, volume 85, folio 12" in local.detail
    assert "RNA" not in local.detail
    missing = _identity_condition({**LOCAL, "register_folio": None})
    assert not missing.ok and "inscription au registre" in missing.detail.lower()
    foundation = _identity_condition({**FOUNDATION, "recognition_date": "1985-03-12"})  # (as deposited: ISO)
    assert foundation.ok and "décret du 12 mars 1985" in foundation.detail
    assert not _identity_condition({"legal_form": "fondation"}).ok
    assert not _identity_condition({"legal_form": "association_1901", "rna": None}).ok


# --- the convention's parties and the open data ---------------------------------------------------

def _parties(application):
    html = convention_html(convention_data(application, "1J1M-2025-CA-0001"))
    block = html[html.index("Entre les soussignés"):html.index("Préambule")]
    return re.sub(r"\s+", " ", html_unescape(re.sub(r"<[^>]+>", " ", block)))


@pytest.mark.parametrize("form, fields, expected, absent", [
    ("association_1901", {}, ["association régie par la loi du 1er juillet 1901", "numéro RNA : W691234567"],
     ["décret"]),
    ("association_rup", {"recognition_date": date(1972, 6, 8), "recognition_reference": "JORF du 14 juin 1972"},
     ["association régie par la loi du 1er juillet 1901", "numéro RNA : W691234567",
      "reconnue d'utilité publique par décret du 8 juin 1972 (JORF du 14 juin 1972)"], []),
    ("association_1908", {"rna": None, "register_court": "Metz", "register_volume": "LXXV", "register_folio": "8",
                          "departement_code": "57"},
     ["association inscrite de droit local, régie par les articles 21 à 79-III du code civil local",
      "inscrite au registre des associations du tribunal judiciaire de Metz, volume LXXV, folio 8"], ["RNA"]),
    ("fondation", {"rna": None, **{k: v for k, v in FOUNDATION.items() if k != "legal_form"}},
     ["fondation régie par les articles 18 à 20 de la loi n° 87-571 du 23 juillet 1987",
      "reconnue d'utilité publique par décret du 12 mars 1985 (JORF du 15 mars 1985)"], ["RNA"]),
    ("fondation_entreprise", {"rna": None, **{k: v for k, v in COMPANY_FOUNDATION.items() if k != "legal_form"}},
     ["fondation d'entreprise régie par les articles 19 à 19-13 de la loi n° 87-571",
      "autorisée par arrêté préfectoral du 3 mai 2018 (Préfecture du Rhône n° 69-2018-05-03-001)"], ["RNA"]),
], ids=["1901", "rup", "droit-local", "fondation-rup", "fondation-entreprise"])
def test_the_convention_names_each_party_by_its_form_and_identifier(app, form, fields, expected, absent):
    call = factories.call(slug=f"aap-{form.replace('_', '-')}", year=2025)
    record = association("Partie")
    record.legal_form = form
    for name, value in fields.items():
        setattr(record, name, value)
    db.session.commit()
    parties = _parties(winner(call, association_record=record))
    for text in expected:
        assert text in parties, parties
    for text in absent:
        assert text not in parties, parties
    assert "numéro SIRET : 73282932000074" in parties


def test_the_open_data_has_an_rna_only_for_the_forms_that_have_one(app):
    call = factories.call(slug="aap-rna", year=2025)
    foundation = association("Fondation")
    foundation.legal_form = "fondation"  # an RNA stored before: not published as the foundation's
    plain = association("Simple")
    db.session.commit()
    signed(winner(call, association_record=foundation))
    signed(winner(call, association_record=plain))
    rows = {row["nomBeneficiaire"]: row for row in scdl_rows(call)}
    assert rows["Fondation"]["rnaBeneficiaire"] == "" and rows["Simple"]["rnaBeneficiaire"] == "W691234567"
