"""The floor for `publish log verify`: a bare loop that reads the same rows of the same
SQLite log and checks each one's SHA-256 link, nothing else (no head file, no JSON, no
HMAC). Run: `python bench/bare_verify.py var/publisher.db`; prints rows and the result."""
from __future__ import annotations

import hashlib
import sqlite3
import sys


def main(path: str) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    expected, rows, ok = "0" * 64, 0, True
    for _seq, body, prev, digest in db.execute("SELECT seq, body, prev, hash FROM events ORDER BY rowid"):
        if prev != expected or hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest() != digest:
            ok = False
            break
        expected, rows = digest, rows + 1
    print(rows, "ok" if ok else "broken")


if __name__ == "__main__":
    main(sys.argv[1])
