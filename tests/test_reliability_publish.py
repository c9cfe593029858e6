"""Disk and permission errors while writing the publication (issue #8, "faults in the process").

A disk that fills up (ENOSPC) while the day's files are written or while ``latest/`` is switched,
a directory that may not be written, a day being replaced when the disk fills: the CLI says so in
one line and exits 1 (no traceback), the previous ``latest/`` and the previous day directories
stay as they were and verify against the publisher's key, and no half-written day is visible.
Root ignores file modes, so the permission and disk errors are raised by patching the writer; the
last test uses a real OS error (``--out`` naming a file).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from index import artefacts, cli, jobs, oracle
from index.store import Store
from tests.conftest import REPLAY

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["lambdalabs", "hyperbolic"]
SERIES = ["GPU.H100-SXM.OD.NEO", "GPU.A100-80GB.OD.NEO"]
DAY1, DAY2 = date(2026, 11, 19), date(2026, 11, 20)


@pytest.fixture(scope="module")
def site_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with two computed days and DAY1 published, signed (built once)."""
    root = tmp_path_factory.mktemp("site")
    store = Store(root / "s.duckdb")
    jobs.run_scrape(store, REPLAY, SOURCES)
    jobs.compute_days(store, [DAY1, DAY2], series=SERIES)
    oracle.keygen(root / "k")
    jobs.publish_day(store, DAY1, root / "pub", root / "k.key", refresh_analyst=False)
    return root


@pytest.fixture
def site(site_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(site_template, tmp_path / "site", symlinks=True))


def tree(pub: Path) -> dict[str, str]:
    """Every entry of the publication directory: file -> sha256, link -> target."""
    out = {}
    for p in sorted(pub.rglob("*")):
        rel = str(p.relative_to(pub))
        out[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest() \
            if p.is_file() else "dir"
    return out


def publish(site: Path, day: date, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``spotindex publish`` in this process (so the writer can be patched): its stderr lines."""
    monkeypatch.setattr(sys, "argv", ["spotindex", "publish", "--date", day.isoformat(), "--db", str(site / "s.duckdb"),
                                      "--out", str(site / "pub"), "--key", str(site / "k.key")])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [ln for ln in err.splitlines() if ln.strip()]


def assert_intact(site: Path, before: dict[str, str]) -> None:
    pub = site / "pub"
    assert tree(pub) == before, "the publication directory changed"
    assert os.readlink(pub / "latest") == DAY1.isoformat()
    assert jobs.verify_report(pub / "latest" / "indices.json", site / "k.pub")["date"] == DAY1.isoformat()
    assert not [p.name for p in pub.iterdir() if p.name.startswith(".")], "a temporary entry was left behind"


def enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_a_new_day(site: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(site / "pub")
    monkeypatch.setattr("index.publish.os.fsync", enospc)  # the first file is open, written, not yet on disk
    lines = publish(site, DAY2, capsys, monkeypatch)
    assert len(lines) == 1 and "No space left on device" in lines[0] and "free disk space" in lines[0], lines
    assert_intact(site, before)
    assert not (site / "pub" / DAY2.isoformat()).exists()
    assert Store(site / "s.duckdb").frame("SELECT * FROM publications WHERE date = ?", [DAY2]).height == 0


def test_disk_full_while_replacing_a_published_day(site: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Republishing DAY1 fails at the last step (the new directory cannot be renamed into place):
    the old DAY1, already moved aside, is put back."""
    before = tree(site / "pub")
    real = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".tmp-" in self.name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    lines = publish(site, DAY1, capsys, monkeypatch)
    assert len(lines) == 1 and "No space left on device" in lines[0], lines
    assert_intact(site, before)


def test_permission_denied_on_the_publication_directory(site: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(site / "pub")
    real = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if ".tmp-" in self.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    lines = publish(site, DAY2, capsys, monkeypatch)
    assert len(lines) == 1 and "Permission denied" in lines[0] and "make the directory writable" in lines[0], lines
    assert_intact(site, before)


def test_disk_full_while_switching_latest(site: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The day is complete but ``latest`` cannot be switched: it keeps pointing at the previous day."""
    monkeypatch.setattr(artefacts.os, "symlink", enospc)
    lines = publish(site, DAY2, capsys, monkeypatch)
    assert len(lines) == 1 and "could not be switched" in lines[0] and "still points at 2026-11-19" in lines[0], lines
    pub = site / "pub"
    assert os.readlink(pub / "latest") == DAY1.isoformat()
    assert jobs.verify_report(pub / "latest" / "indices.json", site / "k.pub")["date"] == DAY1.isoformat()
    assert jobs.verify_report(pub / DAY2.isoformat() / "indices.json", site / "k.pub")["date"] == DAY2.isoformat()
    assert not [p.name for p in pub.iterdir() if p.name.startswith(".")]
    monkeypatch.undo()  # the disk has room again: publishing again switches latest
    jobs.publish_day(Store(site / "s.duckdb"), DAY2, pub, site / "k.key", refresh_analyst=False)
    assert os.readlink(pub / "latest") == DAY2.isoformat()


def test_out_naming_a_file_is_one_line(site: Path) -> None:
    """A real OS error, no patching: ``--out`` is a file, not a directory."""
    not_a_dir = site / "pub.txt"
    not_a_dir.write_text("keep me")
    r = subprocess.run([sys.executable, "-m", "index", "publish", "--date", DAY2.isoformat(), "--db",
                        str(site / "s.duckdb"), "--out", str(not_a_dir), "--key", str(site / "k.key")],
                       capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "200"})
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "point --out at a directory" in lines[0], lines
    assert not_a_dir.read_text() == "keep me"
