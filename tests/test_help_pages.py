"""Help for applicants (issue 19 §5): a help page per call (the FAQ staff write, sanitised, and the
service's contact: the receipt's settings), the general « Aide et contact » page and the
« Mentions légales », reachable without an account, linked from the footer of every page and from
the association's file pages."""
import html

import pytest

from aap.calls import services as call_services
from aap.calls.contact import SERVICE_DEFAULTS
from aap.calls.help import DEFAULT_FAQ

from . import factories

FOOTER_LINKS = ("/mentions-legales", "/aide", "/accessibilite", "/donnees-personnelles")


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _footer(page):
    return page[page.index('<footer'):]


def test_the_call_help_page_shows_its_faq_and_its_service_contact_to_anyone(client, call):
    call.service_email, call.service_phone = "aide-aap@jeunesse.example.gouv.fr", "01 23 45 67 89"
    call.service_address = "12 rue de l'Exemple\n75007 Paris"
    response = client.get(f"/appels/{call.slug}/aide")
    assert response.status_code == 200
    page = _text(response)
    assert "Questions fréquentes" in page and "Jusqu'à quand puis-je déposer ?" in page  # the default FAQ
    contact = page[page.index('id="contact"'):]
    assert "aide-aap@jeunesse.example.gouv.fr" in contact and "01 23 45 67 89" in contact
    assert "12 rue de l'Exemple<br>75007 Paris" in contact and SERVICE_DEFAULTS["service_name"] in contact
    assert f'href="/appels/{call.slug}/aide"' in _text(client.get(f"/appels/{call.slug}"))


def test_a_draft_call_has_no_public_help_page(client):
    draft = factories.call(slug="aap-brouillon", status="draft")
    assert client.get(f"/appels/{draft.slug}/aide").status_code == 404


def test_the_general_help_page_lists_the_calls_and_the_contact_without_an_account(client, call):
    factories.call(slug="aap-brouillon", status="draft")
    page = _text(client.get("/aide"))
    assert f'href="/appels/{call.slug}/aide"' in page and "/appels/aap-brouillon/aide" not in page
    assert SERVICE_DEFAULTS["service_email"] in page and SERVICE_DEFAULTS["service_phone"] in page


def test_the_legal_notice(app, client):
    app.config["AAP_HOSTING"] = "Hébergeur Exemple SAS, 1 quai du Nuage, 59000 Lille"
    page = _text(client.get("/mentions-legales"))
    for heading in ("Éditeur", "Directeur de la publication", "Hébergeur", "Données personnelles", "Accessibilité"):
        assert f">{heading}</h2>" in page
    assert "Hébergeur Exemple SAS, 1 quai du Nuage, 59000 Lille" in page
    assert "(DJEPVA)" in page
    main = page[:page.index("<footer")]
    assert 'href="/donnees-personnelles"' in main and 'href="/accessibilite"' in main


@pytest.mark.parametrize("who", ["anonymous", "applicant", "staff", "reviewer"])
def test_every_page_layout_has_the_footer_links(login_as, client, who, applicant, staff, reviewer, own_file):
    if who != "anonymous":
        login_as({"applicant": applicant, "staff": staff, "reviewer": reviewer}[who])
    urls = {"anonymous": ["/", "/connexion", "/appels", "/page-qui-n-existe-pas"],
            "applicant": ["/tableau-de-bord", f"/candidatures/{own_file.id}"],
            "staff": ["/tableau-de-bord", "/instruction/appels"],
            "reviewer": ["/tableau-de-bord"]}[who]
    for url in urls:
        footer = _footer(_text(client.get(url)))
        for link in FOOTER_LINKS:
            assert f'href="{link}"' in footer, (url, link)
        assert "Mentions légales" in footer and "Aide et contact" in footer


def test_the_association_file_pages_link_to_the_call_help(login_as, applicant, staff, own_file, call):
    client = login_as(applicant)
    link = f'href="/appels/{call.slug}/aide"'
    assert link in _text(client.get(f"/candidatures/{own_file.id}"))
    assert link in _text(client.get(f"/candidatures/{own_file.id}/imprimer"))


def test_the_faq_written_by_staff_is_sanitised(app, client, call, staff):
    call_services.update_call(call, staff, faq=(
        "## Puis-je joindre une vidéo ?\n\nNon. <script>alert('faq')</script>\n\n"
        "[Cliquez](javascript:alert(1)) <img src=x onerror=\"alert(2)\"> "
        "<a href=\"https://exemple.gouv.fr\" onclick=\"alert(3)\">site</a>"))
    assert call.faq.startswith("## Puis-je joindre une vidéo ?")
    page = client.get(f"/appels/{call.slug}/aide").get_data(as_text=True)
    faq = page[page.index('id="faq"'):page.index('id="contact"')]
    assert "<h3>Puis-je joindre une vidéo ?</h3>" in faq  # under the page's « Questions fréquentes »
    assert "<script" not in faq and "javascript:" not in faq and "onerror" not in faq and "onclick" not in faq
    assert "<img" not in faq and 'href="https://exemple.gouv.fr"' in faq
    assert "Jusqu'à quand" not in html.unescape(faq)  # the call's own FAQ replaces the default


def test_the_call_form_has_the_faq_with_the_default_text(login_as, staff, call):
    client = login_as(staff)
    page = _text(client.get(f"/instruction/appels/{call.id}"))
    assert "Aide aux candidats" in page and 'name="faq"' in page
    assert DEFAULT_FAQ.splitlines()[0] in page and f"/appels/{call.slug}/aide" in page
