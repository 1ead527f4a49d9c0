"""The service in charge of a call: its name, postal address, e-mail and telephone, as the receipt
must give them (code des relations entre le public et l'administration, art. R112-5: « la
désignation, l'adresse postale et, le cas échéant, électronique, ainsi que le numéro de téléphone
du service chargé du dossier »), and as the decision letters and the call's help page show them.

Set per call by staff (Call.service_*); the defaults below are right for the 2025 call and are the
only place they are written. The DJEPVA's postal address is that of the ministry's central
administration, 95 avenue de France, 75650 Paris Cedex 13 (as printed on the DJEPVA's own
publications)."""

SERVICE_DEFAULTS = {
    "service_name": ("Direction de la jeunesse, de l'éducation populaire et de la vie associative "
                     "(DJEPVA) – Bureau des politiques de jeunesse, mission « 1 jeune 1 mentor »"),
    "service_address": "95 avenue de France\n75650 Paris Cedex 13",
    "service_email": "1jeune1mentor@jeunesse-sports.gouv.fr",
    "service_phone": "01 40 45 90 00",
}
SERVICE_FIELDS = tuple(SERVICE_DEFAULTS)
# Lengths of the columns (and the form's limits).
SERVICE_MAX = {"service_name": 255, "service_address": 500, "service_email": 254, "service_phone": 40}


class ServiceContact:
    """What a document prints of the service in charge of a call (a call's empty setting falls back
    on the default)."""

    def __init__(self, name, address, email, phone):
        self.name, self.address, self.email, self.phone = name, address, email, phone

    def as_dict(self):
        return {"name": self.name, "address": self.address, "email": self.email, "phone": self.phone}

    @property
    def address_lines(self):
        return [line.strip() for line in (self.address or "").splitlines() if line.strip()]

    @property
    def one_line_address(self):
        return ", ".join(self.address_lines)


def from_dict(values):
    """The service as a deposit's snapshot froze it (ServiceContact.as_dict)."""
    return ServiceContact(values.get("name") or "", values.get("address") or "", values.get("email") or "",
                          values.get("phone") or "")


def service_contact(call=None):
    """The service in charge of `call` (None: the defaults)."""
    values = {key: ((getattr(call, key, None) or "").strip() if call is not None else "") or default
              for key, default in SERVICE_DEFAULTS.items()}
    return ServiceContact(values["service_name"], values["service_address"], values["service_email"],
                          values["service_phone"])
