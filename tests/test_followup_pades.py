"""The check of a returned convention's digital signature (aap/followup/pades.py): a PDF signed in
the test with a throw-away self-signed certificate is reported digital, intact, with its signer;
the same PDF changed inside its signed bytes, or changed by an incremental update after signing,
is reported modified; an unsigned PDF is a scanned signature."""
import io
from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from aap.followup import pades


def minimal_pdf(text=b"Convention 1J1M-2025-0136"):
    """A one-page PDF written by hand (uncompressed content stream, exact cross-reference table)."""
    content = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.fixture(scope="module")
def signer():
    """A throw-away EC P-256 key and its self-signed certificate, made once for the module."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Claire Dupont"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Association Tremplin")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    private = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return signers.SimpleSigner(signing_cert=cert, signing_key=private,
                                cert_registry=SimpleCertificateStore.from_certs([cert])), cert


def sign(pdf, signer):
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                     signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer[0], output=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed_pdf(signer):
    return sign(minimal_pdf(), signer)


def test_an_unsigned_pdf_is_a_scanned_signature():
    check = pades.check_pdf_signatures(minimal_pdf())
    assert check["kind"] == "scanned" and check["signatures"] == [] and check["checked_at"]
    assert pades.summary(check) == [("Signature manuscrite scannée (pas de signature électronique à vérifier).",
                                     "info")]


def test_a_signed_pdf_is_digital_intact_with_its_signer(signed_pdf):
    check = pades.check_pdf_signatures(signed_pdf)
    assert check["kind"] == "digital"
    [signature] = check["signatures"]
    assert signature["signer"] == "Claire Dupont" and signature["organisation"] == "Association Tremplin"
    assert signature["intact"] is True and signature["covers_whole_document"] is True
    assert signature["modified_after_signing"] is False
    assert signature["trusted"] is False  # no trust root configured: never pretended
    assert datetime.fromisoformat(signature["signed_at"]).date() == datetime.now(timezone.utc).date()
    [(sentence, tone)] = pades.summary(check)
    assert "Claire Dupont (Association Tremplin)" in sentence and tone == "warning"
    assert "certificat non vérifié auprès d'une autorité de confiance" in sentence
    assert "modifié après sa signature" not in sentence


def test_a_trusted_root_makes_the_signature_trusted(signed_pdf, signer):
    [signature] = pades.check_pdf_signatures(signed_pdf, trust_roots=[signer[1]])["signatures"]
    assert signature["trusted"] is True and signature["intact"] is True


def test_a_byte_changed_inside_the_signed_range_is_reported(signed_pdf):
    tampered = signed_pdf.replace(b"(Convention 1J1M-2025-0136)", b"(Convention 1J1M-2025-9136)")
    assert tampered != signed_pdf and len(tampered) == len(signed_pdf)
    check = pades.check_pdf_signatures(tampered)
    assert check["kind"] == "digital"
    [signature] = check["signatures"]
    assert signature["intact"] is False and signature["modified_after_signing"] is True
    [(sentence, tone)] = pades.summary(check)
    assert "le document a été modifié après sa signature" in sentence and tone == "error"


def test_page_content_changed_by_an_incremental_update_is_reported(signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    stream = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 720 Td (Montant : 1 000 000 EUR) Tj ET")
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    check = pades.check_pdf_signatures(out.getvalue())
    [signature] = check["signatures"]
    assert signature["covers_whole_document"] is False
    assert signature["modified_after_signing"] is True
    assert "le document a été modifié après sa signature" in pades.summary(check)[0][0]


def test_garbage_after_a_signature_marker_never_raises():
    check = pades.check_pdf_signatures(b"%PDF-1.7\n/ByteRange [0 1 2 3] broken")
    assert check["kind"] == "digital"
    assert check["signatures"][0]["intact"] is False and check["signatures"][0]["modified_after_signing"] is True
