"""The dependency locks (scripts/lock): every package pinned with its hashes, nothing missing."""
import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def locked(name):
    """{package: (version, number of hashes)} of a lock written by pip-compile --generate-hashes."""
    text = (ROOT / name).read_text()
    packages = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            packages[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return packages


def declared(name):
    requirements = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirements.append(Requirement(line))
    return requirements


def test_each_lock_pins_what_its_in_file_declares_with_hashes():
    for source, lock in (("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")):
        packages = locked(lock)
        assert packages, lock
        for requirement in declared(source):
            version, hashes = packages[canonicalize_name(requirement.name)]
            assert requirement.specifier.contains(version), (lock, requirement, version)
        assert all(hashes for _version, hashes in packages.values()), lock


def test_the_locks_are_closed_and_agree():
    """Every dependency of a locked package is locked too (production's in production's lock),
    and the development lock never moves a production package to another version."""
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    for name, (version, _hashes) in dev.items():
        if name in runtime:
            assert runtime[name][0] == version, name
    for lock, allowed in ((runtime, runtime), (dev, {**runtime, **dev})):
        for name in lock:
            for line in metadata.requires(name) or []:
                requirement = Requirement(line)
                if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                    continue
                assert canonicalize_name(requirement.name) in allowed, f"{name} needs {requirement.name}"
    # psycopg's C build, an extra, is locked as its own package (--strip-extras).
    assert "psycopg-binary" in runtime
