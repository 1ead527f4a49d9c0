"""Conventions: the PDF read back (pypdf), numbering, storage by fingerprint, access."""
import io
import re

import pytest
from pypdf import PdfReader

from aap.documents import services
from aap.documents.convention import (
    build_convention_pdf,
    general_conditions_pdf,
    group_iban,
    payment_schedule,
)
from aap.documents.data import amount_in_words, call_data, convention_data, fingerprint
from aap.extensions import db
from aap.models import Convention, Event

from . import factories
from .factories_documents import winner


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    text = re.sub(r"-\n", "-", text)  # a line broken after a hyphen (« quarante-⏎deux »)
    return re.sub(r"\s+", " ", text), reader


@pytest.mark.parametrize("cents, words", [
    (42_500_00, "quarante-deux mille cinq cents euros"),
    (42_500_50, "quarante-deux mille cinq cents euros et cinquante centimes"),
    (1_00, "un euro"),
    (1, "zéro euro et un centime"),
    (1_000_000_00, "un million d'euros"),
    (71_080_00, "soixante et onze mille quatre-vingts euros"),
])
def test_amount_in_words(cents, words):
    assert amount_in_words(cents) == words


def test_iban_is_grouped_by_four():
    assert group_iban("fr7630006000011234567890189") == "FR76 3000 6000 0112 3456 7890 189"


def test_annual_convention_pdf_holds_parties_amounts_schedule_and_bank(app):
    call = factories.call(slug="aap-2025", year=2025, advance_percent=60)
    application = winner(call, amount_cents=42_500_00)
    convention = services.number_conventions([application])[application.id]
    data = convention_data(application, convention.number)
    text, reader = pdf_text(build_convention_pdf(data))

    assert convention.number == "1J1M-2025-CA-0001"
    assert "RÉPUBLIQUE FRANÇAISE" in text.upper()
    assert "DJEPVA" in text and "Convention n° 1J1M-2025-CA-0001" in text
    # Parties
    assert "représenté, pour la ministre et par délégation, par directeur de la jeunesse" in text
    assert "Réussir Ensemble" in text and "73282932000074" in text and "W691234567" in text
    assert "représentée par Claire Martin, présidente" in text
    assert "association régie par la loi du 1er juillet 1901" in text  # the parties' legal form (issue 17 §7)
    # Amount in figures and in words
    assert "42 500,00 €" in text
    assert "quarante-deux mille cinq cents euros" in text
    # Schedule: 60 % advance at signature, the balance within the year (issue 17 §3)
    assert "2025 Avance à la signature de la convention 25 500,00 €" in text
    assert "2025 Solde au plus tard le 30 novembre 2025 17 000,00 €" in text
    assert "une avance de 60 % de la contribution de l'année, à la signature de la présente convention" in text
    assert "le solde de 40 %, au plus tard le 30 novembre de l'année" in text
    # Bank details
    assert "FR76 3000 6000 0112 3456 7890 189" in text and "AGRIFRPP" in text
    # Obligations, disputes, signatures, annexes
    assert "six mois suivant la fin de chaque année" in text and "15059" in text
    assert "QPV" in text and "France Ruralités Revitalisation (FRR)" in text  # (issue 16: FRR since 1 July 2024)
    assert "tribunal administratif de Paris" in text
    assert "Fait à Paris, le" in text
    assert "Annexe I" in text and "Un programme de mentorat d'un an." in text
    assert "Annexe II" in text and "300 000,00 €" in text and "Région" in text and "50 000,00 €" in text
    assert "Annexe III" in text and "300" in text
    # One document (issue 17 §4): particular then general conditions, annexes, signatures last,
    # with one page numbering « page i sur N » throughout
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    for i, page in enumerate(pages):
        assert f"page {i + 1} sur {len(pages)}" in page, page[-80:]
    # The eighteen articles, each once and in order, then the annexes
    positions = [text.find(f"Article {n} — ") for n in range(1, 19)]
    assert all(pos >= 0 for pos in positions) and positions == sorted(positions), positions
    assert all(text.count(f"Article {n} — ") == 1 for n in range(1, 19))
    assert positions[-1] < text.find("Annexe III")
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4


def test_multi_year_convention_has_amounts_per_year_and_cents(app):
    call = factories.call(slug="cpo-2025", year=2025, years=3, advance_percent=50)
    application = winner(call, amount_cents=127_500_50, per_year=[42_500_50, 42_500_00, 42_500_00])
    convention = services.number_conventions([application])[application.id]
    text, _ = pdf_text(build_convention_pdf(convention_data(application, convention.number)))

    assert convention.number == "1J1M-2025-CPO-0001"
    assert "Convention pluriannuelle d'objectifs" in text
    assert "2025, 2026 et 2027" in text
    assert "127 500,50 €" in text
    assert "cent vingt-sept mille cinq cents euros et cinquante centimes" in text
    assert ("42 500,50 € (quarante-deux mille cinq cents euros et cinquante centimes) pour l'année 2025"
            in text)
    assert "21 250,25 €" in text  # half of the first year, advance and balance
    assert "puis au plus tard le 31 mars de chacune des années suivantes" in text
    assert "six mois suivant la fin de chaque année de la convention" in text  # general conditions of a CPO


def test_schedule_sums_to_the_grant(app):
    call = factories.call(slug="cpo-odd", year=2025, years=3, advance_percent=33)
    application = winner(call, amount_cents=100_000_01, per_year=[33_333_33, 33_333_34, 33_333_34])
    data = convention_data(application, "X")
    rows = payment_schedule(data)
    assert [row["year"] for row in rows] == [2025, 2026, 2027]
    assert [row["advance_cents"] + row["balance_cents"] for row in rows] == [33_333_33, 33_333_34, 33_333_34]
    assert rows[0]["advance_cents"] == 33_333_33 * 33 // 100
    assert sum(row["cents"] for row in rows) == 100_000_01


def test_fonts_are_embedded_marianne(app):
    call = factories.call(slug="aap-fonts", year=2025)
    application = winner(call)
    content = build_convention_pdf(convention_data(application, "1J1M-2025-CA-0001"))
    reader = PdfReader(io.BytesIO(content))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("Marianne" in name for name in fonts)
    assert all(fonts.values()), fonts


def test_numbers_are_sequential_per_call_and_stable(app):
    call = factories.call(slug="aap-num", year=2025)
    first, second = winner(call, name="Première"), winner(call, name="Seconde")
    numbers = services.number_conventions([first, second])
    db.session.commit()
    assert [numbers[first.id].number, numbers[second.id].number] == ["1J1M-2025-CA-0001", "1J1M-2025-CA-0002"]
    again = services.number_conventions([second, first])
    assert again[second.id].number == "1J1M-2025-CA-0002"
    assert db.session.query(Convention).count() == 2


def test_stored_once_and_regenerated_only_when_data_changes(app):
    call = factories.call(slug="aap-store", year=2025)
    application = winner(call)
    convention, path, regenerated = services.ensure_convention(application)
    assert regenerated and path.exists()
    first_name, first_fp, first_mtime = convention.stored_name, convention.data_fingerprint, path.stat().st_mtime_ns
    assert first_fp == fingerprint(convention_data(application, convention.number))

    convention, path, regenerated = services.ensure_convention(application)
    assert not regenerated
    assert convention.stored_name == first_name and path.stat().st_mtime_ns == first_mtime

    # (A change of bank details does not rewrite an issued convention: tests/test_bank_details_change.py.)
    application.association.address = "3 place Bellecour"
    db.session.commit()
    convention, new_path, regenerated = services.ensure_convention(application)
    assert regenerated and convention.data_fingerprint != first_fp
    assert convention.number == "1J1M-2025-CA-0001"
    assert not path.exists() and new_path.exists()
    text, _ = pdf_text(new_path.read_bytes())
    assert "3 place Bellecour" in text


def test_missing_file_is_regenerated(app):
    call = factories.call(slug="aap-missing", year=2025)
    application = winner(call)
    _, path, _ = services.ensure_convention(application)
    path.unlink()
    _, path, regenerated = services.ensure_convention(application)
    assert regenerated and path.exists()


# --- Access ---------------------------------------------------------------------------------

@pytest.fixture
def won(app, applicant):
    call = factories.call(slug="aap-web", year=2025)
    factories.complete_identity(applicant.association)
    return winner(call, association_record=applicant.association)


def test_member_downloads_own_convention(client, login_as, applicant, won):
    login_as(applicant)
    response = client.get(f"/candidatures/{won.id}/convention.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "convention-1J1M-2025-CA-0001.pdf" in response.headers["Content-Disposition"]
    text, _ = pdf_text(response.data)
    assert applicant.association.name in text
    event = db.session.query(Event).filter_by(action="convention_downloaded").one()  # every download is logged
    assert event.actor_id == applicant.id and event.application_id == won.id


def test_staff_download_is_recorded(client, login_as, staff, won):
    login_as(staff)
    response = client.get(f"/candidatures/{won.id}/convention.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    event = db.session.query(Event).filter_by(action="convention_downloaded").one()
    assert event.actor_id == staff.id and event.application_id == won.id


@pytest.mark.parametrize("who", ["other_applicant", "reviewer"])
def test_others_get_404(request, client, login_as, won, who):
    login_as(request.getfixturevalue(who))
    assert client.get(f"/candidatures/{won.id}/convention.pdf").status_code == 404


def test_anonymous_is_sent_to_login(client, won):
    response = client.get(f"/candidatures/{won.id}/convention.pdf")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_no_convention_before_publication_or_when_not_selected(client, login_as, staff, applicant):
    call = factories.call(slug="aap-unpublished", year=2025)
    factories.complete_identity(applicant.association)
    draft = winner(call, association_record=applicant.association, published=False)
    rejected = winner(call, name="Refusée", outcome="rejected")
    login_as(staff)
    assert client.get(f"/candidatures/{draft.id}/convention.pdf").status_code == 404
    assert client.get(f"/candidatures/{rejected.id}/convention.pdf").status_code == 404
    assert client.get("/candidatures/999999/convention.pdf").status_code == 404
    assert db.session.query(Convention).count() == 0


def test_member_cannot_download_an_unpublished_decision(client, login_as, applicant):
    call = factories.call(slug="aap-unpub2", year=2025)
    factories.complete_identity(applicant.association)
    draft = winner(call, association_record=applicant.association, published=False)
    login_as(applicant)
    assert client.get(f"/candidatures/{draft.id}/convention.pdf").status_code == 404


def test_general_conditions_are_rendered_once_per_call_and_included_in_each_convention(app):
    call = factories.call(slug="aap-cg", year=2025)
    first, second = winner(call, name="Première"), winner(call, name="Seconde")
    numbers = services.number_conventions([first, second])
    data = [convention_data(a, numbers[a.id].number) for a in (first, second)]
    general = general_conditions_pdf(data[0]["call"])
    assert general_conditions_pdf(data[1]["call"]) is general  # the same bytes, not rendered again
    general_text, _ = pdf_text(general)
    assert "Article 7 — Justificatifs" in general_text and "Article 17 — Recours" in general_text
    assert "Première" not in general_text and "1J1M-2025" not in general_text

    for item in data:
        text, reader = pdf_text(build_convention_pdf(item))
        # One document: the same general articles, between the particular conditions and the annexes.
        for article in ("Article 7 — Justificatifs", "Article 15 — Contrat d'engagement républicain",
                        "Article 17 — Recours", "dans la limite de 20 % de leur montant"):
            assert article in text
        assert item["association"]["name"] in text and item["number"] in text
        assert reader.metadata.title == f"Convention {item['number']} — {item['association']['name']}"
        bookmarks = []
        stack = list(reader.outline)
        while stack:
            entry = stack.pop(0)
            if isinstance(entry, list):
                stack[:0] = entry
            else:
                bookmarks.append(entry.title)
        assert "Article 1 — Objet de la convention" in bookmarks and "Article 17 — Recours" in bookmarks

    # Another call (three years) has its own general conditions.
    cpo = factories.call(slug="cpo-cg", year=2025, years=3)
    other, _ = pdf_text(general_conditions_pdf(call_data(cpo)))
    assert "chaque année de la convention" in other and "chaque année de la convention" not in general_text


def test_general_conditions_are_public_with_the_call(client, app):
    published = factories.call(slug="aap-public-cg", year=2025, status="published")
    page = client.get(f"/appels/{published.slug}").get_data(as_text=True)
    assert f"/appels/{published.slug}/conditions-generales.pdf" in page
    response = client.get(f"/appels/{published.slug}/conditions-generales.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text, _ = pdf_text(response.data)
    assert "Conditions générales des conventions" in text and published.title in text
    assert "Article 9 — Sanctions" in text
    draft = factories.call(slug="aap-draft-cg", year=2025, status="draft")
    assert client.get(f"/appels/{draft.slug}/conditions-generales.pdf").status_code == 404
    assert client.get("/appels/inconnu/conditions-generales.pdf").status_code == 404
