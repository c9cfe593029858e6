"""Published day directories: every file, latest/ switched forward only and atomically, crash leftovers."""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import polars as pl

from index import artefacts, jobs
from index.store import Store
from tests.index.published import copy_to, published_replay


def test_day_directory_has_report_csv_parquet_page_and_methodology() -> None:
    pub = published_replay() / "pub"
    d = pub / "2026-11-20"
    assert sorted(p.name for p in d.iterdir()) == ["METHODOLOGY.md", "fixings.parquet", "index.html", "indices.csv",
                                                  "indices.json", "indices.parquet"]
    report = json.loads((d / "indices.json").read_text())
    values = pl.read_parquet(d / "indices.parquet")
    assert values["index_id"].to_list() == [e["id"] for e in report["indices"]]
    assert values["value"].round(6).to_list() == [float(e["value"]) if e["value"] is not None else None
                                                  for e in report["indices"]]
    fx = pl.read_parquet(d / "fixings.parquet")
    assert fx["fixing_time"].dt.date().unique().to_list() == [date(2026, 11, 20)]
    assert fx.group_by("index_id").len()["len"].max() == 24
    assert not [p for p in pub.iterdir() if p.name.startswith(".")], "no temporary directory left"


def test_latest_points_at_the_newest_day_and_never_moves_back(tmp_path: Path) -> None:
    root = copy_to(tmp_path / "w")
    pub, store = root / "pub", Store(root / "s.duckdb")
    link = pub / "latest"
    assert link.is_symlink() and os.readlink(link) == "2026-11-20"
    # republishing the older day (a catch-up) leaves latest on the newer one
    jobs.publish_day(store, date(2026, 11, 19), pub, refresh_analyst=False)
    assert os.readlink(link) == "2026-11-20"
    assert json.loads((link / "indices.json").read_text())["date"] == "2026-11-20"
    assert artefacts.switch_latest(pub, date(2026, 11, 19)) is False
    # a plain directory from an older layout is replaced by the link
    os.unlink(link)
    (pub / "latest").mkdir()
    assert artefacts.switch_latest(pub, date(2026, 11, 20)) and os.readlink(link) == "2026-11-20"


def test_recover_restores_a_day_caught_between_renames_and_drops_temporaries(tmp_path: Path) -> None:
    root = copy_to(tmp_path / "w")
    pub = root / "pub"
    dead = 2**22 + 12345  # above the default pid_max: no live process has it
    (pub / "2026-11-19").rename(pub / f".2026-11-19.old-{dead}")  # killed between the two renames
    (pub / f".2026-11-21.tmp-{dead}").mkdir()  # killed while writing a day
    (pub / f".2026-11-21.tmp-{dead}" / "indices.json").write_text("{")
    os.symlink("2026-11-20", pub / f".latest.tmp-{dead}")
    done = artefacts.recover(pub)
    assert len(done) == 3
    assert (pub / "2026-11-19" / "indices.json").is_file()
    assert sorted(p.name for p in pub.iterdir()) == ["2026-11-19", "2026-11-20", "latest"]
    # an old copy beside a complete day is just removed
    (pub / f".2026-11-20.old-{dead}").mkdir()
    assert artefacts.recover(pub) == [f"removed .2026-11-20.old-{dead}"]


def test_parquet_bytes_round_trip() -> None:
    df = pl.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert pl.read_parquet(io.BytesIO(artefacts._parquet(df))).equals(df)
