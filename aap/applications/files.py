"""Uploaded files: kind detected from the content (never from the name), safe names, storage."""
import io
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


def detect_kind(data: bytes):
    """The kind of a file from its first bytes (and, for zip-based formats, its entries), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                    return ODF_MIMETYPES.get(mimetype)
                if "[Content_Types].xml" in names:
                    if any(n.startswith("word/") for n in names):
                        return "docx"
                    if any(n.startswith("xl/") for n in names):
                        return "xlsx"
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            return None
    return None


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
    return name


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
