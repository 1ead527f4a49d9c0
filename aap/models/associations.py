"""Associations (applicants) and their identity."""
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import LabelledEnum, Model, UTCDateTime, utcnow

# The legal forms of an applicant; each has its own identifier (aap/associations/legal.py): the RNA
# for an association loi 1901 (reconnue d'utilité publique or not), the register of the tribunal
# judiciaire for an association de droit local, the decree or the prefect's authorisation for a
# foundation. The key "fondation" is the foundation recognised of public utility.
LEGAL_FORMS = {
    "association_1901": "Association loi 1901",
    "association_rup": "Association reconnue d'utilité publique (loi 1901)",
    "association_1908": "Association de droit local (Alsace-Moselle)",
    "fondation": "Fondation reconnue d'utilité publique",
    "fondation_entreprise": "Fondation d'entreprise",
    "autre": "Autre structure d'intérêt général",
}


class Association(Model):
    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    acronym: Mapped[str] = mapped_column(String(50), default="")
    legal_form: Mapped[str] = mapped_column(String(40), default="association_1901")
    rna: Mapped[str | None] = mapped_column(String(10), index=True)
    # Association de droit local: its entry in the register of associations of a tribunal judiciaire.
    register_court: Mapped[str | None] = mapped_column(String(40))
    register_volume: Mapped[str | None] = mapped_column(String(20))
    register_folio: Mapped[str | None] = mapped_column(String(20))
    # Recognition of public utility (decree) or a fondation d'entreprise's prefectural authorisation:
    # its date and its reference (Journal officiel, or the arrêté).
    recognition_date: Mapped[date | None] = mapped_column(Date)
    recognition_reference: Mapped[str | None] = mapped_column(String(160))
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
    def legal_identifier(self):
        """The identifier of its legal form, in words (« RNA W751234567 », the register's entry…)."""
        from ..associations.legal import identifier_text, identity_of
        return identifier_text(identity_of(self))

    @property
    def display_name(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


# A change of bank details asked once a file of the association is selected: the new details
# apply (to the association, hence to new conventions and payments) only once staff validate it.
class BankRequestStatus(LabelledEnum):
    PENDING = "pending", "En attente de validation par la DJEPVA", "warning"
    VALIDATED = "validated", "Validée", "success"
    REFUSED = "refused", "Refusée", "error"
    REPLACED = "replaced", "Remplacée par une demande plus récente", "new"


BANK_REQUEST_PENDING, BANK_REQUEST_VALIDATED = BankRequestStatus.PENDING, BankRequestStatus.VALIDATED
BANK_REQUEST_REFUSED, BANK_REQUEST_REPLACED = BankRequestStatus.REFUSED, BankRequestStatus.REPLACED


class BankChangeRequest(Model):
    """New bank details asked by an association, with the RIB that proves them; the RIB is read
    by the association's members and staff only (never by a reviewer)."""

    __tablename__ = "bank_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=BANK_REQUEST_PENDING, index=True)
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    account_holder: Mapped[str] = mapped_column(String(200))
    # The RIB: stored under instance/uploads with a random name, kind detected from the content.
    rib_original_name: Mapped[str] = mapped_column(String(255))
    rib_stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    rib_kind: Mapped[str] = mapped_column(String(10))
    rib_content_type: Mapped[str] = mapped_column(String(100))
    rib_size: Mapped[int]
    rib_sha256: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")

    association = relationship("Association")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def state(self):
        """The request's status with its label and badge."""
        return BankRequestStatus(self.status)

    @property
    def is_pending(self):
        return self.status == BANK_REQUEST_PENDING


class AssociationDocument(Model):
    """A piece that does not change from one call to the next (statuts, list of the board, RIB),
    sent directly on the association's « Mes documents » page. The pieces sent in its applications
    are kept too, as attachments (aap/applications/reuse.py reads both). Read by the association's
    members and staff only, never by a reviewer."""

    __tablename__ = "association_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # a RequiredPiece code: statuts, dirigeants, rib
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, under instance/uploads
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)

    @property
    def download_name(self):
        from ..applications.files import download_name
        return download_name(self.original_name, self.kind)
