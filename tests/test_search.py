"""Search across files (issue 19 §1): staff's search box and page /instruction/recherche, on the
full-text index (aap/search) — SQLite FTS5 here, PostgreSQL's tsvector with TEST_DATABASE_URL.

What staff read: the files found, best first, each with the passage where the words are marked;
never a draft, never a reviewer's comment unless they ask for it; and the index follows every
write in the same transaction."""
import re

import pytest
from sqlalchemy import text

from aap.extensions import db
from aap.models import Application, Association, Review
from aap.search import index, queries

from . import factories
from . import factories_review as frv
from . import factories_selection as fsel
from .conftest import count_queries

URL = "/instruction/recherche"


def found(page):
    """The references of the files on a results page, in their order."""
    return re.findall(r'<h3 class="fr-h6 fr-mb-1v"><a class="fr-link" href="[^"]+">([^ <]+) — ', page)


def search(client, q, **filters):
    response = client.get(URL, query_string={"q": q, **filters})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def index_rows(application_id):
    key = "application_id" if db.session.get_bind().dialect.name == "postgresql" else "rowid"
    return db.session.execute(text(f"SELECT reference, title FROM search_index WHERE {key} = :id"),
                              {"id": application_id}).all()


@pytest.fixture
def files(app, call):
    """Three files of the call, in two régions, with words staff may look for."""
    medecin = fsel.file(call, "Tremplin Santé", region="84", reference="1J1M-2026-0001", status="reviewed",
                        title="Mentorat des futurs soignants",
                        summary="Des médecins généralistes accompagnent des lycéens vers les études de santé.")
    orientation = fsel.file(call, "Cap Avenir", region="11", departement="75", reference="1J1M-2026-0002",
                            title="Mentorat d'orientation", summary="Des étudiants mentorent des collégiens.")
    emploi = fsel.file(call, "Passerelles Emploi", region="84", reference="1J1M-2026-0003", status="submitted",
                       title="Tandems vers l'emploi", summary="Des cadres bénévoles et des jeunes diplômés.")
    return {"medecin": medecin, "orientation": orientation, "emploi": emploi}


def test_accents_and_case_are_ignored(login_as, staff, files):
    client = login_as(staff)
    for typed in ("medecin", "médecin", "MÉDECINS", "Medecins"):
        assert found(search(client, typed)) == ["1J1M-2026-0001"], typed


def test_a_word_prefix_is_enough(login_as, staff, files):
    client = login_as(staff)
    assert found(search(client, "médec")) == ["1J1M-2026-0001"]
    assert found(search(client, "colleg")) == ["1J1M-2026-0002"]
    # Every word must be found (a prefix each).
    assert found(search(client, "mentor orient")) == ["1J1M-2026-0002"]
    assert found(search(client, "mentor zzzz")) == []


def test_references_names_and_identifiers(login_as, staff, files):
    client = login_as(staff)
    assert found(search(client, "1J1M-2026-0003")) == ["1J1M-2026-0003"]
    assert found(search(client, "cap avenir")) == ["1J1M-2026-0002"]
    # complete_identity gives each association the same SIRET and RNA: all three are found.
    siret = files["emploi"].association.siret
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert sorted(found(search(client, spaced))) == ["1J1M-2026-0001", "1J1M-2026-0002", "1J1M-2026-0003"]
    assert len(found(search(client, siret[:9]))) == 3            # the SIREN: a prefix of the SIRET
    assert len(found(search(client, files["emploi"].association.rna.lower()))) == 3


def test_results_are_ranked(login_as, staff, call):
    # « mentorat » in the title of one file, once in the text of the other, thrice in a third.
    body_once = fsel.file(call, "Association A", reference="1J1M-2026-0011", title="Tandems", summary="Un mentorat.")
    in_title = fsel.file(call, "Association B", reference="1J1M-2026-0012", title="Mentorat solidaire",
                         summary="Des tandems.")
    client = login_as(staff)
    assert found(search(client, "mentorat")) == [in_title.reference, body_once.reference]
    # The association's name weighs more than a word of the texts.
    named = fsel.file(call, "Mentorat Plus", reference="1J1M-2026-0013", title="Tandems", summary="Des binômes.")
    assert found(search(client, "mentorat"))[0] in (in_title.reference, named.reference)
    assert found(search(client, "mentorat"))[-1] == body_once.reference


def test_the_passage_is_marked_and_escaped(login_as, staff, call):
    fsel.file(call, "Association piégée", reference="1J1M-2026-0021", title='<img src=x onerror=alert(1)>',
              summary='Texte <script>alert("x")</script> puis des médecins bénévoles.')
    page = search(login_as(staff), "medecin")
    assert found(page) == ["1J1M-2026-0021"]
    passage = re.search(r'<p class="fr-text--sm fr-mb-0 aap-search-passage">(.*?)</p>', page, re.S).group(1)
    assert "<mark>médecins</mark>" in passage
    assert "&lt;script&gt;alert(" in passage
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # Nothing typed reaches the query language: quotes, operators, column filters, a lone star.
    client = login_as(staff)
    for typed in ('"', '*', 'médecin"*', 'NEAR(a b)', '{title}: x', 'a OR b', '- ^ :*', 'médecin AND NOT',
                  "é" * 5000, "\x00"):
        response = client.get(URL, query_string={"q": typed})
        assert response.status_code == 200, typed


def test_filters_by_call_state_and_region(login_as, staff, files):
    other_call = factories.call(slug="aap-autre")
    fsel.file(other_call, "Autre Appel", reference="1J1M-2026-0099", title="Mentorat ailleurs")
    client = login_as(staff)
    # « Mentorat individuel » is in every file's forms of mentoring.
    assert len(found(search(client, "mentorat"))) == 4
    assert found(search(client, "mentorat", appel=other_call.id)) == ["1J1M-2026-0099"]
    assert sorted(found(search(client, "mentorat", appel=files["emploi"].call_id))) == [
        "1J1M-2026-0001", "1J1M-2026-0002", "1J1M-2026-0003"]
    assert sorted(found(search(client, "mentorat", region="84"))) == ["1J1M-2026-0001", "1J1M-2026-0003",
                                                                       "1J1M-2026-0099"]
    assert found(search(client, "tandems", etat="submitted")) == ["1J1M-2026-0003"]
    assert found(search(client, "tandems", etat="reviewed")) == []
    assert found(search(client, "mentorat", region="11")) == ["1J1M-2026-0002"]
    # An unknown filter value is ignored, not an error.
    assert len(found(search(client, "mentorat", region="zz", etat="nope", appel="abc"))) == 4


def test_drafts_are_never_found(login_as, staff, call):
    fsel.file(call, "Brouillon Médical", status="draft", title="Mentorat des médecins")
    assert found(search(login_as(staff), "medecin")) == []


def test_reviewers_comments_only_when_asked(login_as, staff, files):
    reviewers = fsel.reviewers(2)
    values = [3] * len(files["orientation"].call.criteria)
    sent = fsel.review(files["orientation"], reviewers[0], values)
    sent.comment = "Le porteur devrait s'appuyer sur un zootechnicien."
    sent.scores[0].comment = "Gouvernance fragile selon le rapporteur."
    draft = fsel.review(files["emploi"], reviewers[1], values, status="draft")
    draft.comment = "Brouillon : zootechnicien à contacter."
    db.session.commit()
    client = login_as(staff)
    assert found(search(client, "zootechnicien")) == []
    assert found(search(client, "rapporteur")) == []
    page = search(client, "zootechnicien", commentaires="y")
    assert found(page) == ["1J1M-2026-0002"]            # never a draft review's comment
    assert "<mark>zootechnicien</mark>" in page
    assert re.search(r'<input[^>]* checked [^>]*name="commentaires"', page)
    assert found(search(client, "rapporteur", commentaires="y")) == ["1J1M-2026-0002"]
    # A word of the file itself: the passage comes from the file, not from the comments.
    page = search(client, "collegiens")
    assert "zootechnicien" not in page


def test_staff_only(client, login_as, applicant, reviewer, staff, admin, files):
    assert client.get(URL, query_string={"q": "medecin"}).status_code == 302   # to the login page
    for user in (applicant, reviewer):
        logged = login_as(user)
        assert logged.get(URL, query_string={"q": "medecin"}).status_code == 403
        assert 'id="header-search"' not in logged.get("/tableau-de-bord").get_data(as_text=True)
        logged.post_form("/deconnexion")
    for user in (staff, admin):
        logged = login_as(user)
        dashboard = logged.get("/tableau-de-bord").get_data(as_text=True)
        assert 'id="header-search"' in dashboard and 'action="/instruction/recherche"' in dashboard
        assert found(search(logged, "medecin")) == ["1J1M-2026-0001"]
        logged.post_form("/deconnexion")


def test_the_index_follows_a_write_in_the_same_transaction(app, files):
    application = files["medecin"]
    assert index_rows(application.id) == [("1J1M-2026-0001", "Mentorat des futurs soignants")]
    application.title = "Mentorat zanzibarite"
    db.session.flush()
    assert [r.id for r in queries.search(queries.Criteria(text="zanzibar")).files] == [application.id]
    db.session.rollback()
    assert index_rows(application.id) == [("1J1M-2026-0001", "Mentorat des futurs soignants")]
    assert queries.search(queries.Criteria(text="zanzibar")).pages.total == 0

    # A new file, flushed then rolled back, leaves no row.
    new = Application(call_id=application.call_id, association=Association(name="Éphémère"), status="submitted",
                      reference="1J1M-2026-0050", title="Passager")
    db.session.add(new)
    db.session.flush()
    new_id = new.id
    assert index_rows(new_id) == [("1J1M-2026-0050", "Passager")]
    db.session.rollback()
    assert index_rows(new_id) == []


def test_the_index_follows_the_association_and_the_reviews(app, files):
    association = db.session.get(Association, files["emploi"].association_id)
    association.name = "Les Bâtisseurs de Ponts"
    db.session.commit()
    assert [a.reference for a in queries.search(queries.Criteria(text="batisseurs")).files] == [
        "1J1M-2026-0003"]
    reviewer = frv.reviewer_user("eval-index@example.org")
    review = fsel.review(files["emploi"], reviewer, [2] * len(files["emploi"].call.criteria), status="draft")
    review.comment = "Partenariat hospitalier solide."
    db.session.commit()
    with_reviews = queries.Criteria(text="hospitalier", with_reviews=True)
    assert queries.search(with_reviews).pages.total == 0
    review.status = "submitted"
    db.session.commit()
    assert queries.search(with_reviews).pages.total == 1
    db.session.delete(db.session.get(Review, review.id))
    db.session.commit()
    assert queries.search(with_reviews).pages.total == 0
    # Back to draft (staff reopen the file): its comments leave the index too.
    files["emploi"].status = "draft"
    db.session.commit()
    assert index_rows(files["emploi"].id) == []


def test_reindex_command_rebuilds_the_index(app, files):
    db.session.execute(text("DELETE FROM search_index"))
    assert queries.search(queries.Criteria(text="medecin")).pages.total == 0
    result = app.test_cli_runner().invoke(args=["search-reindex"])
    assert result.exit_code == 0, result.output
    assert "3 dossiers indexés." in result.output
    assert queries.search(queries.Criteria(text="medecin")).pages.total == 1


def test_paged_in_a_fixed_number_of_queries(login_as, staff, call):
    for n in range(25):
        fsel.file(call, f"Association {n}", reference=f"1J1M-2026-{n + 100:04d}", title=f"Mentorat numéro {n}")
    client = login_as(staff)
    with count_queries() as first_page:
        page = search(client, "mentorat")
    assert "25 dossiers trouvés" in page and len(found(page)) == queries.PER_PAGE
    with count_queries() as second_page:
        page = search(client, "mentorat", page=2)
    assert len(found(page)) == 5 and "page 2 sur 2" in page
    assert first_page() == second_page()
    assert 'href="/instruction/recherche?q=mentorat&amp;page=2"' in search(client, "mentorat")


def test_terms_become_safe_queries():
    assert queries.terms('Médecin "1J1M-2025-0042" x*') == [["médecin"], ["1j1m", "2025", "0042"], ["x"]]
    assert queries.terms("732 829 320 00074") == [["73282932000074"]]
    assert queries.fts5_query([["a", "b"], ["c"]], with_reviews=True) == '"a b"* AND "c"*'
    assert queries.tsquery([["a", "b"], ["c"]]) == "(a <-> b:*) & (c:*)"
    assert queries.terms(" ; -- ") == []
    assert index.words("1J1M-2025-0042, aide-sociale") == "1J1M 2025 0042 aide sociale"


def test_the_full_text_match_leads_the_filtered_queries(app, files):
    """SQLite: with a filter on an indexed column (the call, the région), the planner would
    start from that index and run the full-text query once per file (seconds on 10,000 files);
    the filters are written so that it starts from the full-text index."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("a plan of SQLite's")
    statements = []

    def record(conn, cursor, statement, parameters, *args):
        if "MATCH" in statement and "snippet(" not in statement:
            statements.append((statement, parameters))

    from sqlalchemy import event
    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    call_id = files["medecin"].call_id
    try:
        for filters in ({"call_id": call_id}, {"region": "84"}, {"status": "reviewed"},
                        {"call_id": call_id, "status": "reviewed", "region": "84"}):
            queries.search(queries.Criteria(text="mentorat", **filters))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 8   # the count and the page of each
    for statement, parameters in statements:
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        assert plan[0][3].startswith("SCAN search_index VIRTUAL TABLE"), plan
