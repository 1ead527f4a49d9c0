"""Issue 15, points 12 to 14: the preview of a draft call reads as once published, weights with a
decimal comma; the ranking's numbers, headers and budget panel; unique development mail files."""
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest

from aap import timeutil
from aap.extensions import db
from aap.mail import deliver_pending, mail_file_name
from aap.selection.views import short_labels

from . import factories
from . import factories_selection as fs

# --- 12. the preview of a draft call -----------------------------------------------------------

def draft_call(opens_in_days, closes_in_days, slug="aap-brouillon"):
    call = factories.call(slug=slug, status="draft", opens_in_days=opens_in_days, closes_in_days=closes_in_days)
    call.criteria[0].weight = Decimal("1.5")
    call.criteria[1].weight = Decimal("2")
    call.criteria[2].weight = Decimal("2")
    db.session.commit()
    return call


def preview(client, call):
    return unescape(client.get(f"/appels/{call.slug}").get_data(as_text=True))


def test_a_draft_opening_later_reads_as_upcoming_not_closed(client, login_as, staff):
    call = draft_call(opens_in_days=40, closes_in_days=100)
    login_as(staff)
    html = preview(client, call)
    assert "Aperçu : cet appel à projets est en brouillon" in html
    assert "telle que les associations la liront une fois l'appel publié" in html
    assert f"Le dépôt des candidatures ouvrira le {timeutil.format_datetime(call.opens_at)}" in html
    assert "est clos depuis" not in html
    assert re.search(r'id="etat-appel">À venir<', html)


def test_a_draft_whose_dates_are_running_reads_as_open(client, login_as, staff):
    call = draft_call(opens_in_days=-1, closes_in_days=3)
    login_as(staff)
    html = preview(client, call)
    assert re.search(r'id="etat-appel">Ouvert<', html)
    assert "Clôture dans moins de 7 jours" in html
    assert "est clos depuis" not in html and "ouvrira le" not in html


def test_a_draft_whose_deadline_has_passed_reads_as_closed(client, login_as, staff):
    call = draft_call(opens_in_days=-30, closes_in_days=-1)
    login_as(staff)
    assert "Le dépôt des candidatures est clos depuis" in preview(client, call)


def test_weights_are_shown_with_a_decimal_comma(client, login_as, staff):
    call = draft_call(opens_in_days=40, closes_in_days=100)
    login_as(staff)
    html = preview(client, call)
    assert "1,5 (27\u00a0%)" in html and "2 (36\u00a0%)" in html
    assert "1.5" not in html
    criteria = unescape(client.get(f"/instruction/appels/{call.id}/criteres").get_data(as_text=True))
    assert "poids total actuel : 5,5)" in criteria and 'value="1,5"' in criteria and "1.5" not in criteria


# --- 13. the ranking ------------------------------------------------------------------------------

@pytest.fixture
def ranked(app, staff):
    call = factories.call(slug="aap-classement", budget_cents=5_000_000_00, reviewers_per_file=2)
    ev1, ev2 = fs.reviewers(2)
    big = fs.file(call, "Grand Réseau", requested_cents=166_232_00, young_count=66_232)
    fs.review(big, ev1, [5, 4, 4], proposed_cents=100_000_00)
    fs.review(big, ev2, [4, 4, 4], proposed_cents=100_000_51)  # mean 100 000,255 €: shown to the euro
    small = fs.file(call, "Petit Pas", requested_cents=20_000_50)
    fs.review(small, ev1, [2, 2, 2], proposed_cents=15_000_00)
    from aap.selection import services
    with app.test_request_context():
        services.set_decision(big, "selected", staff, amount_cents=120_000_00)
    return call


def test_ranking_numbers_headers_and_budget_panel(client, login_as, staff, ranked):
    login_as(staff)
    html = client.get(f"/selection/appels/{ranked.id}").get_data(as_text=True)
    text = unescape(html)
    # Amounts: thousands separated, no cents when whole, cents kept when there are some.
    assert "166\u202f232\u00a0€" in text and "120\u202f000\u00a0€" in text and "20\u202f000,50\u00a0€" in text
    assert "100\u202f000\u00a0€" in text  # the mean of the proposals, to the euro
    assert ",00\u00a0€" not in text and "100\u202f000,2" not in text
    # Counts: thousands separated in the budget panel.
    assert "<strong>66\u202f232</strong>" in text and "66232" not in text
    # Column headers: abbreviations with the full label in a title, never cut.
    assert ('<abbr title="Capacité à toucher les jeunes les plus éloignés (poids 1)">Capacité</abbr> /5' in text)
    assert '<abbr title="Solidité structurelle (poids 1)">Solidité</abbr>' in text
    assert "…" not in text.split("<thead>")[1].split("</thead>")[0]
    # The budget panel: collapsed, its summary line gives the figures that matter.
    details = text.split('<details class="aap-budget-details')[1].split("</details>")[0]
    assert ("<summary>Budget et territoires : accordé <strong>120\u202f000\u00a0€</strong> "
            "sur 5\u202f000\u202f000\u00a0€") in details
    assert 'id="budget"' in details
    assert text.index("</details>") < text.index('id="decision-lot"')


def test_short_labels():
    assert short_labels(["Solidité structurelle", "Capacité à toucher les jeunes", "Impact"]) == [
        "Solidité", "Capacité", "Impact"]
    # Two criteria starting alike: numbered; a very long first word too.
    assert short_labels(["Qualité du projet", "Qualité de l'équipe", "Anticonstitutionnellement utile"]) == [
        "C1", "C2", "C3"]


# --- 14. development mail files -------------------------------------------------------------------

def test_mail_files_have_unique_names_not_the_outbox_number(app, tmp_path):
    """Two servers (two databases, one instance/mail folder) each have an outbox message n° 1:
    both files are kept."""
    app.config.update(MAIL_BACKEND="file", MAIL_FOLDER=str(tmp_path / "mail"))
    first = outbox_message("Message du premier serveur")
    assert deliver_pending() == (1, 0)
    number = first.id
    db.session.delete(first)
    db.session.commit()
    outbox_message("Message du second serveur", id=number)  # the other database's message n° 1
    assert deliver_pending() == (1, 0)
    files = sorted(Path(app.config["MAIL_FOLDER"]).glob("*.eml"))
    assert len(files) == 2
    assert sorted("premier" in f.read_text() for f in files) == [False, True]
    assert all(f.name != f"{number:06d}.eml" and not re.fullmatch(r"\d+\.eml", f.name) for f in files)


def outbox_message(subject, **fields):
    from aap.models import OutboxMessage
    message = OutboxMessage(to="lea@example.org", subject=subject, body=subject, kind="test", attachments=[],
                            next_attempt_at=timeutil.now() - timedelta(seconds=1), **fields)
    db.session.add(message)
    db.session.commit()
    return message


def test_mail_file_name():
    moment = timeutil.now()
    names = {mail_file_name(7, moment) for _ in range(50)}
    assert len(names) == 50
    name = names.pop()
    assert re.fullmatch(r"\d{8}T\d{12}Z-000007-[0-9a-f]{12}\.eml", name)
    assert name.startswith(moment.strftime("%Y%m%dT%H%M%S"))
