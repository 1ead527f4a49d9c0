def test_home_page_is_french_and_dsfr(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="fr"' in html and "République" in html and "dsfr.min.css" in html


def test_login_lands_on_dashboard(client, applicant, login_as):
    login_as(applicant)
    response = client.get("/tableau-de-bord")
    assert response.status_code == 200
    assert "Réussir Ensemble" in response.get_data(as_text=True)
