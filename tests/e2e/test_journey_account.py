"""The association creates its account in a browser: sign-up, confirmation link, login."""
from .conftest import mail_link


def test_association_signs_up_confirms_and_logs_in(live_app, page):
    base = live_app.url
    page.goto(base + "/")
    page.shots("accueil")
    page.get_by_role("link", name="Créer un compte association").first.click()

    page.locator("#first_name").fill("Inès")
    page.locator("#last_name").fill("Benali")
    page.locator("#email").fill("ines@asso-mentorat.fr")
    page.locator("#password").fill("court")
    page.locator("#password_confirm").fill("court")
    page.locator("#association_name").fill("Mentorat Solidaire")
    page.locator("label[for=accept]").click()
    page.get_by_role("button", name="Créer le compte").click()
    # Refused on the server, with the message next to the field and the typed values kept.
    assert page.locator("#password-messages").inner_text().startswith("Le mot de passe doit comporter au moins 12")
    assert page.locator("#association_name").input_value() == "Mentorat Solidaire"
    page.shots("inscription-erreur")

    page.locator("#password").fill("un mot de passe long")
    page.locator("#password_confirm").fill("un mot de passe long")
    page.get_by_role("button", name="Créer le compte").click()
    page.get_by_text("Vérifiez votre messagerie").first.wait_for()

    link = mail_link(live_app.app, "ines@asso-mentorat.fr", r"http://\S+/inscription/confirmer/\S+")
    page.goto(link)
    page.get_by_text("Votre adresse e-mail est confirmée").wait_for()

    page.locator("#email").fill("ines@asso-mentorat.fr")
    page.locator("#password").fill("un mot de passe long")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Tableau de bord de Mentorat Solidaire").wait_for()
    page.shots("tableau-de-bord")
    assert page.js_errors == []


def test_public_pages_have_no_serious_accessibility_violation(live_app, axe_check):
    for path in ("/", "/connexion", "/inscription", "/mot-de-passe/oublie", "/accessibilite"):
        violations = axe_check(live_app.url + path)
        assert violations == [], (path, violations)
