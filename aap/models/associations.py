"""Associations (applicants) and their identity."""
from datetime import date

from sqlalchemy import BigInteger, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

LEGAL_FORMS = {
    "association_1901": "Association loi 1901",
    "association_1908": "Association de droit local (Alsace-Moselle)",
    "association_rup": "Association reconnue d'utilité publique",
    "fondation": "Fondation",
    "autre": "Autre structure d'intérêt général",
}


class Association(Model):
    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    acronym: Mapped[str] = mapped_column(String(50), default="")
    legal_form: Mapped[str] = mapped_column(String(40), default="association_1901")
    rna: Mapped[str | None] = mapped_column(String(10), index=True)
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    commune: Mapped[str] = mapped_column(String(120), default="")
    departement_code: Mapped[str | None] = mapped_column(String(3))
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    representative_name: Mapped[str] = mapped_column(String(200), default="")
    representative_function: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    creation_date: Mapped[date | None] = mapped_column(Date)
    staff_count: Mapped[int | None]
    volunteer_count: Mapped[int | None]
    annual_budget_cents: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    # Bank details: members and staff only.
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str | None] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members = relationship("User", back_populates="association")

    @property
    def siren(self):
        return self.siret[:9] if self.siret else None

    @property
    def legal_form_label(self):
        return LEGAL_FORMS.get(self.legal_form, self.legal_form)

    @property
    def display_name(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name
