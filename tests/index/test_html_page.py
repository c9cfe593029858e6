"""The day's HTML page: self-contained, complete, and rendered by a real browser when one is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from index import artefacts, html_page
from tests.index.published import published_replay

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """Collects what the assertions need: tags, attributes, table rows and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self._table = a.get("class") or "?"
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    p.close()
    return p


def day_dir() -> Path:
    return published_replay() / "pub" / "2026-11-20"


def test_page_shows_every_series_with_its_chart_values_and_constituents() -> None:
    d = day_dir()
    report = json.loads((d / "indices.json").read_text())
    page = parse((d / "index.html").read_text())
    ids = [e["id"] for e in report["indices"]]
    svgs = [a for t, a in page.tags if t == "svg"]
    assert len(svgs) == len(ids)
    assert all("daily values over the last 90 days" in (a.get("aria-label") or "") for a in svgs)
    rows = page.tables["values"][1:]  # without the header
    assert [r[0] for r in rows] == ids
    for r, e in zip(rows, report["indices"], strict=True):
        shown = f"{float(e['value']):,.4f}" if e["value"] is not None else "–"  # SUSPENDED: no value
        # a basket is chain-linked from its members' daily values (METHODOLOGY.md §14 T5): no fixings of its own
        fixings = str(e["n_fixings"]) if e["n_fixings"] is not None else "–"
        assert r[3] == e["status"] and r[1] == shown and r[6] == fixings
    articles = [a["id"] for t, a in page.tags if t == "article"]
    assert articles == [f"s-{i}" for i in ids]
    # one constituents table per series; the GPU series here have one venue, the token series several
    constituents = page.tables["constituents"]
    venues = {r[0] for r in constituents if r[0] != "venue"}
    assert "vastai" in venues and len(venues) > 5
    # each series either says that no venue was excluded or has a table of its exclusions with reasons
    none = page.tags.count(("p", {"class": "muted excluded-none"}))
    tables = page.tags.count(("table", {"class": "excluded"}))
    assert none + tables == len(ids) and tables > 0


def test_page_is_self_contained_and_its_links_resolve() -> None:
    d = day_dir()
    text = (d / "index.html").read_text()
    page = parse(text)
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe", "link", "object", "embed")]
    assert not [a for _, a in page.tags if "src" in a]
    assert not re.search(r"url\((?!#)", text) and "@import" not in text, "only in-document url(#id) references"
    external = [v for _, a in page.tags for k, v in a.items()  # xmlns values are names, never fetched
                if v and not k.startswith("xmlns") and re.match(r"^\s*(https?:|//|data:|file:)", v)]
    assert not external
    hrefs = [a["href"] for t, a in page.tags if t == "a" and a.get("href")]
    assert hrefs and all(":" not in h for h in hrefs), "no absolute link, no network asset"
    for h in hrefs:
        if not h.startswith("#"):
            assert (d / h).is_file(), h
        else:
            assert ("article", {"class": "series", "id": h[1:]}) in page.tags
    assert {"indices.json", "indices.csv", "indices.parquet", "METHODOLOGY.md"} <= set(hrefs)
    assert "report not signed" in text and "indices.json.sig" not in hrefs


def _frames() -> tuple[dict, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    report = {"date": "2026-11-20", "publish_time": "2026-11-21T00:30:00Z", "methodology_version": "1.0.0",
              "definitions_version": "1.0.0", "inputs_fingerprint": "ab" * 32,
              "indices": [{"id": "GPU.X", "value": "2.000000", "unit": "USD/GPU-hour", "status": "LOW_CONFIDENCE",
                           "p25": "1.900000", "p75": "2.100000", "conf": "0.100000", "n_fixings": 24,
                           "n_venues": 4, "n_quotes": 40, "revision": 0, "inputs_hash": "cd" * 32}]}
    history = pl.DataFrame({"index_id": ["GPU.X"] * 3, "date": [date(2026, 11, 18), date(2026, 11, 19),
                                                                 date(2026, 11, 20)],
                            "value": [1.8, 1.9, 2.0], "p25": [1.7, 1.8, 1.9], "p75": [1.9, 2.0, 2.1],
                            "status": ["NORMAL", "NORMAL", "LOW_CONFIDENCE"]})
    constituents = pl.DataFrame({"index_id": ["GPU.X"], "venue": ["v1"], "median_price": [2.0], "min_price": [1.9],
                                 "max_price": [2.1], "n_fixings": [24], "n_quotes": [40]})
    excluded = pl.DataFrame({"index_id": ["GPU.X"], "venue": ["cheapo"], "reason": ["> 3.0 scaled MADs"],
                             "n_fixings": [5]})
    return report, history, constituents, excluded


def test_excluded_venues_signature_link_and_band_are_shown() -> None:
    report, history, constituents, excluded = _frames()
    files = {"indices.json", "indices.csv", html_page.SIGNATURE_FILE, html_page.METHODOLOGY_FILE}
    text = html_page.render(report, history, constituents, excluded, files)
    page = parse(text)
    assert page.tables["excluded"][1] == ["cheapo", "> 3.0 scaled MADs", "5"]
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert html_page.SIGNATURE_FILE in hrefs and "report not signed" not in text
    assert "#cfe0f5" in text, "the p25-p75 band is drawn"
    assert html_page.render(report, history, constituents, excluded, files) == text, "rendering is deterministic"
    # without history the chart says so instead of failing
    empty = html_page.render(report, history.clear(), constituents, excluded.clear(), files)
    assert "no values in the last 90 days" in empty and "No venue was excluded" in empty


def test_exclusions_listed_in_fixings_json_reach_the_page() -> None:
    fx = pl.DataFrame({"index_id": ["GPU.X", "GPU.X", "GPU.X"],
                       "excluded": ['[{"venue": "cheapo", "reason": "gross filter"}]',
                                    '[{"venue": "cheapo", "reason": "gross filter"}]', "[]"]})
    x = artefacts._excluded_from_fixings(fx)
    assert x.to_dicts() == [{"index_id": "GPU.X", "venue": "cheapo", "reason": "gross filter", "n_fixings": 2}]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium); "
                                             "the page's structure is still checked by the parser tests above")
def test_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = (day_dir() / "index.html").resolve()
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = parse(dom.stdout)
    report = json.loads((day_dir() / "indices.json").read_text())
    assert len([t for t, _ in rendered.tags if t == "svg"]) == len(report["indices"])
    assert [r[0] for r in rendered.tables["values"][1:]] == [e["id"] for e in report["indices"]]
    shot = tmp_path / "page.png"
    r = subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] == 1600 and pixels.shape[1] == 1280
    assert float(pixels[..., :3].std()) > 0.05, "the screenshot is not blank"


def _history(n: int, weak: bool) -> pl.DataFrame:
    days = [date(2026, 11, 20) - __import__("datetime").timedelta(days=n - 1 - i) for i in range(n)]
    return pl.DataFrame({"date": days, "value": [2.0 + 0.05 * i for i in range(n)],
                         "p25": [1.9 + 0.05 * i for i in range(n)], "p75": [2.2 + 0.05 * i for i in range(n)],
                         "status": ["LOW_CONFIDENCE" if weak and i % 3 == 0 else "NORMAL" for i in range(n)]},
                        schema_overrides={"date": pl.Date})


def test_a_chart_drawn_after_others_equals_the_chart_drawn_on_a_new_figure() -> None:
    """Charts share one figure per process (cleared each time): what came before must not show."""
    day = date(2026, 11, 20)
    cases = [("A", _history(60, True), "USD/GPU-hour"), ("B", _history(1, False), "USD/Mtok"),
             ("C", _history(0, False), "USD/GPU-hour"), ("D", _history(90, False), "USD/Mtok")]
    alone = {}
    for sid, h, unit in cases:
        html_page._FIGURE.clear()
        alone[sid] = html_page.chart_svg(sid, h, unit, day)
    html_page._FIGURE.clear()
    for order in (cases, cases[::-1], cases[1:] + cases[:1]):
        for sid, h, unit in order:
            assert html_page.chart_svg(sid, h, unit, day) == alone[sid], sid
    assert "no values in the last 90 days" in alone["C"] and alone["A"] != alone["D"]
