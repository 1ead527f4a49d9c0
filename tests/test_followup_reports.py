"""Yearly reports, the association's side (issue 18 §3): opening, drafts and their checks, report
completeness, pieces, submission with its receipt, and who reads or fills a report."""
import io
from datetime import date

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.database import writing
from aap.documents.data import report_due_on
from aap.extensions import db
from aap.followup import reports as R
from aap.models import OutboxMessage
from aap.models.followup import Report, ReportState

from . import factories, factories_followup
from .factories_documents import winner
from .factories_followup import convention

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def call(app):
    """A call of last year: its year is over, its reports may be filed."""
    return factories.call(year=timeutil.to_paris(timeutil.now()).year - 1)


@pytest.fixture
def report(call, applicant):
    return factories_followup.report(call, applicant.association)


def filled(report, **overrides):
    """A complete activity and a financial part equal to the granted budget."""
    values = {"young_count": 100, "young_qpv": 40, "young_frr": 10, "young_ase": 5, "young_disability": 3,
              "young_dropout": 20, "age_under_16": 10, "age_16_17": 30, "age_18_25": 55, "age_over_25": 5,
              "mentor_count": 90, "pair_count": 95, "average_duration_months": 8.5, "departements": ["69"],
              "account": "Une belle année."}
    for code, cents in R.granted_budget(report).items():
        values[f"fin_{code}"] = cents
    values.update(overrides)
    R._write(report, values)
    db.session.commit()
    return report





def _upload(data=PDF, name="comptes.pdf"):
    from werkzeug.datastructures import FileStorage
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


# --- Opening ------------------------------------------------------------------------------------

def test_open_reports_one_per_year_due_six_months_after_by_default(app):
    call = factories.call(years=3)
    application = winner(call, amount_cents=90_000_00)
    record = convention(application)
    created = R.open_reports(record, None)
    db.session.commit()
    assert [(r.year, r.due_on) for r in created] == [
        (call.year + i, date(call.year + i + 1, 6, 30)) for i in range(3)]
    assert R.open_reports(record, None) == []      # idempotent
    assert db.session.query(Report).count() == 3


def test_open_reports_follows_the_calls_setting(app):
    call = factories.call(report_due_months=3)
    record = convention(winner(call))
    (report,) = R.open_reports(record, None)
    assert report.due_on == date(call.year + 1, 3, 31)
    assert report_due_on(2025, 14) == date(2027, 2, 28)


def test_a_year_an_amendment_took_to_zero_gets_no_report_and_a_filed_one_stays(app, staff):
    """An amendment that brings a year's grant to 0 (the decision's per-year list keeps the year
    at 0): no report is opened for it; its report is removed only while untouched (a draft never
    saved, without pieces), never once filed."""
    call = factories.call(years=3)
    application = winner(call, amount_cents=60_000_00, per_year=[30_000_00, 30_000_00, 0])
    record = convention(application)
    assert R.convention_years(record) == [call.year, call.year + 1]
    assert [r.year for r in R.open_reports(record, None)] == [call.year, call.year + 1]
    db.session.commit()

    application.decision.amount_per_year = [30_000_00, 30_000_00, 30_000_00]
    db.session.commit()
    assert [r.year for r in R.open_reports(record, None)] == [call.year + 2]
    submitted = db.session.scalar(db.select(Report).filter_by(convention_id=record.id, year=call.year + 1))
    submitted.state = ReportState.SUBMITTED
    db.session.commit()

    application.decision.amount_per_year = [60_000_00, 0, 0]  # a later amendment: 2 years to 0
    db.session.commit()
    assert R.open_reports(record, None) == []
    db.session.commit()
    assert sorted(r.year for r in db.session.scalars(db.select(Report).filter_by(convention_id=record.id))) == [
        call.year, call.year + 1]  # the untouched draft of the last year removed, the submitted one kept
    from aap.models import Event
    assert db.session.scalar(db.select(Event).where(Event.action == "report_closed")).details["year"] == \
        call.year + 2


# --- Validation (the form, next to the field, typed values kept) ---------------------------------

def post_report(client, report, **values):
    data = {"version": str(report.version)}
    data.update(values)
    return client.post_form(f"/suivi/comptes-rendus/{report.id}", data)


@pytest.mark.parametrize("values, field, message", [
    ({"young_count": "-3"}, "young_count", "Saisissez un nombre entier positif ou nul."),
    ({"young_count": "12,5"}, "young_count", "Saisissez un nombre entier, sans virgule"),
    ({"young_count": "10", "young_qpv": "11"}, "young_qpv", "ne peut pas dépasser celui des jeunes accompagnés (10)"),
    ({"young_count": "10", "pair_count": "12"}, "pair_count", "plus de binômes que de jeunes accompagnés (10)"),
    ({"young_count": "10", "age_under_16": "1", "age_16_17": "2", "age_18_25": "3", "age_over_25": "1"},
     "age_over_25", "Les tranches d'âge totalisent 7 jeunes"),
    ({"average_duration_months": "61"}, "average_duration_months", "entre 0 et 60 mois"),
    ({"departements": "ZZ"}, "departements", "Département inconnu"),
    ({"fin_64": "douze"}, "fin_64", "Saisissez un montant en euros"),
])
def test_each_rule_is_shown_next_to_its_field_with_the_typed_value(client, login_as, applicant, report,
                                                                    values, field, message):
    login_as(applicant)
    response = post_report(client, report, **values)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in page
    assert f'id="{field}-messages"' in page
    typed = values[field]
    if field != "departements":
        assert f'value="{typed}"' in page


def test_a_valid_draft_is_saved_in_cents(client, login_as, applicant, report):
    login_as(applicant)
    response = post_report(client, report, young_count="100", fin_64="1 234,50", average_duration_months="7,5")
    assert response.status_code == 303
    db.session.refresh(report)
    assert report.young_count == 100
    assert report.financial["charges"]["64"] == 123450
    assert report.duration == 7.5


# --- Completeness -------------------------------------------------------------------------------

def test_report_completeness_lists_what_is_missing(report):
    anchors = [anchor for anchor, _label in R.missing_report_items(report)]
    assert "young_count" in anchors and "account" in anchors and "fin_74_aap" in anchors
    assert "piece-accounts" in anchors and "piece-activity_report" in anchors
    assert "piece-auditor_report" not in anchors


def test_report_completeness_gap_over_15_percent_needs_an_explanation_both_ways(report):
    filled(report)
    granted = R.granted_budget(report)
    with_pieces_done = [a for a, _ in R.missing_report_items(report) if not a.startswith("piece-")]
    assert with_pieces_done == []
    filled(report, fin_64=int(granted["64"] * 1.16))
    items = dict(R.missing_report_items(report))
    assert "explain_64" in items and "plus de 15 %" in items["explain_64"] and "+16,0 %" in items["explain_64"]
    filled(report, fin_64=int(granted["64"] * 0.84))
    assert "explain_64" in dict(R.missing_report_items(report))
    filled(report, fin_64=int(granted["64"] * 0.86))           # 14 %: nothing to explain
    assert "explain_64" not in dict(R.missing_report_items(report))
    filled(report, fin_64=int(granted["64"] * 0.5), explain_64="Recrutement reporté.")
    assert "explain_64" not in dict(R.missing_report_items(report))


def test_report_completeness_activity_rules_and_the_auditor(report):
    filled(report, age_over_25=6)
    items = dict(R.missing_report_items(report))
    assert "totalisent 101 jeunes" in items["age_over_25"]
    filled(report, age_over_25=5, fin_74_region=200_000_00)   # public grants over 153 000 €
    assert "piece-auditor_report" in dict(R.missing_report_items(report))
    filled(report, fin_74_region=None, audit_subject=True)
    assert "piece-auditor_report" in dict(R.missing_report_items(report))


# --- Pieces ---------------------------------------------------------------------------------------

def test_pieces_are_checked_like_the_applications(client, login_as, applicant, report, app):
    login_as(applicant)
    url = f"/suivi/comptes-rendus/{report.id}/pieces"
    bad = client.post_form(url, {"piece": "accounts", "file": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.pdf")},
                           content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "pas d&#39;un format accepté" in bad.get_data(as_text=True)
    app.config["MAX_FILE_SIZE"] = 100
    big = client.post_form(url, {"piece": "accounts", "file": (io.BytesIO(PDF + b" " * 200), "comptes.pdf")},
                           content_type="multipart/form-data")
    assert big.status_code == 422 and "dépasse la taille autorisée" in big.get_data(as_text=True)
    app.config["MAX_FILE_SIZE"] = 10 * 1024 * 1024
    good = client.post_form(url, {"piece": "accounts", "file": (io.BytesIO(PDF), "comptes.pdf")},
                            content_type="multipart/form-data")
    assert good.status_code == 303
    assert [p.code for p in report.pieces] == ["accounts"]


# --- Submission ----------------------------------------------------------------------------------

def _complete(report, applicant):
    filled(report)
    for code in ("accounts", "activity_report"):
        R.add_report_piece(report, code, _upload(name=f"{code}.pdf"), applicant)


def test_submission_fingerprint_receipt_and_mails(client, login_as, applicant, staff, report):
    _complete(report, applicant)
    login_as(applicant)
    page = client.get(f"/suivi/comptes-rendus/{report.id}/deposer")
    assert "Confirmer le dépôt" in page.get_data(as_text=True)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/deposer")
    assert response.status_code == 303
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED
    assert len(report.fingerprint) == 64 and report.snapshot["fields"]["young_count"] == 100
    mails = db.session.query(OutboxMessage).all()
    member_mail = next(m for m in mails if m.to == applicant.email)
    assert member_mail.attachments[0]["kind"] == "report_receipt"
    assert report.fingerprint in member_mail.body
    assert any(m.to == staff.email for m in mails)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(R.report_receipt_pdf(report))).pages)
    assert f"Accusé de réception du compte rendu annuel {report.year}" in text
    assert report.convention.number in text and "accounts.pdf" in text
    assert report.fingerprint[:20] in text.replace("\n", "")
    again = client.post_form(f"/suivi/comptes-rendus/{report.id}", {"version": str(report.version),
                                                                      "young_count": "5"})
    assert again.status_code == 303
    db.session.refresh(report)
    assert report.young_count == 100          # not editable any more


def test_a_late_report_is_accepted_and_flagged(applicant, report):
    _complete(report, applicant)
    report.due_on = date(2020, 6, 30)
    db.session.commit()
    R.submit_report(report, applicant)
    db.session.commit()
    assert report.state == ReportState.SUBMITTED and report.snapshot["late"] is True


def test_an_incomplete_report_is_refused(applicant, report):
    with pytest.raises(R.ApplicationError) as refusal:
        R.submit_report(report, applicant)
    assert "des éléments manquent" in refusal.value.message


# --- Drafts: conflicts -------------------------------------------------------------------------

def test_two_members_changing_the_same_field_differently_is_a_conflict(applicant, report):
    other = factories.user("applicant", email="collegue@example.org")
    other.association_id = applicant.association_id
    db.session.commit()
    from aap.applications import sections as S
    spec = R.FIELD_BY_NAME["account"]
    base = {"account": S.digest(spec, "")}
    first = R.save_report(report, {"account": "Bilan A"}, applicant, 1, bases=base)
    assert first.saved and report.version == 2
    second = R.save_report(report, {"account": "Bilan B"}, other, 1, bases=base)
    assert second.conflict and "account" in second.conflicts
    assert second.conflicts["account"].theirs == "Bilan A"
    assert report.account == "Bilan A"


def test_autosave_answers_json_with_errors(client, login_as, applicant, report):
    login_as(applicant)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/brouillon",
                                {"version": "1", "young_count": "-1", "mentor_count": "12"})
    assert response.status_code == 422
    assert "young_count" in response.json["errors"] and response.json["version"] == 2
    db.session.refresh(report)
    assert report.mentor_count == 12 and report.young_count is None


# --- Who reads, who fills ------------------------------------------------------------------------

def test_staff_read_only_others_404(client, login_as, applicant, other_applicant, reviewer, staff, report):
    login_as(applicant)
    page = client.get(f"/suivi/dossiers/{report.application.id}").get_data(as_text=True)
    assert "Comptes rendus annuels" in page and f"Remplir le compte rendu {report.year}" in page
    assert 'id="section-form"' in client.get(f"/suivi/comptes-rendus/{report.id}").get_data(as_text=True)
    for user in (other_applicant, reviewer):
        client.post_form("/deconnexion")
        login_as(user)
        assert client.get(f"/suivi/comptes-rendus/{report.id}").status_code == 404
        assert client.post_form(f"/suivi/comptes-rendus/{report.id}/brouillon", {"version": "1"}).status_code == 404
    client.post_form("/deconnexion")
    login_as(staff)
    page = client.get(f"/suivi/comptes-rendus/{report.id}").get_data(as_text=True)
    assert "Activité de l'année" in page and "Nombre de jeunes accompagnés" in page
    assert 'id="section-form"' not in page, page[page.index('id="section-form"') - 300:][:600]
    assert client.post_form(f"/suivi/comptes-rendus/{report.id}/brouillon", {"version": "1"}).status_code == 404
    assert client.post_form(f"/suivi/comptes-rendus/{report.id}",
                            {"version": "1", "young_count": "3"}).status_code == 403


def test_the_section_flags_a_late_report(client, login_as, applicant, report):
    report.due_on = date(2020, 6, 30)
    db.session.commit()
    login_as(applicant)
    with writing():
        page = client.get(f"/suivi/dossiers/{report.application.id}").get_data(as_text=True)
    assert "En retard" in page and "30 juin 2020" in page


def test_a_year_not_over_is_neither_offered_nor_filed(client, login_as, applicant, report):
    """A year's report gives account of the whole year: the section offers it from 1 January of
    that year, and it is filed once the year is over."""
    this_year = timeutil.to_paris(timeutil.now()).year
    _complete(report, applicant)
    report.year = this_year
    db.session.commit()
    with pytest.raises(R.ApplicationError) as refusal:
        R.submit_report(report, applicant)
    assert refusal.value.message == (f"Le compte rendu {this_year} pourra être déposé à partir du 1er janvier "
                                     f"{this_year + 1}, une fois l'année écoulée.")
    report.year = this_year + 1
    db.session.commit()
    login_as(applicant)
    html = client.get(f"/suivi/dossiers/{report.convention.application_id}").get_data(as_text=True)
    assert f"À remplir à partir du 1er janvier {this_year + 1}" in html
    assert f"Remplir le compte rendu {this_year + 1}" not in html


def test_after_submission_no_upload_hint_and_delete_is_spaced_from_replace(client, login_as, applicant, staff,
                                                                            report):
    """While the report is editable, each uploaded piece's « Supprimer » form has a bottom margin so
    that the button does not touch the « Remplacer le fichier » field below; once submitted, nobody
    reads the accepted formats of upload fields that are gone."""
    _complete(report, applicant)
    db.session.commit()
    login_as(applicant)
    page = client.get(f"/suivi/comptes-rendus/{report.id}").get_data(as_text=True)
    assert "Formats acceptés : PDF" in page
    piece = next(p for p in report.pieces if p.code == "accounts")
    delete_form = page.split(f'/pieces/{piece.id}/supprimer"')[1].split(">")[0]
    assert 'class="fr-mb-3w"' in delete_form
    R.submit_report(report, applicant)
    db.session.commit()
    for user in (applicant, staff):
        client.post_form("/deconnexion")
        login_as(user)
        page = client.get(f"/suivi/comptes-rendus/{report.id}").get_data(as_text=True)
        assert "accounts.pdf" in page and "Formats acceptés" not in page
        assert "Remplacer le fichier" not in page and "/supprimer" not in page
