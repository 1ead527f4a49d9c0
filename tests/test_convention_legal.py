"""The convention as the ministry's legal and finance offices read it (issue 17 §1, §4, §5, §6):
its mandatory mentions, one document with one page numbering, signatures last, French spacing,
numbers in merit order and the ZIP's entry names."""
import io
import re
import zipfile

from pypdf import PdfReader

from aap.documents import services
from aap.documents.bulk import generate_call_conventions, write_zip
from aap.documents.convention import archive_name, build_convention_pdf
from aap.documents.typography import french_spacing
from aap.extensions import db
from aap.models import Convention

from . import factories
from .factories_documents import review, winner
from .factories_selection import reviewers
from .test_calls import call_form


def pdf_pages(content):
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def flat(text):
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ").replace("-\n", "-"))


def issued_pdf(application, **texts):
    application.call.convention_texts = texts
    convention = services.number_conventions([application])[application.id]
    return convention, build_convention_pdf(services.issued_convention_data(application, convention))


def test_every_mandatory_mention_is_in_the_convention(app):
    call = factories.call(slug="aap-legal", year=2025, years=3)
    application = winner(call, amount_cents=90_000_00)
    convention, _ = issued_pdf(application)
    convention.commitment_number = "2103456789"
    _, pdf = issued_pdf(application, signatory_name="Mme Camille Martin", budget_centre="0163-CDJE-DJ01",
                        budget_activity="016302010101", state_aid="de_minimis")
    text = flat("\n".join(pdf_pages(pdf)))
    for mention in (
        # Visas (convention_texts.py): the law on grants and its articles 9-1, 10, 10-1 ...
        "loi n° 2000-321 du 12 avril 2000", "articles 9-1, 10 et 10-1",
        # ... the décret on the 23 000 € threshold, the year's loi de finances, the GBCP ...
        "décret n° 2001-495 du 6 juin 2001", "loi n° 2025-127 du 14 février 2025 de finances pour 2025",
        "décret n° 2012-1246 du 7 novembre 2012",
        # ... the contrat d'engagement républicain (loi 2021-1109 and décret 2021-1947) ...
        "loi n° 2021-1109 du 24 août 2021", "décret n° 2021-1947 du 31 décembre 2021",
        # ... the circulaire on the partnership between the State and associations ...
        "circulaire n° 5811-SG du Premier ministre du 29 septembre 2015",
        # ... and, de minimis being set for this call, the regulation (UE) 2023/2831.
        "règlement (UE) 2023/2831",
        # Article « Imputation budgétaire »: programme 163, action, centre financier, activité, Chorus.
        "Article 6 — Imputation budgétaire", "programme 163 « Jeunesse et vie associative »",
        "action 02", "centre financier 0163-CDJE-DJ01", "activité 016302010101",
        "Numéro d'engagement juridique (Chorus) : 2103456789",
        # The State's signatory, named, by delegation of the minister.
        "pour la ministre et par délégation, par Mme Camille Martin, directeur de la jeunesse",
        "Pour la ministre et par délégation,",
        # Withdrawal and repayment on a breach of the contrat d'engagement républicain (loi 2000-321 art. 10-1).
        "Article 15 — Contrat d'engagement républicain", "retire la subvention par une décision motivée",
        "six mois à compter de la décision de retrait",
        # Personal data (RGPD): roles, purposes, minors and children in care, retention, security.
        "Article 16 — Données personnelles", "règlement (UE) 2016/679", "L'association est responsable des traitements",
        "aide sociale à l'enfance", "Conservation et sécurité",
        # Signature: place and date for each party, electronic signature by default.
        "Fait à Paris, le", "Convention signée électroniquement par les parties",
    ):
        assert mention in text, mention
    assert "la directrice ou le directeur" not in text and "Le directeur de la jeunesse" not in text


def test_paper_signature_gives_the_number_of_originals_and_no_state_aid_by_default(app):
    call = factories.call(slug="aap-paper", year=2025)
    _, pdf = issued_pdf(winner(call), signature_mode="paper", originals=3)
    text = flat("\n".join(pdf_pages(pdf)))
    assert "établie en 3 exemplaires originaux" in text and "Fait en 3 exemplaires originaux" in text
    assert "signée électroniquement" not in text
    assert "de minimis" not in text and "2012/21/UE" not in text


def test_one_document_one_page_numbering_and_signatures_after_the_last_annex(app):
    call = factories.call(slug="aap-pages", year=2025, years=3)
    _, pdf = issued_pdf(winner(call))
    pages = pdf_pages(pdf)
    count = len(pages)
    assert count > 3
    for number, page in enumerate(pages, start=1):
        assert f"page {number} sur {count}" in page
    text = flat("\n".join(pages))
    # Particular conditions, then general conditions, then the annexes, then the signatures.
    order = [text.index(marker) for marker in ("Article 6 — Imputation budgétaire", "Article 7 — Justificatifs",
                                               "Article 18 — Pièces de la convention", "Annexe I — Le projet",
                                               "Annexe III — Indicateurs", "Pour l'association")]
    assert order == sorted(order)
    assert "Pour l'État" in flat(pages[-1])


def test_no_line_ends_with_an_opening_quote_and_percent_has_a_narrow_space(app):
    call = factories.call(slug="aap-typo", year=2025, advance_percent=21)
    _, pdf = issued_pdf(winner(call, name="Association « Les Amis du mentorat et de l'entraide »"))
    raw = "\n".join(pdf_pages(pdf))
    lines = [line.rstrip() for line in raw.splitlines()]
    assert not [line for line in lines if line.endswith("«")]
    assert "21\u202f%" in raw and not re.search(r"\d %", raw)
    assert french_spacing("ci-après « l'association » 21% et 30 %") == \
        "ci-après «\u00a0l'association\u00a0» 21\u202f% et 30\u202f%"


def ranked_winners(call):
    """Three winners whose references run against their merit: the best (rank 1) has the last."""
    reviewer = reviewers(1)[0]
    files = []
    for name, score in (("Moyenne", 3), ("Faible", 2), ("Excellente", 5)):
        application = winner(call, name=name)
        review(application, reviewer, [score] * len(call.criteria))
        files.append(application)
    return files


def test_numbers_follow_the_ranking_for_the_whole_call_at_once(app):
    call = factories.call(slug="aap-rank", year=2025, years=3)
    average, weak, best = ranked_winners(call)
    # The weakest downloads first: every winner is numbered at once, in merit order.
    numbers = services.number_conventions([weak])
    assert numbers[weak.id].number == "1J1M-2025-CPO-0003"
    by_app = {c.application_id: c.number for c in db.session.scalars(db.select(Convention))}
    assert by_app == {best.id: "1J1M-2025-CPO-0001", average.id: "1J1M-2025-CPO-0002",
                      weak.id: "1J1M-2025-CPO-0003"}
    # Numbered is not issued: no file yet, and the association's budget may still be adjusted.
    assert all(c.stored_name is None for c in db.session.scalars(db.select(Convention)))


def test_zip_entries_carry_the_number_and_the_association(app, tmp_path):
    call = factories.call(slug="aap-zipnames", year=2025)
    first = winner(call, name="Les Amis / du Mentorat: Lyon")
    second = winner(call, name="Élan « Jeunes »")
    entries = generate_call_conventions(call, workers=1)
    path = write_zip(entries, tmp_path / "c.zip")
    names = sorted(zipfile.ZipFile(path).namelist())
    numbers = {c.application_id: c.number for c in db.session.scalars(db.select(Convention))}
    assert names == sorted([f"{numbers[first.id]} - Les Amis du Mentorat Lyon.pdf",
                            f"{numbers[second.id]} - Élan « Jeunes ».pdf"])
    assert archive_name("1J1M-2025-CA-0001", "A" * 300).endswith("A.pdf")
    assert len(archive_name("1J1M-2025-CA-0001", "A" * 300)) == 124


def test_staff_set_the_call_texts_and_the_convention_prints_them(client, staff, login_as):
    call = factories.call(slug="aap-texts", year=2025, status="draft")
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    # The form shows the defaults of the 2025 call.
    assert "Conventions : visas, imputation budgétaire et signature" in page
    assert "loi n° 2025-127 du 14 février 2025 de finances pour 2025" in page
    response = client.post_form(f"/instruction/appels/{call.id}", call_form(
        slug="aap-texts", years="1",
        convention_visas="Vu la loi n° 2000-321 du 12 avril 2000 ;\nVu la loi n° 2026-1 de finances pour 2026 ;",
        convention_budget_programme="163 « Jeunesse et vie associative »", convention_budget_action="02",
        convention_budget_centre="0163-CDJE-DJ01", convention_signatory_name="M. Paul Durand",
        convention_signatory_title="directeur de la jeunesse", convention_state_aid="sieg",
        convention_signature_mode="paper", convention_originals="4"))
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.convention_texts["signatory_name"] == "M. Paul Durand"
    text = flat("\n".join(pdf_pages(issued_pdf(winner(call), **call.convention_texts)[1])))
    assert "Vu la loi n° 2026-1 de finances pour 2026 ;" in text and "2025-127" not in text
    assert "décision 2012/21/UE" in text and "mandat de service d'intérêt économique général" in text
    assert "par M. Paul Durand, directeur de la jeunesse" in text and "centre financier 0163-CDJE-DJ01" in text
    assert "établie en 4 exemplaires originaux" in text


def test_call_texts_are_checked(client, staff, login_as):
    call = factories.call(slug="aap-texts-bad", year=2025, status="draft")
    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}", call_form(
        slug="aap-texts-bad", years="1", convention_state_aid="autre", convention_originals="40"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choisissez le régime d&#39;aide d&#39;État." in page and "va de 2 à 10" in page


def test_staff_record_the_commitment_number(client, staff, login_as):
    call = factories.call(slug="aap-chorus", year=2025)
    application = winner(call)
    convention = services.number_conventions([application])[application.id]
    db.session.commit()
    login_as(staff)
    url = f"/instruction/conventions/{convention.id}/engagement"
    response = client.post_form(url, {f"engagement-{convention.id}-commitment_number": "21 03 45"})
    assert response.status_code == 422 and convention.commitment_number == ""
    page = response.get_data(as_text=True)  # the error next to the field, what was typed kept
    assert "ne contient que des chiffres" in page and 'value="21 03 45"' in page
    response = client.post_form(url, {f"engagement-{convention.id}-commitment_number": "2103456789"},
                                follow_redirects=True)
    assert "il figure à l&#39;article 6 de la convention" in response.get_data(as_text=True)
    db.session.refresh(convention)
    assert convention.commitment_number == "2103456789"
    pdf = client.get(f"/candidatures/{application.id}/convention.pdf").data
    assert "Numéro d'engagement juridique (Chorus) : 2103456789" in flat("\n".join(pdf_pages(pdf)))


def test_the_reports_delay_of_article_7_and_the_balance_clause_follow_the_call(app):
    """Article 7 gives the call's delay for the yearly reports (Call.report_due_months) and article
    5 says a later year's balance waits for the previous year's reports to be accepted, due by the
    date that delay gives — what aap/followup/payments.balance_refusal enforces."""
    call = factories.call(slug="aap-delai", year=2025, years=2, report_due_months=3)
    _, pdf = issued_pdf(winner(call, amount_cents=60_000_00))
    text = flat(" ".join(pdf_pages(pdf)))
    assert "dans les trois mois suivant la fin de chaque année" in text
    assert ("après l'acceptation par l'administration des justificatifs de l'année précédente mentionnés à "
            "l'article 7 (remis au plus tard le 31 mars de l'année suivante)") in text
    assert "six mois suivant la fin" not in text
