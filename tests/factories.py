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
