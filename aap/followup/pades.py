"""The check of the digital signatures (PAdES) of a PDF returned signed, with pyHanko.

check_pdf_signatures(data) returns a plain dict, stored as is in ConventionDocument.signature:

    {"kind": "digital" | "scanned",
     "signatures": [{"signer": common name, "organisation": ..., "signed_at": ISO or None,
                     "intact": the signed bytes are unchanged,
                     "covers_whole_document": the signature covers the whole file,
                     "modified_after_signing": something was changed after the signature (beyond
                                               the form filling and annotations a signature allows),
                     "trusted": the certificate chains to a trust root we know,
                     "error": a technical reason when the signature could not be read}],
     "checked_at": ISO}

No trust root is configured: a signature is never called « trusted » unless the caller gives
the roots (`trust_roots`), so the page says « certificat non vérifié auprès d'une autorité de
confiance » rather than pretending. A PDF without any signature is a scanned handwritten
signature. A broken or tampered signature is reported as such; this never raises.
"""
import io
import logging

from .. import timeutil

log = logging.getLogger(__name__)
# Without trust roots every certificate is « untrusted », the expected case here: pyHanko would log
# each one as a warning with a traceback. The result says it (UNTRUSTED_LABEL); errors still log.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

KIND_DIGITAL = "digital"
KIND_SCANNED = "scanned"

# The wording of the pages (association and staff).
SCANNED_LABEL = "signature manuscrite scannée"
UNTRUSTED_LABEL = ("certificat non vérifié auprès d'une autorité de confiance (l'identité du signataire n'est "
                   "pas garantie)")
TRUSTED_LABEL = "certificat reconnu par une autorité de confiance"
MODIFIED_LABEL = "le document a été modifié après sa signature"
INTACT_LABEL = "document non modifié depuis sa signature"


def _name(certificate, key):
    try:
        value = certificate.subject.native.get(key)
    except Exception:  # an unusual subject: the name is not essential
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value or "")


def _broken(error):
    return {"signer": "", "organisation": "", "signed_at": None, "intact": False,
            "covers_whole_document": False, "modified_after_signing": True, "trusted": False,
            "error": error}


def _one(embedded, context):
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        certificate = embedded.signer_cert
        signer, organisation = _name(certificate, "common_name"), _name(certificate, "organization_name")
    except Exception:
        signer = organisation = ""
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as error:  # a malformed signature: reported, never raised
        log.info("PDF signature unreadable: %s", error)
        return {**_broken(type(error).__name__), "signer": signer, "organisation": organisation}
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    allowed = (level is not None and level <= ModificationLevel.ANNOTATIONS and status.docmdp_ok is not False)
    signed_at = status.signer_reported_dt
    timestamp = getattr(status, "timestamp_validity", None)
    if timestamp is not None and getattr(timestamp, "timestamp", None):
        signed_at = timestamp.timestamp
    return {
        "signer": signer,
        "organisation": organisation,
        "signed_at": signed_at.isoformat() if signed_at else None,
        "intact": bool(status.intact and status.valid),
        "covers_whole_document": whole,
        "modified_after_signing": not (status.intact and status.valid) or not (whole or allowed),
        "trusted": bool(status.trusted),
    }


def check_pdf_signatures(data, trust_roots=None, now=None):
    """The check of every digital signature of the PDF `data` (bytes); see the module's docstring.
    `trust_roots`: certificates (DER/PEM bytes or asn1crypto) a signer may chain to; none by default."""
    checked_at = (now or timeutil.now()).isoformat()
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko_certvalidator import ValidationContext

        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except Exception as error:  # a PDF pyHanko cannot read
        log.info("PDF unreadable for its signatures: %s", error)
        if b"/ByteRange" in data:
            return {"kind": KIND_DIGITAL, "signatures": [_broken(type(error).__name__)], "checked_at": checked_at}
        return {"kind": KIND_SCANNED, "signatures": [], "checked_at": checked_at}
    if not embedded:
        return {"kind": KIND_SCANNED, "signatures": [], "checked_at": checked_at}
    context = ValidationContext(trust_roots=list(trust_roots or []), allow_fetching=False)
    return {"kind": KIND_DIGITAL, "signatures": [_one(signature, context) for signature in embedded],
            "checked_at": checked_at}


def summary(check):
    """[(French sentence, tone)] of a check, for the pages: who signed, when, whether the document
    was modified since, whether the certificate is trusted. Tone: "success", "warning" or "error"."""
    check = check or {}
    if check.get("kind") != KIND_DIGITAL:
        return [("Signature manuscrite scannée (pas de signature électronique à vérifier).", "info")] if check else []
    lines = []
    for signature in check.get("signatures") or []:
        who = signature.get("signer") or "signataire inconnu"
        if signature.get("organisation"):
            who = f"{who} ({signature['organisation']})"
        when = ""
        if signature.get("signed_at"):
            from datetime import datetime
            try:
                when = f" le {timeutil.format_datetime(datetime.fromisoformat(signature['signed_at']))}"
            except ValueError:
                when = ""
        if signature.get("modified_after_signing") or not signature.get("intact"):
            lines.append((f"Signée électroniquement par {who}{when} — attention : {MODIFIED_LABEL}.", "error"))
            continue
        trust = TRUSTED_LABEL if signature.get("trusted") else UNTRUSTED_LABEL
        lines.append((f"Signée électroniquement par {who}{when} — {INTACT_LABEL} ; {trust}.",
                      "success" if signature.get("trusted") else "warning"))
    return lines
