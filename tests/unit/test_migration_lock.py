"""Released migrations are immutable: each file matches its line in migrations/SHA256SUMS, every file is
listed, and the numbers run from 0001 without a gap. Checked on the files alone, so an edit fails CI
even where no database ever ran the old text."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dymunim.db.migrate import migration_files
from dymunim.db.migration_lock import LOCK_NAME, MIGRATIONS, LockError, append_new, main, problems, read_lock


def test_every_released_migration_matches_its_locked_sha256() -> None:
    found = problems()
    assert not found, "\n\n".join(found)


def test_the_lock_lists_exactly_what_migrate_applies_in_the_same_order() -> None:
    # migrate() reads the installed package's folder; the lock is read from the source tree.
    applied = [name for name, _ in migration_files()]
    assert list(read_lock()) == applied
    assert applied[0].startswith("0001_") and len(applied) >= 5


def test_the_lock_is_what_sha256sum_writes() -> None:
    for line in (MIGRATIONS / LOCK_NAME).read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((MIGRATIONS / name).read_bytes()).hexdigest() == digest


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, text in [("0001_a.sql", "CREATE TABLE a (id int);\n"), ("0002_b.sql", "CREATE TABLE b (id int);\n")]:
        (tmp_path / name).write_text(text)
    assert append_new(tmp_path) == ["0001_a.sql", "0002_b.sql"]
    assert problems(tmp_path) == []
    return tmp_path


def test_editing_a_released_migration_says_add_a_new_one_instead(folder: Path) -> None:
    (folder / "0002_b.sql").write_text("CREATE TABLE b (id bigint);\n")
    [found] = problems(folder)
    assert "0002_b.sql is a released migration and it was edited" in found
    assert sha("CREATE TABLE b (id bigint);\n") in found and sha("CREATE TABLE b (id int);\n") in found
    assert "add a new migration instead" in found
    with pytest.raises(LockError, match="add a new migration instead"):
        append_new(folder)  # re-locking never papers over the edit
    assert read_lock(folder)["0002_b.sql"] == sha("CREATE TABLE b (id int);\n")


def test_a_new_file_must_be_added_with_the_make_target_which_only_appends(folder: Path) -> None:
    before = (folder / LOCK_NAME).read_text()
    (folder / "0003_c.sql").write_text("CREATE TABLE c (id int);\n")
    [found] = problems(folder)
    assert "0003_c.sql is not in SHA256SUMS" in found and "make migration-lock" in found
    assert main([str(folder)]) == 0
    assert (folder / LOCK_NAME).read_text() == before + f"{sha('CREATE TABLE c (id int);' + chr(10))}  0003_c.sql\n"
    assert problems(folder) == []
    assert append_new(folder) == []


def test_a_gap_in_the_numbers_is_refused(folder: Path) -> None:
    (folder / "0004_d.sql").write_text("SELECT 1;\n")
    found = problems(folder)
    assert any("no gap" in p and "'0003'" in p for p in found), found
    assert main([str(folder)]) == 1
    assert "0004_d.sql" not in read_lock(folder)


def test_a_number_used_twice_is_refused(folder: Path) -> None:
    (folder / "0002_other.sql").write_text("SELECT 1;\n")
    found = problems(folder)
    assert any("0002 is used twice (0002_b.sql, 0002_other.sql)" in p for p in found), found
    with pytest.raises(LockError):
        append_new(folder)


def test_a_deleted_released_migration_is_reported(folder: Path) -> None:
    (folder / "0002_b.sql").unlink()
    [found] = problems(folder)
    assert "0002_b.sql is a released migration" in found and "gone" in found


def test_names_migrate_would_skip_or_misorder_are_reported(folder: Path) -> None:
    (folder / "0003_c.SQL").write_text("SELECT 1;\n")
    (folder / "3_Bad-Name.sql").write_text("SELECT 1;\n")
    found = problems(folder)
    assert any(p.startswith("0003_c.SQL is never applied") for p in found), found
    assert any(p.startswith("3_Bad-Name.sql: a migration is named NNNN_") for p in found), found


def test_crlf_line_endings_are_reported(folder: Path) -> None:
    (folder / "0003_c.sql").write_bytes(b"SELECT 1;\r\n")
    found = problems(folder)
    assert any("0003_c.sql has CR LF" in p for p in found), found


def test_a_malformed_lock_is_reported_not_crashed_on(folder: Path) -> None:
    with (folder / LOCK_NAME).open("a") as f:
        f.write("not a line\n")
    [found] = problems(folder)
    assert f"{LOCK_NAME}:3: not `<sha256>  <NNNN_name.sql>`" in found
