"""The released migrations, locked: `migrations/SHA256SUMS` lists each file with its sha256.

The database refuses an applied migration that changed (migrate.MigrationChanged), but only on a
database that already ran it; a fresh one would quietly get the edited text. The lock catches the
edit before that, in a unit test: every file must match its line, every file must be listed, and
the numbers run 0001, 0002, ... with no gap and no number used twice.

The lock is in `sha256sum` format, so `cd src/dymunim/db/migrations && sha256sum -c SHA256SUMS`
checks it too. `make migration-lock` (this module's main) appends the files not yet listed and
refuses to touch a listed one: a released migration never changes, a new one is added instead.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from dymunim.db.migrate import checksum

LOCK_NAME = "SHA256SUMS"
MIGRATIONS = Path(__file__).parent / "migrations"
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")
ADD_COMMAND = "make migration-lock"


class LockError(ValueError):
    """The lock file itself is malformed."""


def read_lock(folder: Path = MIGRATIONS) -> dict[str, str]:
    """name -> sha256 of each line of the folder's lock (empty if there is no lock yet)."""
    path = folder / LOCK_NAME
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            raise LockError(f"{path}:{n}: not `<sha256>  <NNNN_name.sql>`: {line!r}")
        digest, name = m.groups()
        if name in out:
            raise LockError(f"{path}:{n}: {name} is listed twice")
        out[name] = digest
    return out


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(folder: Path = MIGRATIONS) -> list[str]:
    """Every way the folder's migrations and its lock disagree, each with what to do; [] if none."""
    try:
        wrong, unlisted = _check(folder)
    except LockError as exc:
        return [str(exc)]
    return wrong + [f"{name} is not in {LOCK_NAME}: run `{ADD_COMMAND}` to add it (it appends new files and "
                    "never changes a released line)" for name in unlisted]


def _check(folder: Path) -> tuple[list[str], list[str]]:
    """(what is wrong beyond files missing from the lock, the .sql files missing from the lock)."""
    out: list[str] = []
    locked = read_lock(folder)
    sql = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(".sql"))
    others = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != LOCK_NAME
                    and not p.name.endswith(".sql") and p.name[:4].isdigit())
    for name in others:
        out.append(f"{name} is never applied: migrate() runs only *.sql files; name it NNNN_name.sql")
    numbers: dict[int, list[str]] = {}
    for name in sql:
        m = NAME.match(name)
        if not m:
            out.append(f"{name}: a migration is named NNNN_lowercase_name.sql (four digits, then [a-z0-9_])")
            continue
        numbers.setdefault(int(m.group(1)), []).append(name)
    for number, names in sorted(numbers.items()):
        if len(names) > 1:
            out.append(f"number {number:04d} is used twice ({', '.join(names)}): they would run in name order; "
                       "give the newer one the next free number")
    expected = list(range(1, len(numbers) + 1))
    if sorted(numbers) != expected:
        missing = sorted(set(expected) - set(numbers))
        out.append(f"migration numbers must run from 0001 with no gap: have {sorted(numbers)}, missing "
                   f"{[f'{n:04d}' for n in missing]}; renumber the new file to follow the last released one")
    for name, locked_sha in locked.items():
        path = folder / name
        if not path.exists():
            out.append(f"{name} is a released migration (in {LOCK_NAME}) but its file is gone: restore it "
                       f"(`git log -- {path}`); databases have applied it")
            continue
        now = _file_sha(path)
        if now != locked_sha:
            out.append(f"{name} is a released migration and it was edited: its sha256 is now {now}, {LOCK_NAME} "
                       f"says {locked_sha}. Restore it (`git log -p -- {path}`) and add a new migration instead "
                       f"(the next number, then `{ADD_COMMAND}`): databases that applied the old text would "
                       "differ from new ones. Only if it is your own new migration that was never merged, "
                       f"delete its line from {LOCK_NAME} and run `{ADD_COMMAND}` again.")
    for name in sql:
        path = folder / name
        if checksum(path.read_text(encoding="utf-8")) != _file_sha(path):
            out.append(f"{name} has CR LF (or lone CR) line endings: migrate() stores the sha256 of its text with "
                       "\\n endings, the lock that of its bytes; save it with \\n line endings")
    return out, [name for name in sql if name not in locked]


def append_new(folder: Path = MIGRATIONS) -> list[str]:
    """Append a line for each migration not yet in the lock; returns their names.

    Raises LockError, writing nothing, if anything else is wrong (an edited or deleted released
    migration, a gap or a duplicate number): those are fixed by hand, not by re-locking.
    """
    wrong, unlisted = _check(folder)
    if wrong:
        raise LockError("\n".join(wrong))
    if unlisted:
        with (folder / LOCK_NAME).open("a", encoding="utf-8", newline="\n") as f:
            for name in unlisted:
                f.write(f"{_file_sha(folder / name)}  {name}\n")
    return unlisted


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else MIGRATIONS
    try:
        added = append_new(folder)
    except LockError as exc:
        print(f"{folder / LOCK_NAME} not changed:\n{exc}", file=sys.stderr)
        return 1
    print(f"{LOCK_NAME}: added {', '.join(added)}" if added else f"{LOCK_NAME}: every migration is listed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
