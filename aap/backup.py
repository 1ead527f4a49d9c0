"""Backup and restore of the database: SQLite's online backup API, or pg_dump/pg_restore."""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def _pg_env_and_args(url):
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = ["-h", url.host or "localhost", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    return env, args


def _pg_tool(name):
    path = shutil.which(name)
    if path is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if not candidates:
            raise BackupError(f"{name} est introuvable : installez le client PostgreSQL.")
        path = str(candidates[-1])
    return path


def backup(database_uri, output):
    """Write a consistent copy of the live database to `output`."""
    url = make_url(database_uri)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(output)
        try:
            with target:
                source.backup(target)  # online: readers and writers may keep working
        finally:
            source.close()
            target.close()
    elif url.get_backend_name() == "postgresql":
        env, args = _pg_env_and_args(url)
        subprocess.run([_pg_tool("pg_dump"), *args, "-Fc", "--no-owner", "-f", str(output), url.database],
                       env=env, check=True, capture_output=True)
    else:
        raise BackupError(f"Base non prise en charge : {url.get_backend_name()}")
    return output


def restore(database_uri, source):
    """Replace the database's content with the backup in `source`."""
    url = make_url(database_uri)
    source = Path(source)
    if not source.exists():
        raise BackupError(f"Fichier de sauvegarde introuvable : {source}")
    if url.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        target = sqlite3.connect(url.database)
        try:
            with target:
                backup_db.backup(target)
        finally:
            backup_db.close()
            target.close()
    elif url.get_backend_name() == "postgresql":
        env, args = _pg_env_and_args(url)
        subprocess.run([_pg_tool("pg_restore"), *args, "--clean", "--if-exists", "--no-owner",
                        "-d", url.database, str(source)], env=env, check=True, capture_output=True)
    else:
        raise BackupError(f"Base non prise en charge : {url.get_backend_name()}")
