"""Managing the team (issue 15, point 11): admins deactivate and reactivate accounts, change
roles, resend or cancel invitations and see the last login; associations remove members, cancel
invitations and hand over the legal representative role. Every action goes through a page that
says what will happen, then a POST; each is recorded."""
import re

import pytest

from aap import timeutil
from aap.extensions import db
from aap.models import Assignment, Event, Review, User
from aap.review import assignment

from . import factories
from . import factories_applications as fa
from .conftest import login
from .test_auth import NEW_PASSWORD, link_in, location, text


def confirmation(page):
    match = re.search(r'<input[^>]*name="confirmation"[^>]*>', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:3000]
    return re.search(r'value="([0-9a-f]*)"', match.group(0)).group(1)


def confirm(client, url, **data):
    """Open the confirmation page, then post its form."""
    page = client.get(url)
    assert page.status_code == 200
    return client.post_form(url, dict(data, confirmation=confirmation(page)))


def events(action):
    return db.session.scalars(db.select(Event).where(Event.action == action).order_by(Event.id)).all()


def file_in_review(call, association_user, reviewers, staff, title="Projet"):
    """A submitted file of `association_user`, admissible, assigned to `reviewers`."""
    application = fa.complete_draft(call, association_user, title=title)
    fa.submit_now(application, association_user)
    application.status = "admissible"
    db.session.commit()
    for reviewer in reviewers:
        assignment.assign(application, reviewer, staff)
    return application


@pytest.fixture
def call(app):
    return factories.call(slug="aap-equipe", avoid_same_region=False)


# --- deactivation and reactivation ------------------------------------------------------------

def test_deactivating_a_reviewer_ends_sessions_frees_pending_reviews_and_reactivates(
        app, client, admin, staff, reviewer, applicant, other_applicant, call):
    other_reviewer = factories.user("reviewer", "autre-eval@example.org", region_code="84")
    pending = file_in_review(call, applicant, [reviewer, other_reviewer], staff, title="Projet A")
    factories.complete_identity(other_applicant.association, departement="35", region="53")
    done = file_in_review(call, other_applicant, [reviewer], staff, title="Projet B")
    draft = Review(application_id=pending.id, reviewer_id=reviewer.id, status="draft", comment="En cours")
    db.session.add(draft)
    db.session.commit()
    from .factories_documents import review as submitted_review
    submitted_review(done, reviewer, [c.scale_max for c in call.criteria])

    # The reviewer is signed in somewhere; a copy of the session cookie is kept.
    reviewer_client = app.test_client()
    login(reviewer_client, reviewer)
    copied = app.test_client()
    copied.set_cookie("session", reviewer_client.get_cookie("session").value)
    assert copied.get("/tableau-de-bord").status_code == 200

    login(client, admin)
    team = text(client.get("/equipe/inviter"))
    assert reviewer.full_name in team and "Désactiver" in team
    url = f"/equipe/comptes/{reviewer.id}/desactiver"
    page = text(client.get(url))
    # The warning lists the file whose review is not sent (not the one already reviewed).
    assert "1 dossier à réaffecter" in page and pending.reference in page and done.reference not in page
    assert "brouillon commencé" in page and "ses sessions ouvertes sont fermées" in page

    response = confirm(client, url)
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, reviewer.id).active
    # Sessions ended everywhere: the copied cookie no longer works, nor does a new login.
    assert location(copied.get("/tableau-de-bord")) == "/connexion"
    assert location(reviewer_client.get("/tableau-de-bord")) == "/connexion"
    refused = app.test_client().post_form("/connexion", {"email": reviewer.email, "password": factories.PASSWORD})
    assert refused.status_code == 200
    # Pending assignment freed (with its draft); the submitted review and its assignment stay.
    assert db.session.scalar(db.select(Assignment).where(
        Assignment.reviewer_id == reviewer.id, Assignment.application_id == pending.id)) is None
    assert db.session.get(Review, draft.id) is None
    assert db.session.scalar(db.select(Review).where(Review.application_id == done.id)).status == "submitted"
    # The file shows among those lacking reviewers.
    board = text(client.get(f"/instruction/appels/{call.id}/affectations?filtre=a-completer"))
    assert pending.reference in board
    flashed = text(client.get("/equipe/inviter"))
    assert "Désactivé" in flashed
    event = events("user_deactivated")[-1]
    assert event.actor_id == admin.id and event.details["freed"] == [pending.reference]
    journal = text(client.get("/administration/journal?action=user_deactivated"))
    assert "Compte désactivé" in journal and pending.reference in journal

    # Reactivation: the reviewer signs in again; no file comes back by itself.
    url = f"/equipe/comptes/{reviewer.id}/reactiver"
    assert "pourra de nouveau se connecter" in text(client.get(url))
    assert confirm(client, url).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, reviewer.id).active
    login(app.test_client(), reviewer)
    assert events("user_reactivated")[-1].details["user_id"] == reviewer.id


def test_a_stale_confirmation_is_refused(client, admin, staff, reviewer, applicant, call):
    login(client, admin)
    url = f"/equipe/comptes/{reviewer.id}/desactiver"
    token = confirmation(client.get(url))
    file_in_review(call, applicant, [reviewer], staff)  # a file assigned after the page was shown
    response = client.post_form(url, {"confirmation": token})
    assert response.status_code == 409 and "La situation a changé" in text(response)
    db.session.expire_all()
    assert db.session.get(User, reviewer.id).active
    assert client.post_form(url, {}).status_code == 409


def test_only_admins_manage_accounts(client, staff, reviewer):
    login(client, staff)
    assert client.get(f"/equipe/comptes/{reviewer.id}/desactiver").status_code == 403
    assert client.get(f"/equipe/comptes/{reviewer.id}/role").status_code == 403
    assert "Désactiver" not in text(client.get("/equipe/inviter"))


def test_an_association_member_is_not_a_team_account(client, admin, applicant):
    login(client, admin)
    assert client.get(f"/equipe/comptes/{applicant.id}/desactiver").status_code == 404
    assert client.get(f"/equipe/comptes/{applicant.id}/role").status_code == 404


# --- roles ------------------------------------------------------------------------------------

def test_changing_a_role_ends_sessions_and_frees_a_reviewers_files(app, client, admin, staff, reviewer, applicant,
                                                                     call):
    application = file_in_review(call, applicant, [reviewer], staff)
    reviewer_client = app.test_client()
    login(reviewer_client, reviewer)
    login(client, admin)
    url = f"/equipe/comptes/{reviewer.id}/role"
    page = text(client.get(url))
    assert "Ses sessions ouvertes sont fermées" in page and application.reference in page
    response = confirm(client, url, role="staff")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, reviewer.id).role == "staff"
    assert location(reviewer_client.get("/tableau-de-bord")) == "/connexion"
    assert db.session.get(type(application), application.id).status == "admissible"  # nobody left on it
    event = events("user_role_changed")[-1]
    assert (event.details["old_role"], event.details["role"]) == ("reviewer", "staff")
    assert "Instructeur DJEPVA" in text(client.get("/equipe/inviter"))


def test_the_last_active_admin_can_neither_demote_nor_deactivate_themself(client, admin):
    login(client, admin)
    for url in (f"/equipe/comptes/{admin.id}/desactiver", f"/equipe/comptes/{admin.id}/role"):
        page = text(client.get(url))
        assert "dernier administrateur actif" in page and 'name="confirmation"' not in page
    response = client.post_form(f"/equipe/comptes/{admin.id}/role",
                                {"role": "staff", "confirmation": "x"})
    assert response.status_code in (409, 422)
    from aap.auth import team
    with pytest.raises(team.TeamError, match="dernier administrateur"):
        team.change_role(admin, admin, "staff", team.fingerprint(admin))
    with pytest.raises(team.TeamError, match="dernier administrateur"):
        team.deactivate(admin, admin, team.fingerprint(admin))
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin" and db.session.get(User, admin.id).active

    # With a second admin, one may step down (and is signed out at once).
    factories.user("admin", "admin2@example.org")
    assert confirm(client, f"/equipe/comptes/{admin.id}/role", role="staff").status_code == 302
    assert location(client.get("/equipe/inviter")) == "/connexion"


# --- invitations ------------------------------------------------------------------------------

def invite(client, email="marc@example.org", role="reviewer"):
    response = client.post_form("/equipe/inviter", {"first_name": "Marc", "last_name": "Roux", "email": email,
                                                    "role": role, "region_code": ""})
    assert response.status_code == 302
    return db.session.scalar(db.select(User).where(User.email == email))


def test_resend_makes_a_new_link_and_voids_the_old_one(app, client, staff):
    login(client, staff)
    invited = invite(client)
    old_link = link_in(factories.last_mail_to(invited.email))
    team = text(client.get("/equipe/inviter"))
    assert "Renvoyer l'invitation" in team and "Annuler l'invitation" in team
    url = f"/equipe/comptes/{invited.id}/invitation/renvoyer"
    assert "Le lien envoyé précédemment ne fonctionne plus" in text(client.get(url))
    assert confirm(client, url).status_code == 302
    new_link = link_in(factories.last_mail_to(invited.email))
    assert new_link != old_link
    assert events("invitation_resent")[-1].details["invited_user_id"] == invited.id

    guest = app.test_client()
    refused = guest.get(old_link)
    assert refused.status_code == 302 and location(refused) == "/connexion"
    assert "Activer votre compte" in text(guest.get(new_link))
    response = guest.post_form(new_link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert location(response) == "/tableau-de-bord"


def test_resends_share_the_invitation_limit(client, staff):
    login(client, staff)
    invited = invite(client)  # 1 invitation mail
    url = f"/equipe/comptes/{invited.id}/invitation/renvoyer"
    assert confirm(client, url).status_code == 302
    assert confirm(client, url).status_code == 302  # 3 of MAIL_LIMITS["invite"] = (3, 3600)
    response = confirm(client, url)
    assert response.status_code == 422 and "plusieurs fois" in text(response)
    assert len([m for m in factories.outbox() if m.to == invited.email]) == 3


def test_cancel_deletes_the_pending_account_and_its_link(app, client, staff):
    login(client, staff)
    invited = invite(client)
    link = link_in(factories.last_mail_to(invited.email))
    invited_id = invited.id
    url = f"/equipe/comptes/{invited_id}/invitation/annuler"
    assert "le compte en attente est supprimé" in text(client.get(url))
    assert confirm(client, url).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, invited_id) is None
    assert location(app.test_client().get(link)) == "/connexion"
    event = events("invitation_cancelled")[-1]
    assert event.details["email"] == "marc@example.org" and event.actor_id == staff.id
    page = text(client.get("/equipe/inviter"))
    assert "marc@example.org" not in page[page.index('id="equipe"'):]
    invite(client)  # the address may be invited again


def test_staff_cannot_manage_an_admins_invitation(client, admin, staff):
    login(client, admin)
    invited = invite(client, email="chef@example.org", role="admin")
    client.post_form("/deconnexion")
    login(client, staff)
    assert client.get(f"/equipe/comptes/{invited.id}/invitation/annuler").status_code == 404
    assert "Renvoyer l'invitation" not in text(client.get("/equipe/inviter"))


def test_an_active_account_has_no_invitation_to_resend(client, admin, reviewer):
    login(client, admin)
    url = f"/equipe/comptes/{reviewer.id}/invitation/renvoyer"
    assert "pas d'invitation en attente" in text(client.get(url))
    assert client.post_form(url, {"confirmation": confirmation(client.get(f"/equipe/comptes/{reviewer.id}/role"))}
                            ).status_code in (409, 422)


def test_the_team_page_shows_the_last_login(app, client, admin, reviewer):
    login(app.test_client(), reviewer)
    db.session.expire_all()
    at = db.session.get(User, reviewer.id).last_login_at
    assert at is not None
    login(client, admin)
    page = text(client.get("/equipe/inviter"))
    block = page[page.index(f'id="compte-{reviewer.id}"'):]
    assert f"Dernière connexion : {timeutil.format_datetime(at)}" in block[:1500]


# --- the association's members ----------------------------------------------------------------

@pytest.fixture
def colleague(applicant):
    member = User(email="collegue@example.org", role="applicant", first_name="Zoé", last_name="Martin",
                  association_id=applicant.association_id, email_confirmed_at=timeutil.now())
    member.set_password(factories.PASSWORD)
    db.session.add(member)
    db.session.commit()
    return member


def test_a_member_removes_a_colleague_who_loses_access_at_once(app, client, applicant, colleague):
    colleague_client = app.test_client()
    login(colleague_client, colleague)
    login(client, applicant)
    members = text(client.get("/association/membres"))
    assert colleague.full_name in members and "Retirer" in members
    url = f"/association/membres/{colleague.id}/retirer"
    assert "ses sessions ouvertes sont fermées immédiatement" in text(client.get(url))
    response = client.post_form(url)
    assert response.status_code == 302
    assert location(colleague_client.get("/association")) == "/connexion"
    db.session.expire_all()
    removed = db.session.get(User, colleague.id)
    assert not removed.active and removed.association_id == applicant.association_id  # history kept
    mail = factories.last_mail_to(colleague.email)
    assert "vous a retiré de l'association" in mail.body
    page = text(client.get("/association/membres"))
    assert "collegue@example.org a été retiré de l'association" in page
    assert f'id="membre-{colleague.id}"' not in page

    # Invited again, the link reopens the account.
    client.post_form("/association/membres", {"email": colleague.email})
    link = link_in(factories.last_mail_to(colleague.email))
    guest = app.test_client()
    response = guest.post_form(link, {"first_name": "Zoé", "last_name": "Martin", "password": NEW_PASSWORD,
                                      "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, colleague.id).active


def test_the_last_member_cannot_leave_and_another_associations_member_is_404(client, applicant,
                                                                             other_applicant):
    login(client, applicant)
    url = f"/association/membres/{applicant.id}/retirer"
    page = text(client.get(url))
    assert "seul membre de l'association" in page
    assert client.post_form(url).status_code == 422
    db.session.expire_all()
    assert db.session.get(User, applicant.id).active
    assert client.get(f"/association/membres/{other_applicant.id}/retirer").status_code == 404
    assert client.post_form(f"/association/membres/{other_applicant.id}/retirer").status_code == 404
    assert db.session.get(User, other_applicant.id).active


def test_a_member_may_leave_when_not_the_last(client, applicant, colleague):
    login(client, applicant)
    response = client.post_form(f"/association/membres/{applicant.id}/retirer")
    assert response.status_code == 302 and location(response) == "/"
    assert location(client.get("/association")) == "/connexion"


def test_cancelling_a_member_invitation_voids_its_link(app, client, applicant, other_applicant):
    login(client, applicant)
    client.post_form("/association/membres", {"email": "nouvelle@example.org"})
    link = link_in(factories.last_mail_to("nouvelle@example.org"))
    assert app.test_client().get(link).status_code == 200
    page = text(client.get("/association/membres"))
    assert "Annuler l'invitation" in page
    invitation = events("member_invited")[-1]
    url = f"/association/membres/invitations/{invitation.id}/annuler"
    assert "ne fonctionne plus" in text(client.get(url))
    assert client.post_form(url).status_code == 302
    refused = app.test_client().get(link)
    assert refused.status_code == 400 and "annulée" in text(refused)
    page = text(client.get("/association/membres"))
    assert "Invitation de nouvelle@example.org annulée" in page and "Invitations en attente" not in page
    assert client.get(url).status_code == 404  # no longer pending

    # Another association cannot cancel A's invitations.
    client.post_form("/association/membres", {"email": "encore@example.org"})
    invitation = events("member_invited")[-1]
    other = app.test_client()
    login(other, other_applicant)
    assert other.get(f"/association/membres/invitations/{invitation.id}/annuler").status_code == 404
    assert other.post_form(f"/association/membres/invitations/{invitation.id}/annuler").status_code == 404


def test_handing_over_the_legal_representative(client, applicant, colleague, other_applicant):
    association = applicant.association
    association.representative_name, association.representative_function = "Ancien Président", "Président"
    db.session.commit()
    login(client, applicant)
    page = text(client.get("/association/membres/representant"))
    assert "Ancien Président" in page and colleague.full_name in page
    assert other_applicant.email not in page
    response = client.post_form("/association/membres/representant",
                                {"member": str(colleague.id), "function": "Présidente"})
    assert response.status_code == 302
    db.session.expire_all()
    association = db.session.get(type(association), association.id)
    assert (association.representative_name, association.representative_function) == ("Zoé Martin", "Présidente")
    assert db.session.get(User, colleague.id).legal_representative
    assert "Zoé Martin" in factories.last_mail_to(colleague.email).body
    page = text(client.get("/association/membres"))
    assert "Représentant légal" in page and "Zoé Martin est désormais le représentant légal (Présidente)" in page

    # Handed over again: both the previous and the new representative are told.
    response = client.post_form("/association/membres/representant",
                                {"member": str(applicant.id), "function": "Président"})
    assert response.status_code == 302
    assert "Vous vous êtes désigné comme représentant légal" in factories.last_mail_to(applicant.email).body
    to_colleague = factories.last_mail_to(colleague.email).body
    assert f"a désigné {applicant.full_name} comme représentant légal" in to_colleague
    assert "Vous ne l'êtes donc plus" in to_colleague
    db.session.expire_all()
    assert not db.session.get(User, colleague.id).legal_representative
    assert db.session.get(User, applicant.id).legal_representative
    event = events("representative_changed")[-1]
    assert event.details["previous_id"] == colleague.id and event.details["member_id"] == applicant.id

    # Another association's member cannot be chosen.
    response = client.post_form("/association/membres/representant",
                                {"member": str(other_applicant.id), "function": "Président"})
    assert response.status_code == 422
    assert not db.session.get(User, other_applicant.id).legal_representative
