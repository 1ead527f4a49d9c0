"""Uploaded files: kind detected from the content (never from the name), safe names, storage."""
import io
import re
import secrets
import unicodedata
import zipfile
from pathlib import Path

from flask import current_app
from werkzeug.utils import secure_filename

KINDS = {
    "pdf": ("application/pdf", "PDF"),
    "jpeg": ("image/jpeg", "JPEG"),
    "png": ("image/png", "PNG"),
    "odt": ("application/vnd.oasis.opendocument.text", "ODT"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ODS"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
ODF_MIMETYPES = {KINDS["odt"][0]: "odt", KINDS["ods"][0]: "ods"}
FORBIDDEN_NAME_CHARS = set('<>:"/\\|?*')


EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "odt": "odt", "ods": "ods", "docx": "docx", "xlsx": "xlsx"}

# Zip-based formats (ODT, ODS, DOCX, XLSX) are read as archives: bounded so that a small upload
# cannot expand into gigabytes (a "zip bomb"). Only a few hundred bytes of one entry are ever
# inflated; the sizes the archive declares are checked against these bounds before anything else.
ZIP_MAX_ENTRIES = 2_000
ZIP_MAX_TOTAL_SIZE = 200 * 1024 * 1024  # declared uncompressed size of all entries
ZIP_MAX_RATIO = 100  # declared uncompressed / compressed size, for entries over ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 1024 * 1024
MIMETYPE_READ = 200

# PDF names of actions that run something when the document is opened or clicked.
ACTIVE_PDF_NAMES = (b"/JavaScript", b"/JS", b"/Launch", b"/RichMedia")


class UnsafeFile(ValueError):
    """A file refused for what it contains; `message` says why, in French."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def detect_kind(data: bytes):
    """The kind of a file from its first bytes (and, for zip-based formats, its entries), or None.

    Raises UnsafeFile for an archive that would expand beyond reason or a PDF with active content.
    """
    if data.startswith(b"%PDF-"):
        check_pdf(data)
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def _zip_kind(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > ZIP_MAX_ENTRIES:
                raise UnsafeFile(f"Ce fichier compressé contient trop d'éléments (plus de {ZIP_MAX_ENTRIES}) : "
                                 "il est refusé par précaution.")
            total = 0
            for entry in entries:
                total += entry.file_size
                ratio = entry.file_size / max(entry.compress_size, 1)
                if total > ZIP_MAX_TOTAL_SIZE or (entry.file_size > ZIP_RATIO_FLOOR and ratio > ZIP_MAX_RATIO):
                    raise UnsafeFile("Ce fichier se décompresse en un volume anormalement grand (« bombe de "
                                     "décompression ») : il est refusé par précaution. Enregistrez le document "
                                     "à nouveau depuis votre traitement de texte ou envoyez-le en PDF.")
            names = {entry.filename for entry in entries}
            if "mimetype" in names:
                with archive.open("mimetype") as handle:
                    mimetype = handle.read(MIMETYPE_READ).decode("ascii", "replace").strip()
                return ODF_MIMETYPES.get(mimetype)
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return "docx"
                if any(n.startswith("xl/") for n in names):
                    return "xlsx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError, EOFError,
            NotImplementedError, RuntimeError) as error:
        if isinstance(error, UnsafeFile):
            raise
        return None
    return None


def _unescape_pdf_names(data):
    """PDF names may spell letters as #xx (/J#61vaScript): decode them before looking."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def _pdf_structure_is_active(data):
    """Actions hidden in compressed object streams, found by walking the document with pypdf."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

    reader = PdfReader(io.BytesIO(data), strict=False)
    seen = set()
    budget = [20_000]  # objects visited at most: a crafted file cannot make this loop long

    def active(node):
        budget[0] -= 1
        if budget[0] < 0:
            return False
        reference = getattr(node, "idnum", None)
        if reference is not None:
            if reference in seen:
                return False
            seen.add(reference)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            for key, value in node.items():
                if key in ("/JS", "/JavaScript") or (key == "/S" and value in ("/JavaScript", "/Launch")):
                    return True
                if key in ("/Parent", "/P"):
                    continue
                if active(value):
                    return True
        elif isinstance(node, list):
            return any(active(item) for item in node)
        return False

    return active(reader.trailer)


def check_pdf(data):
    """Refuse a PDF that runs JavaScript or launches something (at opening or from a link)."""
    message = ("Ce PDF contient du code ou des actions automatiques (JavaScript, lancement de programme) : "
               "il est refusé par précaution. Enregistrez-le à nouveau sans ces éléments (par exemple avec "
               "« Imprimer » puis « Enregistrer au format PDF ») et envoyez-le.")
    plain = _unescape_pdf_names(data)
    if any(re.search(re.escape(name) + rb"(?![A-Za-z0-9])", plain) for name in ACTIVE_PDF_NAMES):
        raise UnsafeFile(message)
    if b"/ObjStm" in plain:
        try:
            found = _pdf_structure_is_active(data)
        except Exception:  # a PDF pypdf cannot read: its plain bytes were checked above
            found = False
        if found:
            raise UnsafeFile(message)


def download_name(name, kind):
    """The name a file is served under: its extension is the one of its detected kind
    (« facture.exe » that is a PNG is served as « facture.png »)."""
    extension = EXTENSIONS.get(kind)
    if not extension:
        return name
    stem, dot, current = (name or "").rpartition(".")
    if dot and stem and 1 <= len(current) <= 5 and current.isalnum():
        name = stem
    return f"{name or 'document'}.{extension}"


def display_name(raw, kind):
    """The name shown for a file: the last path component, printable, accents kept.

    Never used as a path (files are stored under a random name).
    """
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in FORBIDDEN_NAME_CHARS)
    name = name.strip().lstrip(".").strip()
    if not name:
        name = secure_filename(raw or "")
    if not name:
        name = f"document.{kind}"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:200]
    return download_name(name, kind)


def folder():
    path = Path(current_app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_stored_name():
    return secrets.token_hex(16)


def path_of(stored_name):
    # Stored names are 32 hex characters made by new_stored_name(): no path can come from a user.
    if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError("invalid stored name")
    return folder() / stored_name


def write(stored_name, data):
    path = path_of(stored_name)
    with open(path, "xb") as handle:
        handle.write(data)
    return path


def remove(stored_name):
    try:
        path_of(stored_name).unlink()
    except (FileNotFoundError, ValueError):
        pass
