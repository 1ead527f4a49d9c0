"""The demo data set: `flask --app aap demo-data`.

A closed 2025 call « 1 jeune 1 mentor » (multi-year CPO) with about 230 submitted files from
associations in every région and département, a panel of reviewers who scored them (some
lenient, some severe), and 67 winners within the envelope; a 2026 top-up call under review (files
still to check, reviews sent, saved or not started, four of them for the demo reviewer); an open
2026 call with a few drafts; one account per role (aap/demo/accounts.py). The 2025 call's
follow-up is under way (followup.py): conventions signed or awaited, payments, yearly reports.

Every submitted file has its pieces: small PDFs written with the association's data and stored
under UPLOAD_FOLDER like uploads (pieces.py).

Deterministic: everything is drawn from random.Random(seed) and dated with fixed times, so the
same seed gives the same data (and the same pieces, byte for byte). Fast: objects are added in
bulk, flushed a few times, committed once.
"""
from .build import DemoError, build_demo, demo_digest

__all__ = ["DemoError", "build_demo", "demo_digest"]
