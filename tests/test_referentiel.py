import pytest

from aap.referentiel import (
    DEPARTEMENT_BY_CODE,
    DEPARTEMENTS,
    REGION_BY_CODE,
    REGIONS,
    departement_choices,
    departement_for_postal_code,
    departements_of_region,
    region_choices,
    region_of,
)


def test_counts():
    assert len(REGIONS) == 18
    assert len(DEPARTEMENTS) == 101
    assert len(REGION_BY_CODE) == 18
    assert len(DEPARTEMENT_BY_CODE) == 101


def test_departement_codes():
    expected = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    expected |= {"971", "972", "973", "974", "976"}
    assert set(DEPARTEMENT_BY_CODE) == expected


def test_every_departement_region_exists():
    for d in DEPARTEMENTS:
        assert d.region_code in REGION_BY_CODE, d
        assert region_of(d.code) == REGION_BY_CODE[d.region_code]


def test_every_region_has_a_departement():
    for r in REGIONS:
        assert departements_of_region(r.code), r


def test_prefecture_postal_codes_resolve_to_their_departement():
    for d in DEPARTEMENTS:
        assert len(d.postal_code) == 5 and d.postal_code.isdigit(), d
        assert departement_for_postal_code(d.postal_code) == d, d


def test_overseas():
    overseas = [d for d in DEPARTEMENTS if d.is_overseas]
    assert {d.code for d in overseas} == {"971", "972", "973", "974", "976"}
    regions = {d.region_code for d in overseas}
    assert len(regions) == 5
    for code in regions:
        assert departements_of_region(code) == [d for d in overseas if d.region_code == code]
        assert len(departements_of_region(code)) == 1
    assert not DEPARTEMENT_BY_CODE["75"].is_overseas
    assert not DEPARTEMENT_BY_CODE["2A"].is_overseas


def test_known_values():
    ain = DEPARTEMENT_BY_CODE["01"]
    assert (ain.name, ain.chef_lieu, ain.postal_code) == ("Ain", "Bourg-en-Bresse", "01000")
    assert region_of("01").name == "Auvergne-Rhône-Alpes"
    assert region_of("75").name == "Île-de-France"
    assert region_of("2B").name == "Corse"
    assert DEPARTEMENT_BY_CODE["971"].chef_lieu == "Basse-Terre"


@pytest.mark.parametrize(
    "postal_code, expected",
    [
        ("75001", "75"),
        ("13001", "13"),
        ("20000", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97400", "974"),
        ("97600", "976"),
        ("01000", "01"),
    ],
)
def test_departement_for_postal_code(postal_code, expected):
    assert departement_for_postal_code(postal_code).code == expected


@pytest.mark.parametrize("postal_code", ["00000", "97500", "98000", "20500", "7500", "abcde", "", None])
def test_departement_for_unknown_postal_code(postal_code):
    assert departement_for_postal_code(postal_code) is None


def test_departement_choices_order():
    choices = departement_choices()
    codes = [code for code, _ in choices]
    assert len(choices) == 101
    assert codes[0] == "01"
    assert codes[-5:] == ["971", "972", "973", "974", "976"]
    i = codes.index("19")
    assert codes[i:i + 4] == ["19", "2A", "2B", "21"]
    assert ("2A", "2A – Corse-du-Sud") in choices


def test_region_choices():
    choices = region_choices()
    assert len(choices) == 18
    assert choices[0] == ("84", "Auvergne-Rhône-Alpes")
    assert ("11", "Île-de-France") in choices
    names = [name for _, name in choices]
    # Île-de-France sorts with I, not after Z.
    assert names.index("Île-de-France") < names.index("La Réunion")
