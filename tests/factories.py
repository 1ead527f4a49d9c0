"""Small builders of test data, committed to the database."""
from aap import timeutil
from aap.extensions import db
from aap.models import Association, User

PASSWORD = "un-mot-de-passe-solide"


def user(role, email, association_name=None, region_code=None, confirmed=True, password=PASSWORD):
    account = User(email=email, role=role, first_name=role.capitalize(), last_name="Test",
                   region_code=region_code,
                   email_confirmed_at=timeutil.now() if confirmed else None)
    if association_name:
        account.association = Association(name=association_name)
    account.set_password(password)
    db.session.add(account)
    db.session.commit()
    return account


def outbox():
    from aap.models import OutboxMessage
    return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def last_mail_to(email):
    messages = [m for m in outbox() if m.to == email]
    assert messages, f"no e-mail to {email}"
    return messages[-1]


def call(slug="aap-2026", status="published", opens_in_days=-10, closes_in_days=30, years=1, **fields):
    """A call with the default criteria and documents, open now unless told otherwise."""
    from datetime import timedelta

    from aap.calls.template import apply_template
    from aap.models import Call

    now = timeutil.now()
    values = dict(slug=slug, title=f"Appel à projets 1 jeune 1 mentor ({slug})", year=now.year,
                  status=status, opens_at=now + timedelta(days=opens_in_days),
                  closes_at=now + timedelta(days=closes_in_days),
                  budget_cents=1_000_000_00, min_amount_cents=10_000_00, max_amount_cents=150_000_00,
                  years=years, reviewers_per_file=2)
    values.update(fields)
    record = apply_template(Call(**values))
    db.session.add(record)
    db.session.commit()
    return record


def complete_identity(association, departement="69", region="84"):
    """Fill an association's identity with valid values (SIRET and IBAN pass their checksums)."""
    from datetime import date
    association.acronym = association.acronym or "ASSO"
    association.rna = "W691234567"
    association.siret = "73282932000074"
    association.address = "12 rue de la République"
    association.postal_code = "69001"
    association.commune = "Lyon"
    association.departement_code = departement
    association.region_code = region
    association.representative_name = "Claire Martin"
    association.representative_function = "Présidente"
    association.contact_email = "contact@example.org"
    association.phone = "04 72 00 00 00"
    association.creation_date = date(2010, 5, 17)
    association.staff_count = 12
    association.volunteer_count = 80
    association.annual_budget_cents = 850_000_00
    association.iban = "FR7630006000011234567890189"
    association.bic = "AGRIFRPP"
    association.account_holder = association.name
    db.session.commit()
    return association


def balanced_budget(years, requested, per_year, total, cofunding):
    """A budget by nature (aap/applications/budget.py) that balances each year, from the former
    fields: the grant of each year (per_year when it has one amount a year, else requested split),
    the total cost on line 64 (raised to the year's resources when they exceed it), the co-funders
    on « Région(s) », the rest on line 75."""
    keys = [str(k) for k in range(1, years + 1)]
    def split(amount):
        base, rest = divmod(int(amount or 0), years)
        return [base + (rest if i == 0 else 0) for i in range(years)]
    grants = list(per_year) if per_year and len(per_year) == years else split(requested)
    cofunded = split(sum(line.get("amount_cents") or 0 for line in cofunding or []))
    result = {}
    for key, grant, cost, other in zip(keys, grants, split(total), cofunded):
        charges = max(cost, grant + other)
        cells = {"64": charges, "74_aap": grant}
        if other:
            cells["74_region"] = other
        if charges - grant - other:
            cells["75"] = charges - grant - other
        result[key] = cells
    return result


def application(call, association, status="submitted", reference=None, **fields):
    """An application with every section filled; submitted (frozen) unless told otherwise. Its
    budget balances and carries its amount requested, unless one is given."""
    from aap.models import Application

    values = dict(
        call=call, association=association, status=status,
        title="Mentorat pour les jeunes des quartiers", summary="Un programme de mentorat d'un an.",
        objectives="Accompagner 300 jeunes vers l'emploi.", mentoring_forms="Mentorat individuel",
        mentoring_duration_months=9, mentor_recruitment="Entreprises partenaires",
        mentor_training="Deux jours de formation", mentor_follow_up="Point mensuel",
        partners="Missions locales", young_count=300, mentor_count=280, share_qpv=40, share_zrr=10,
        share_ase=5, share_disability=5, share_dropout=20, age_min=16, age_max=25,
        scope="regional", departements=["69", "42"], total_cost_cents=300_000_00,
        requested_cents=100_000_00, requested_per_year=[100_000_00] * call.years,
        cofunding=[{"funder": "Région", "amount_cents": 50_000_00, "status": "obtenu"}],
        attestation_name="Claire Martin",
    )
    values.update(fields)
    if "budget" not in fields:
        values["budget"] = balanced_budget(call.years, values["requested_cents"], values["requested_per_year"],
                                           values["total_cost_cents"], values["cofunding"])
    record = Application(**values)
    db.session.add(record)
    db.session.flush()
    if status != "draft":
        record.reference = reference or f"1J1M-{call.year}-{record.id:04d}"
        record.submitted_at = timeutil.now()
        record.fingerprint = "0" * 64
        record.snapshot = {"title": record.title}
    db.session.commit()
    return record


def submitted_file(call, association=None, region="84", status="submitted", **fields):
    """A submitted (or later, with `status`) application of an association with a complete
    identity. `association` is an Association, or the name of a new one in `region` (by default a
    new « Association par défaut » in Auvergne-Rhône-Alpes)."""
    if not isinstance(association, Association):
        association = Association(name=association or "Association par défaut")
        db.session.add(association)
        departement = "69" if region == "84" else "35"
    else:
        departement, region = association.departement_code or "69", association.region_code or "84"
    complete_identity(association, departement=departement, region=region)
    return application(call, association, status=status, **fields)
