"""The follow-up settings of a call (fieldset « Suivi après la décision » of the call form): the
delays of the convention's reminder and of the yearly reports, checked on the server."""
import pytest

from aap.calls import services
from aap.extensions import db
from aap.models import Call

from . import factories
from .test_calls import call_form


def test_a_new_call_gets_the_default_delays(client, staff, login_as):
    login_as(staff)
    page = client.get("/instruction/appels/nouveau").get_data(as_text=True)
    assert "Suivi après la décision" in page
    assert 'name="convention_reminder_days"' in page and 'value="15"' in page
    assert client.post_form("/instruction/appels/nouveau", call_form()).status_code == 302
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2027"))
    assert (call.convention_reminder_days, call.report_due_months, call.report_reminder_days) == (15, 6, 30)


def test_saving_the_call_form_stores_the_delays(client, staff, login_as):
    call = factories.call(slug="aap-2026", status="draft")
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    assert 'id="report_due_months"' in page
    response = client.post_form(f"/instruction/appels/{call.id}", call_form(
        slug="aap-2026", convention_reminder_days="21", report_due_months="3", report_reminder_days="0"))
    assert response.status_code == 302
    db.session.refresh(call)
    assert (call.convention_reminder_days, call.report_due_months, call.report_reminder_days) == (21, 3, 0)
    page = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    assert 'value="21"' in page and 'value="3"' in page
    # An empty field keeps its value.
    response = client.post_form(f"/instruction/appels/{call.id}", call_form(slug="aap-2026", report_due_months=""))
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.report_due_months == 3


@pytest.mark.parametrize("field, value, message", [
    ("convention_reminder_days", "0", "Le délai avant la relance va de 1 à 180 jours."),
    ("convention_reminder_days", "181", "Le délai avant la relance va de 1 à 180 jours."),
    ("report_due_months", "13", "Le délai de remise du compte rendu va de 1 à 12 mois"),
    ("report_due_months", "0", "Le délai de remise du compte rendu va de 1 à 12 mois"),
    ("report_reminder_days", "-1", "Le rappel avant l&#39;échéance va de 0 à 180 jours."),
    ("report_reminder_days", "deux", "Saisissez un nombre entier."),
])
def test_out_of_range_delays_are_refused_next_to_the_field(client, staff, login_as, field, value, message):
    call = factories.call(slug="aap-2026", status="draft")
    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}",
                                call_form(slug="aap-2026", title="Titre changé", **{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    group = page.split(f'id="{field}-messages"')[1].split("</div>")[0]
    assert message in group
    assert f'value="{value}"' in page and 'value="Titre changé"' in page  # what was typed is kept
    db.session.refresh(call)
    assert call.title != "Titre changé"
    assert (call.convention_reminder_days, call.report_due_months, call.report_reminder_days) == (15, 6, 30)


def test_the_service_refuses_the_same_values(staff):
    call = factories.call(slug="aap-2026", status="draft")
    with pytest.raises(services.CallError) as refusal:
        services.update_call(call, staff, report_due_months=24)
    assert refusal.value.errors == {"report_due_months": services.FOLLOWUP_SETTINGS["report_due_months"][3]}
    services.update_call(call, staff, report_due_months=12)
    assert call.report_due_months == 12


@pytest.mark.parametrize("months, words", [(6, "Dans les six mois suivant"), (3, "Dans les trois mois suivant"),
                                           (1, "Dans le mois suivant")])
def test_the_decision_mails_say_the_calls_delay_for_the_reports(app, staff, months, words):
    """The « retenu » mail (the call's wording, {delai_compte_rendu}) and the mail of a file
    selected from the waiting list say the call's report_due_months; 6 reads as before."""
    from aap.calls import mail_templates as M
    from aap.selection import amendments

    from . import factories_documents as fd
    call = factories.call(slug=f"aap-delai-{months}", report_due_months=months)
    application = fd.winner(call, amount_cents=40_000_00)
    wording = M.wordings(call)[M.SELECTED]
    assert not wording.edited and "{delai_compte_rendu}" in wording.body
    _subject, body = M.compose(wording, M.values_for(call, application, application.association, "https://x",
                                                     application.decision))
    assert (f"3. {words} la fin de chaque exercice, vous devrez transmettre le compte rendu financier (Cerfa n° "
            f"15059)") in body
    assert "{delai_compte_rendu}" not in body

    waiting = fd.winner(call, name="Liste d'attente", amount_cents=None, outcome="waitlisted",
                        requested_cents=30_000_00, requested_per_year=[30_000_00])
    member = factories.user("applicant", f"membre-{months}@example.org")
    member.association = waiting.association
    db.session.commit()
    amendments.promote(waiting, staff, 30_000_00)
    mail = factories.last_mail_to(member.email)
    assert f"3. {words} la fin de chaque exercice" in mail.body
