"""The audit trail: every decision, export and download is recorded (who, when, what), and the
administrators' journal (/administration/journal) shows it in French, filtered and paged, in a
fixed number of queries."""
import html
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aap import events, timeutil
from aap.extensions import db
from aap.main.audit import ACTION_LABELS, PER_PAGE
from aap.models import Event

from . import factories
from . import factories_instruction as fi
from . import factories_security as fs
from . import factories_selection as fsel
from .conftest import count_queries

JOURNAL = "/administration/journal"


def text(response):
    return html.unescape(response.get_data(as_text=True))


def journal_rows(page):
    """[(action code, row text)] of the journal table, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        action = re.search(r'data-action="([^"]+)"', row)
        rows.append((action.group(1) if action else None, html.unescape(re.sub(r"<[^>]+>", " ", row))))
    return rows


def actions_of(**where):
    statement = db.select(Event).order_by(Event.id)
    for key, value in where.items():
        statement = statement.where(getattr(Event, key) == value)
    return db.session.scalars(statement).all()


# --- every decision is recorded -----------------------------------------------------------------

def test_selection_decisions_are_recorded_and_shown(client, login_as, staff, admin):
    call = factories.call(slug="aap-decisions", budget_cents=500_000_00)
    one = fsel.file(call, "Association Une", requested_cents=80_000_00)
    two = fsel.file(call, "Association Deux", requested_cents=60_000_00)
    three = fsel.file(call, "Association Trois", requested_cents=40_000_00)
    login_as(staff)
    base = f"/selection/appels/{call.id}"
    assert client.post_form(f"{base}/dossiers/{one.id}", {"outcome": "selected", "amount": "75 000"}).status_code == 302
    assert client.post_form(f"{base}/decisions/lot", {"outcome": "waitlisted",
                                                      "application_ids": [str(two.id), str(three.id)]}
                            ).status_code == 302
    assert client.post_form(f"{base}/dossiers/{three.id}/annuler").status_code == 302
    assert fsel.publish(client, call).status_code == 302  # through the confirmation page

    drafted = actions_of(action="decision_drafted")
    assert [(e.details["application_id"], e.details["outcome"], e.actor_id, e.call_id) for e in drafted] == [
        (one.id, "selected", staff.id, call.id), (two.id, "waitlisted", staff.id, call.id),
        (three.id, "waitlisted", staff.id, call.id)]
    assert drafted[0].details["amount_cents"] == 75_000_00
    [removed] = actions_of(action="decision_draft_removed")
    assert removed.details["application_id"] == three.id and removed.actor_id == staff.id
    published = actions_of(action="decision_published")
    assert [(e.application_id, e.from_state, e.to_state, e.actor_id) for e in published] == [
        (one.id, "reviewed", "selected", staff.id), (two.id, "reviewed", "waitlisted", staff.id)]
    assert all(e.at is not None for e in drafted + published)

    client.post_form("/deconnexion")
    login_as(admin)
    page = text(client.get(JOURNAL + f"?appel={call.id}"))
    rows = journal_rows(page)
    assert [a for a, _ in rows][:4] == ["decision_published", "decision_published", "decision_draft_removed",
                                        "decision_drafted"]
    published_row = next(r for a, r in rows if a == "decision_published" and one.reference in r)
    assert "Décision publiée" in published_row and "Évalué → Retenu" in published_row
    assert "Retenu" in published_row and "75 000" in published_row.replace("\u202f", " ")
    assert staff.full_name in published_row and staff.email in published_row and call.title in published_row
    # A draft refers to its file by its id in the details: the journal still shows the reference.
    removed_row = next(r for a, r in rows if a == "decision_draft_removed")
    assert "Brouillon de décision supprimé" in removed_row and three.reference in removed_row
    assert f'href="/candidatures/{three.id}"' in page


def test_admissibility_and_piece_requests_are_recorded(client, login_as, staff, admin):
    call = factories.call(slug="aap-recevabilite")
    good = fi.attach_pieces(factories.submitted_file(call, fi.association("Recevable")))
    bad = factories.submitted_file(call, fi.association("Irrecevable"))
    late = factories.submitted_file(call, fi.association("À compléter"))
    login_as(staff)
    assert client.post_form(f"/instruction/dossiers/{good.id}/recevable").status_code == 302
    assert client.post_form(f"/instruction/dossiers/{bad.id}/irrecevable",
                            {"inadmissible_reason": "Dossier déposé par une entreprise",
                             "inadmissible_confirmed": "1"}).status_code == 302
    due = (timeutil.to_paris(timeutil.now()) + timedelta(days=10)).date().isoformat()
    assert client.post_form(f"/instruction/dossiers/{late.id}/demande-pieces",
                            {"piece_items": ["budget"], "piece_message": "Le budget est incomplet.",
                             "piece_due_date": due}).status_code == 302
    records = [(e.application_id, e.action, e.from_state, e.to_state, e.reason, e.actor_id)
               for e in actions_of() if e.action in ("admissibility", "piece_request")]
    assert records == [
        (good.id, "admissibility", "submitted", "admissible", "", staff.id),
        (bad.id, "admissibility", "submitted", "inadmissible", "Dossier déposé par une entreprise", staff.id),
        (late.id, "piece_request", "submitted", "incomplete", "Le budget est incomplet.", staff.id)]

    client.post_form("/deconnexion")
    login_as(admin)
    rows = journal_rows(text(client.get(JOURNAL + "?action=admissibility")))
    assert [a for a, _ in rows] == ["admissibility", "admissibility"]
    assert "Décision de recevabilité" in rows[0][1] and "Déposé → Irrecevable" in rows[0][1]
    assert "Motif : Dossier déposé par une entreprise" in rows[0][1] and bad.reference in rows[0][1]
    assert "Déposé → Recevable" in rows[1][1]


# --- every export and every download is recorded --------------------------------------------------

@pytest.fixture
def world(app):
    return fs.build_world()


def test_exports_are_recorded(app, client, login_as, world):
    call = world.call
    login_as(world.staff)
    before = len(actions_of(action="export"))
    for url in (f"/instruction/appels/{call.id}/export.xlsx", f"/instruction/appels/{call.id}/subventions.csv",
                f"/instruction/appels/{call.id}/resultats.sqlite",
                f"/instruction/travaux/{world.job.id}/conventions.zip"):
        assert client.get(url).status_code == 200, url
    exports = actions_of(action="export")[before:]
    assert [(e.details["format"], e.actor_id, e.call_id) for e in exports] == [
        ("xlsx", world.staff.id, call.id), ("scdl", world.staff.id, call.id), ("opendata", world.staff.id, call.id),
        ("conventions.zip", world.staff.id, call.id)]


def test_command_line_exports_are_recorded(app, world, tmp_path):
    runner = app.test_cli_runner()
    for kind, name in (("xlsx", "c.xlsx"), ("scdl", "s.csv"), ("opendata", "r.sqlite")):
        result = runner.invoke(args=["export", kind, "--call", world.call.slug, "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    exports = [e for e in actions_of(action="export") if e.details.get("source") == "cli"]
    assert [(e.details["format"], e.actor_id, e.call_id, Path(e.details["output"]).name) for e in exports] == [
        ("xlsx", None, world.call.id, "c.xlsx"), ("scdl", None, world.call.id, "s.csv"),
        ("opendata", None, world.call.id, "r.sqlite")]


def test_every_download_is_recorded_whoever_downloads(app, world):
    from .conftest import login
    application = world.application
    urls = {"attachment_downloaded": f"/candidatures/{application.id}/pieces/{world.attachment.id}",
            "receipt_downloaded": f"/candidatures/{application.id}/recepisse.pdf",
            "convention_downloaded": f"/candidatures/{application.id}/convention.pdf"}
    downloaders = {"owner": list(urls), "staff": list(urls), "reviewer_assigned": ["attachment_downloaded"]}
    for persona, actions in downloaders.items():
        client = app.test_client()
        login(client, world.users[persona])
        for action in actions:
            before = len(actions_of(action=action))
            response = client.get(urls[action])
            assert response.status_code == 200, (persona, action)
            new = actions_of(action=action)[before:]
            assert len(new) == 1, (persona, action)
            assert (new[0].actor_id, new[0].application_id, new[0].call_id) == (
                world.users[persona].id, application.id, world.call.id), (persona, action)
            assert new[0].at is not None
    [first] = [e for e in actions_of(action="attachment_downloaded") if e.actor_id == world.owner.id]
    assert first.details["attachment_id"] == world.attachment.id
    assert first.details["name"] == world.attachment.original_name
    # Refused downloads record nothing.
    client = app.test_client()
    login(client, world.other)
    before = len(actions_of())
    for url in urls.values():
        assert client.get(url).status_code == 404
    assert len(actions_of()) == before


def test_downloads_stay_out_of_the_association_timeline(app, world):
    from .conftest import login
    client = app.test_client()
    login(client, world.staff)
    client.get(f"/candidatures/{world.application.id}/recepisse.pdf")
    client.get(f"/candidatures/{world.application.id}/pieces/{world.attachment.id}")
    from aap.applications.history import journal
    assert not {e.action for e in journal(world.application)} & {
        "receipt_downloaded", "attachment_downloaded", "convention_downloaded"}


# --- the journal -------------------------------------------------------------------------------

def test_every_recorded_action_has_a_french_label():
    """Scan the code for the recorded actions: a new one without a label fails here."""
    root = Path(__file__).resolve().parent.parent / "aap"
    found = set()
    pattern = re.compile(r'(?:\brecord|change_state|_record_draft)\(\s*"([a-z_]+)"|\baction="([a-z_]+)"')
    for path in root.rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    assert len(found) >= 40
    assert sorted(found - set(ACTION_LABELS)) == []


def _event(action, at, actor=None, **fields):
    event = events.record(action, actor=actor, **fields)
    event.at = at
    return event


def test_journal_shows_labels_actors_paris_dates_files_and_details(client, login_as, admin, staff):
    call = factories.call(slug="aap-journal")
    association = fi.association("Association du journal")
    application = factories.submitted_file(call, association)
    _event("export", datetime(2026, 1, 15, 8, 30, tzinfo=timezone.utc), staff, call_id=call.id, format="xlsx")
    _event("attachment_downloaded", datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc), staff,
           application=application, attachment_id=1, name="Statuts signés.pdf")
    _event("some_future_action", datetime(2026, 7, 2, 10, 0, tzinfo=timezone.utc))
    _event("call_published", datetime(2026, 7, 3, 10, 0, tzinfo=timezone.utc), staff, call_id=call.id,
           from_state="draft", to_state="published")
    _event("application_submitted", datetime(2026, 7, 4, 10, 0, tzinfo=timezone.utc), staff, application=application,
           from_state="draft", to_state="submitted")
    db.session.commit()
    login_as(admin)
    response = client.get(JOURNAL)
    assert response.status_code == 200
    page = text(response)
    rows = dict((a, r) for a, r in journal_rows(response.get_data(as_text=True)))
    export = rows["export"]
    assert "Export téléchargé" in export and "15 janvier 2026 à 9 h 30" in export  # UTC+1 in winter
    assert "Format : classeur Excel" in export and staff.full_name in export and staff.email in export
    assert call.title in export
    download = rows["attachment_downloaded"]
    assert "Pièce jointe téléchargée" in download and "1er juillet 2026 à 12 h 00" in download  # UTC+2 in summer
    assert application.reference in download and "Fichier : Statuts signés.pdf" in download
    assert call.title in download
    assert "Système" in rows["some_future_action"] and "Some future action" in rows["some_future_action"]
    assert "Appel à projets publié" in rows["call_published"] and "État : brouillon → publié" in rows["call_published"]
    assert "État : Brouillon → Déposé" in rows["application_submitted"]
    assert 'lang="fr"' in page and "Journal des actions" in page


def test_journal_escapes_what_users_typed(client, login_as, admin, applicant):
    _event("message", timeutil.now(), applicant, reason="<script>alert('x')</script>",
           name='<img src=x onerror="alert(1)">', document="=HYPERLINK(\"http://x\")")
    db.session.commit()
    login_as(admin)
    raw = client.get(JOURNAL).get_data(as_text=True)
    assert "<script>alert" not in raw and "<img src=x" not in raw
    assert "&lt;script&gt;alert(" in raw and "&lt;img src=x" in raw


@pytest.fixture
def journal_data(app, staff, admin, reviewer):
    """Events over two calls, three actors and several days (Paris dates at the edges)."""
    first = factories.call(slug="aap-premier")
    second = factories.call(slug="aap-second")
    f1 = factories.submitted_file(first, fi.association("Première"))
    f2 = factories.submitted_file(second, fi.association("Seconde"))
    utc = timezone.utc
    data = {
        # 1 March 2026, 23:30 UTC is 2 March, 00:30 in Paris.
        "late_export": _event("export", datetime(2026, 3, 1, 23, 30, tzinfo=utc), staff, call_id=first.id,
                              format="xlsx"),
        "decision": _event("decision_published", datetime(2026, 3, 1, 12, 0, tzinfo=utc), staff, application=f1,
                           from_state="reviewed", to_state="selected", outcome="selected"),
        "review": _event("review_submitted", datetime(2026, 3, 3, 9, 0, tzinfo=utc), reviewer, application=f2,
                         reviewer_id=reviewer.id, recommendation="favorable"),
        "admin_export": _event("export", datetime(2026, 3, 5, 9, 0, tzinfo=utc), admin, call_id=second.id,
                               format="scdl"),
    }
    db.session.commit()
    return {"first": first, "second": second, **data}


def listed(client, query):
    response = client.get(JOURNAL + query)
    assert response.status_code == 200, query
    return response, {e for e, _ in journal_rows(response.get_data(as_text=True))}, text(response)


def test_journal_filters(client, login_as, admin, journal_data):
    d = journal_data
    login_as(admin)
    ids = lambda *names: {d[n].action for n in names}  # noqa: E731
    _, actions, _ = listed(client, "?action=export")
    assert actions == {"export"}
    response, _, page = listed(client, "?action=export")
    assert len(journal_rows(response.get_data(as_text=True))) == 2
    _, actions, page = listed(client, f"?appel={d['first'].id}")
    assert actions == ids("late_export", "decision")
    _, actions, _ = listed(client, "?acteur=EVALUATEUR@")   # part of the address, any case
    assert actions == ids("review")
    _, actions, _ = listed(client, "?acteur=admin%40example.org&action=export")
    assert actions == {"export"} and "Données ouvertes SCDL (CSV)".lower() in listed(
        client, "?acteur=admin%40example.org&action=export")[2].lower()
    # Dates are days in Paris: the export of 1 March 23:30 UTC is on 2 March.
    _, actions, page = listed(client, "?du=02/03/2026&au=02/03/2026")
    assert actions == {"export"} and "2 mars 2026 à 0 h 30" in page
    _, actions, _ = listed(client, "?au=2026-03-01")
    assert actions == {"decision_published"}
    _, actions, _ = listed(client, "?du=2026-03-03&au=31/03/2026")
    assert actions == {"review_submitted", "export"}
    _, actions, _ = listed(client, "?du=2026-03-03")
    assert actions == {"review_submitted", "export", "login"}  # (the administrator's own login, today)
    response, actions, page = listed(client, f"?du=2026-03-02&au=2026-03-05&appel={d['second'].id}&action=export")
    assert actions == {"export"} and "données ouvertes SCDL" in page and len(
        journal_rows(response.get_data(as_text=True))) == 1
    _, actions, page = listed(client, "?acteur=personne@nulle-part.fr")
    assert actions == {None} and "Aucune action ne correspond à ces critères." in page


@pytest.mark.parametrize("query, message, same_as", [
    ("?du=2026-02-30", "Saisissez une date valide", ""),
    ("?au=demain", "Saisissez une date valide", ""),
    ("?du=2026-03-05&au=2026-03-01", "La date de fin doit être postérieure ou égale à la date de début.",
     "?du=2026-03-05"),
    ("?action=drop_table", "Choisissez une action de la liste.", ""),
    ("?appel=abc", "Choisissez un appel à projets de la liste.", ""),
    ("?appel=999999", "Choisissez un appel à projets de la liste.", ""),
    ("?acteur=" + "x" * 300, "L'adresse ne peut pas dépasser 254 caractères.", ""),
    ("?acteur=" + "x" * 300 + "&action=export", "L'adresse ne peut pas dépasser 254 caractères.", "?action=export"),
])
def test_journal_bad_filters_get_a_french_message_and_keep_what_was_typed(client, login_as, admin, journal_data,
                                                                         query, message, same_as):
    login_as(admin)
    response = client.get(JOURNAL + query)
    assert response.status_code == 200
    page = text(response)
    assert message in page and "Le formulaire contient" in page
    for pair in query[1:].split("&"):
        name, typed = pair.split("=", 1)
        if name in ("du", "au", "acteur"):   # (select fields keep a choice of the list)
            assert f'value="{typed}"' in page
    # The bad filter is left out, the others apply.
    expected = journal_rows(client.get(JOURNAL + same_as).get_data(as_text=True))
    assert same_as or len(expected) == 5  # four events and the administrator's login
    assert journal_rows(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("query", ["?page=abc", "?page=-3", "?page=0", "?page=99999999999999999999",
                                   "?page=2.5", "?_scheme=javascript&_external=1", "?_anchor=x&page=2",
                                   "?du=%00", "?acteur=%25%5F%5C", "?action=%3Cscript%3E"])
def test_journal_odd_queries_never_fail(client, login_as, admin, journal_data, query):
    login_as(admin)
    response = client.get(JOURNAL + query)
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw.split("<main", 1)[-1].replace('<script src', '')
    assert "javascript:" not in raw


def test_journal_pagination_keeps_the_filters(client, login_as, admin, staff):
    start = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)
    for n in range(1, 2 * PER_PAGE + 21):
        _event("export", start + timedelta(minutes=n), staff, format="xlsx", reason=f"Numéro {n:03d}")
    _event("login", start, staff)
    db.session.commit()
    total = 2 * PER_PAGE + 20
    login_as(admin)
    response, _, page = listed(client, "?action=export")
    assert f"{total} actions enregistrées — page 1 sur 3" in page
    numbers = [int(m) for m in re.findall(r"Numéro (\d{3})", page)]
    assert numbers == list(range(total, total - PER_PAGE, -1))
    assert "action=export&amp;page=2" in response.get_data(as_text=True)
    _, _, page = listed(client, "?action=export&page=2")
    assert [int(m) for m in re.findall(r"Numéro (\d{3})", page)] == list(range(total - PER_PAGE, 20, -1))
    _, _, page = listed(client, "?action=export&page=3")
    assert [int(m) for m in re.findall(r"Numéro (\d{3})", page)] == list(range(20, 0, -1))
    _, _, page = listed(client, "?action=export&page=40")   # past the end: the last page
    assert "page 3 sur 3" in page


def _mixed_events(count, calls, applications, people):
    now = timeutil.now()
    for n in range(count):
        kind = n % 4
        call, application, person = calls[n % 2], applications[n % 2], people[n % len(people)]
        if kind == 0:
            _event("export", now, person, call_id=call.id, format="xlsx")
        elif kind == 1:
            _event("attachment_downloaded", now, person, application=application, name=f"piece-{n}.pdf")
        elif kind == 2:
            _event("decision_drafted", now, person, call_id=call.id, application_id=application.id,
                   reference=application.reference, outcome="selected", amount_cents=10_000_00)
        else:
            _event("reviewer_assigned", now, person, application=application,
                   reviewer_ids=[p.id for p in people])
    db.session.commit()


def test_journal_runs_a_fixed_number_of_queries(client, login_as, admin, staff, reviewer):
    calls = [factories.call(slug="aap-un"), factories.call(slug="aap-deux")]
    applications = [factories.submitted_file(c, fi.association(f"Association {c.slug}")) for c in calls]
    people = [staff, reviewer, admin]
    login_as(admin)
    _mixed_events(8, calls, applications, people)
    with count_queries() as few:
        assert client.get(JOURNAL).status_code == 200
    _mixed_events(PER_PAGE * 2, calls, applications, people)
    with count_queries() as many:
        page = client.get(JOURNAL).get_data(as_text=True)
    assert few() == many(), (few(), many())
    assert many() <= 8
    assert len(journal_rows(page)) == PER_PAGE
    with count_queries() as filtered:
        assert client.get(JOURNAL + f"?action=export&appel={calls[0].id}&acteur=agent&du=2020-01-01").status_code == 200
    assert filtered() <= many()
