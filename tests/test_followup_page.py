"""The follow-up page of one winning file (/suivi/dossiers/<id>): its sections in a number of
queries that does not grow with the convention's years, payment lines, reports or documents, and
what each role reads there."""
import pytest

from aap.extensions import db
from aap.followup import payments, reports
from aap.models.followup import ConventionState, ReportState

from . import factories, factories_followup
from .conftest import count_queries

STAFF_ONLY = ("Mettre en paiement", "Résilier la convention", "Établir un avenant", "Actions sur les versements")


def in_force(call, applicant, years_amounts):
    """The applicant's winning file of `call`, its convention in force with its payment lines and
    its reports (the first one deposited)."""
    application, convention = factories_followup.winner_convention(
        call, ConventionState.IN_FORCE, association_record=applicant.association,
        amount_cents=sum(years_amounts), per_year=years_amounts)
    payments.plan_payments(convention, None)
    opened = reports.open_reports(convention, None)
    opened[0].state = ReportState.SUBMITTED
    db.session.commit()
    return application


def as_user(client, login_as, user):
    """Sign out whoever is signed in, then sign in as `user`."""
    client.post_form("/deconnexion", {})
    login_as(user)


def page_queries(client, application):
    with count_queries() as queries:
        response = client.get(f"/suivi/dossiers/{application.id}")
    assert response.status_code == 200
    return queries(), response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["applicant", "staff"])
def test_the_page_costs_the_same_queries_for_one_year_or_three(app, client, login_as, applicant, staff, who):
    one_year = in_force(factories.call(slug="aap-un-an", year=2025, years=1), applicant, [40_000_00])
    other = factories.user("applicant", "trois-ans@example.org", association_name="Trois Ans")
    factories.complete_identity(other.association)
    three_years = in_force(factories.call(slug="aap-trois-ans", year=2025, years=3), other,
                           [30_000_00, 30_000_00, 30_000_00])
    if who == "applicant":
        login_as(applicant)
        small, small_html = page_queries(client, one_year)
        as_user(client, login_as, other)
        large, large_html = page_queries(client, three_years)
    else:
        login_as(staff)
        small, small_html = page_queries(client, one_year)
        large, large_html = page_queries(client, three_years)
    assert "Compte rendu 2027" in large_html and "Compte rendu 2027" not in small_html
    assert large_html.count("Solde 20") > small_html.count("Solde 20")
    assert large == small, (small, large)


def test_each_role_reads_its_own_side(app, client, login_as, applicant, other_applicant, reviewer, staff, call):
    application = in_force(call, applicant, [40_000_00])
    url = f"/suivi/dossiers/{application.id}"

    login_as(applicant)
    member_page = client.get(url).get_data(as_text=True)
    assert "En vigueur" in member_page and "Versements" in member_page and "Comptes rendus annuels" in member_page
    assert not [label for label in STAFF_ONLY if label in member_page]

    as_user(client, login_as, staff)
    staff_page = client.get(url).get_data(as_text=True)
    assert [label for label in STAFF_ONLY if label in staff_page]

    for person in (other_applicant, reviewer):
        as_user(client, login_as, person)
        assert client.get(url).status_code == 404
    client.post_form("/deconnexion", {})
    assert client.get(url).status_code == 302
