"""Self-tests of `conformance publish`: a site built from a series of real runs against the mock and a mutant.

The series (made once per module): watsonx and andibase behind one loopback server whose app is
swapped between runs, so every run has the same target:

1. the reference mock, watsonx spec 0.1.0;
2. the `success-status-swapped` mutant (both vendors fail);
3. the same mutant and seed, with a baseline that accepts watsonx's failures (expiring 2099-12-31);
4. the reference mock again, with watsonx's spec copied as version 0.2.0 (an upgrade; everything fixed).
"""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from conformance.cli import main
from conformance.mock import create_app
from conformance.publish import publish
from conformance.publish.site import SCHEMA_PATH, derived_failure_id, utc_stamp
from conformance.reports._common import OUTCOMES
from conformance.reports.badge import render_badge
from conformance.reports.json import load_run
from conformance.vendors import select_vendors
from tests.suite_runner import TOKEN, mock_target, run_suite

ROOT = Path(__file__).resolve().parent.parent
VENDORS = ["watsonx", "andibase"]
MUTANT = "success-status-swapped"
EXAMPLES = ("--max-examples", "5")
ATOM = "{http://www.w3.org/2005/Atom}"


class Switch:
    """An ASGI app that forwards to whichever app is current: one target URL for the whole series."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Series:
    runs: list[Path]  # conformance.json of runs 1..4
    data: list[dict[str, Any]]


def _app(mutant: str | None) -> Any:
    return create_app(select_vendors(VENDORS), tokens=[TOKEN], mutant=mutant, prefix_by_vendor=True)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Series:
    base = tmp_path_factory.mktemp("series")
    vendors_v2 = base / "vendors-v2"  # watsonx's next spec version, overriding the bundled one by key
    bundled = ROOT / "conformance" / "bundled"
    (vendors_v2 / "profiles").mkdir(parents=True)
    shutil.copy(bundled / "profiles" / "watsonx.toml", vendors_v2 / "profiles" / "watsonx.toml")
    shutil.copytree(bundled / "specs" / "watsonx-0.1.0", vendors_v2 / "specs" / "watsonx-0.1.0")
    spec = vendors_v2 / "specs" / "watsonx-0.1.0" / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "\n  version: 0.1.0\n" in text
    spec.write_text(text.replace("\n  version: 0.1.0\n", "\n  version: 0.2.0\n", 1), encoding="utf-8")

    switch = Switch(_app(None))
    runs: list[Path] = []
    with mock_target(VENDORS, wrap=lambda _: switch) as target:

        def run(n: int, seed: int, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
            out = base / f"run{n}"
            result = run_suite(out, *EXAMPLES, *args, target=target, vendors=VENDORS, seed=seed, env=env)
            assert result.report is not None, result.stdout[-3000:] + result.stderr[-3000:]
            runs.append(out / "conformance.json")
            return result.report

        first = run(1, 1)
        switch.app = _app(MUTANT)
        second = run(2, 2)
        failing = sorted({r["check"] for r in second["results"] if r["vendor"] == "watsonx" and r["failures"]})
        assert failing, "the mutant must break watsonx"
        baseline = base / "baseline.toml"
        baseline.write_text(
            "version = 2\n"
            + "".join(
                f'[[entry]]\nid = "*"\nvendor = "watsonx"\noperation = "POST /v1/threads"\ncheck = "{check}"\n'
                f'reason = "vendor ticket WX-1"\nexpires = "2099-12-31"\n'
                for check in failing
            ),
            encoding="utf-8",
        )
        third = run(3, 2, f"--baseline={baseline}")
        switch.app = _app(None)
        fourth = run(4, 4, f"--vendors-dir={vendors_v2}")
    assert any(r["outcome"] == "failed" for r in second["results"] if r["vendor"] == "andibase")
    assert {r["outcome"] for r in third["results"] if r["vendor"] == "watsonx" and r["failures"]} == {"accepted"}
    assert [v["spec_version"] for v in fourth["vendors"] if v["vendor"] == "watsonx"] == ["0.2.0"]
    assert all(r["outcome"] not in ("failed", "stale") for r in (*first["results"], *fourth["results"]))
    return Series(runs, [first, second, third, fourth])


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _failure_ids(report: dict[str, Any], vendor: str) -> set[str]:
    return {
        f.get("id") or derived_failure_id(vendor, r["operation"], r["check"], f["title"])
        for r in report["results"]
        if r["vendor"] == vendor
        for f in r["failures"]
    }


def _site_files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(series: Series, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    added, skipped, _ = publish(series.runs, out)
    assert len(added) == 4 and skipped == []
    return out


# --- the matrix -------------------------------------------------------------------------------------------------


def _worst(outcomes: list[str]) -> str:
    return min(outcomes, key=OUTCOMES.index)


def test_index_json_validates_and_holds_the_latest_matrix(series: Series, site: Path) -> None:
    index = _json(site / "index.json")
    jsonschema.Draft202012Validator(_json(SCHEMA_PATH)).validate(index)
    assert _json(site / "index.schema.json") == _json(SCHEMA_PATH)
    rows = {(r["vendor"], r["spec_version"]): r for r in index["latest"]}
    # watsonx 0.1.0 last ran in run 3 (accepted), 0.2.0 in run 4; andibase last ran in run 4.
    expected_run = {("watsonx", "0.1.0"): 2, ("watsonx", "0.2.0"): 3}
    andibase_version = next(v["spec_version"] for v in series.data[3]["vendors"] if v["vendor"] == "andibase")
    expected_run[("andibase", andibase_version)] = 3
    assert set(rows) == set(expected_run)
    for key, n in expected_run.items():
        row, report = rows[key], series.data[n]
        assert row["started_at"] == utc_stamp(report["started_at"]) and row["seed"] == report["seed"]
        assert row["tool_version"] == report["tool_version"]
        assert "?" not in row["target"] and row["target"].startswith("http://127.0.0.1:")
        by_check: dict[str, list[str]] = {}
        for r in report["results"]:
            if r["vendor"] == key[0]:
                by_check.setdefault(r["check"], []).append(r["outcome"])
        assert {c: cell["outcome"] for c, cell in row["cells"].items()} == {c: _worst(o) for c, o in by_check.items()}
    accepted = rows[("watsonx", "0.1.0")]["cells"]
    assert any(cell["outcome"] == "accepted" and cell["failure_ids"] and cell["href"] for cell in accepted.values())


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.cells: list[tuple[str, str]] = []  # (row vendor@version, outcome) of index matrix cells
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag in ("a", "link") and a.get("href") is not None:
            self.hrefs.append(a["href"] or "")
        if tag == "tr" and a.get("data-vendor"):
            self._row = f"{a['data-vendor']}@{a.get('data-version')}"
        if tag == "td" and a.get("data-outcome") and self._row:
            self.cells.append((self._row, a["data-outcome"] or ""))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_index_html_matrix_is_a_table_with_headers_and_symbols(series: Series, site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<table class="matrix">' in html and "<caption" in html
    assert html.count('<th scope="col" class="check">') == len(_json(site / "index.json")["checks"])
    assert html.count('<th scope="row" class="rowhead">') == 3
    index = _json(site / "index.json")
    expected = [
        (f"{r['vendor']}@{r['spec_version']}", cell["outcome"]) for r in index["latest"] for cell in r["cells"].values()
    ]
    assert _parse(site / "index.html").cells == expected
    # status by symbol and words, not colour alone
    assert "✓" in html and "≈" in html and "accepted deviation" in html
    assert "<script" not in html


def test_every_link_resolves_inside_the_site(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + 2 + 4  # index, one page per vendor, one report per run
    for page in pages:
        for href in _parse(page).hrefs:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{page.name}: {href}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file() and site.resolve() in target.parents, f"{page}: {href}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in _parse(target).ids, f"{page}: {href}"


# --- history ------------------------------------------------------------------------------------------------------


def test_first_seen_and_fixed_dates(series: Series, site: Path) -> None:
    index = _json(site / "index.json")
    lives = {(x["vendor"], x["id"]): x for x in index["failures"]}
    second, fourth = series.data[1], series.data[3]
    for vendor in VENDORS:
        ids = _failure_ids(second, vendor)
        assert ids
        for fid in ids:
            life = lives[(vendor, fid)]
            assert life["first_seen"] == utc_stamp(second["started_at"])
            assert life["fixed"] == utc_stamp(fourth["started_at"])
            assert life["fixed_run"] == index["runs"][3]["id"]
    assert {k for k in lives} == {(v, f) for v in VENDORS for f in _failure_ids(second, v)}
    page = (site / "vendors" / "watsonx.html").read_text(encoding="utf-8")
    for fid in _failure_ids(second, "watsonx"):
        assert f'<tr data-failure="{fid}">' in page
    assert "upgrade from 0.1.0" in page and '<svg class="chart" role="img"' in page
    assert page.count('<rect class="bar"') >= 2  # runs 2 and 3 failed (accepted or not) on some check


def test_accepted_deviation_open_time_and_expiry(series: Series, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(series.runs[:3], out)
    page = (out / "vendors" / "watsonx.html").read_text(encoding="utf-8")
    section = page.split("<h3>Accepted deviations</h3>", 1)[1]
    for fid in _failure_ids(series.data[2], "watsonx"):
        assert f'<tr data-failure="{fid}">' in section
    start, end = utc_stamp(series.data[2]["started_at"])[:10], "2099-12-31"
    left = (date.fromisoformat(end) - date.fromisoformat(start)).days
    assert f"in {left} days" in section and "vendor ticket WX-1" in section
    assert re.search(r'<td class="open-days">0 days</td>', section)


# --- feeds ---------------------------------------------------------------------------------------------------------


def test_atom_feed_lists_new_failures_fixes_and_versions(series: Series, site: Path) -> None:
    root = ET.fromstring((site / "feed.atom").read_bytes())
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))
    kinds = [(e.find(f"{ATOM}category").get("term"), e.findtext(f"{ATOM}title")) for e in entries]  # type: ignore[union-attr]
    failures = sum(len(_failure_ids(series.data[1], v)) for v in VENDORS)
    assert sum(1 for k, _ in kinds if k == "new-failure") == failures
    assert sum(1 for k, _ in kinds if k == "fixed") == failures
    versions = [t for k, t in kinds if k == "new-version"]
    assert len(versions) == 3 and any("upgraded from 0.1.0 to spec version 0.2.0" in t for t in versions)
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    assert root.findtext(f"{ATOM}updated") == updated[0] == utc_stamp(series.data[3]["started_at"])


def test_badges_are_the_latest_run_of_each_vendor(series: Series, site: Path) -> None:
    latest = load_run(series.runs[3])
    for vendor in VENDORS:
        assert _json(site / "badges" / f"{vendor}.json") == render_badge(latest, vendor)


# --- determinism, incremental ---------------------------------------------------------------------------------------


def test_deterministic_and_incremental(series: Series, site: Path, tmp_path: Path) -> None:
    # In reverse order, all at once: the same bytes.
    reverse = tmp_path / "reverse"
    publish(list(reversed(series.runs)), reverse)
    assert _site_files(reverse) == _site_files(site)
    # Two at a time, the run files deleted after publishing: the site is the record.
    stepwise = tmp_path / "stepwise"
    copies = []
    for n, path in enumerate(series.runs):
        copy = tmp_path / f"copy{n}.json"
        shutil.copy(path, copy)
        copies.append(copy)
    publish(copies[:2], stepwise)
    for copy in copies[:2]:
        copy.unlink()
    added, skipped, _ = publish([*copies[2:]], stepwise)
    assert len(added) == 2 and skipped == []
    assert _site_files(stepwise) == _site_files(site)
    # Publishing a run again adds nothing and changes nothing.
    before = _site_files(stepwise)
    added, skipped, _ = publish([series.runs[0], series.runs[3]], stepwise)
    assert added == [] and len(skipped) == 2
    assert _site_files(stepwise) == before
    assert len(_json(stepwise / "index.json")["runs"]) == 4


def test_no_report_body_is_duplicated(series: Series, site: Path) -> None:
    index = (site / "index.json").read_text(encoding="utf-8")
    assert '"response_body"' not in index and "curl " not in index
    for n, path in enumerate(series.runs):
        rid = _json(site / "index.json")["runs"][n]["id"]
        assert (site / "runs" / rid / "report.html").is_file()
        assert not filecmp.cmp(path, site / "runs" / rid / "report.html")
    assert not list(site.rglob("conformance.json"))


def test_failure_ids_from_the_run_file_are_used(series: Series, tmp_path: Path) -> None:
    """A conformance.json whose failures carry an `id` (newer files) is followed by that id, not a stand-in."""
    data = [_json(path) for path in series.runs[1:3]]
    given: dict[tuple[str, str, str], str] = {}
    for run in data:
        for result in run["results"]:
            for failure in result["failures"]:
                key = (result["vendor"], result["check"], failure["title"])
                failure["id"] = given.setdefault(key, f"F-{len(given):08x}")
    paths = []
    for n, run in enumerate(data):
        paths.append(tmp_path / f"run{n}.json")
        paths[-1].write_text(json.dumps(run), encoding="utf-8")
    out = tmp_path / "site"
    publish(paths, out)
    lives = _json(out / "index.json")["failures"]
    assert sorted(x["id"] for x in lives) == sorted(given.values())
    assert not any(x["derived_id"] for x in lives)
    assert all(x["runs_seen"] == 2 for x in lives)
    page = (out / "vendors" / "watsonx.html").read_text(encoding="utf-8")
    assert any(f'<tr data-failure="{fid}">' in page for fid in given.values())


# --- escaping, bad input --------------------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>\x00\x07\x1b[31m\ufffe"


def test_everything_from_a_run_is_escaped(series: Series, tmp_path: Path) -> None:
    data = _json(series.runs[1])
    data["vendors"][0]["display_name"] = '<img src=x onerror="alert(1)">' + HOSTILE
    data["vendors"][0]["spec_version"] = HOSTILE
    data["vendors"][0]["target_url"] = "https://user:pw@example.test/x?token=abc#frag"
    failing = next(r for r in data["results"] if r["failures"])
    failing["failures"][0]["title"] = HOSTILE
    failing["failures"][0]["message"] = HOSTILE
    if failing["failures"][0]["exchange"]:
        failing["failures"][0]["exchange"]["response_body"] = "</pre>" + HOSTILE
    run = tmp_path / "hostile.json"
    run.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "site"
    publish([run], out)
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        assert "user:pw" not in text and "token=abc" not in text, path
        if path.suffix == ".json":
            json.loads(text)  # data: JSON's own escaping carries any string
            continue
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", text), path
    ET.fromstring((out / "feed.atom").read_bytes())
    index = _json(out / "index.json")
    assert index["latest"][0]["target"] == "https://example.test/x" or any(
        r["target"] == "https://example.test/x" for r in index["latest"]
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "results file not found"),
        ("{not json", "is not valid JSON"),
        ('{"schema_version": 1}', "is not a conformance results file"),
        ("[" * 100_000 + "]" * 100_000, "results file"),
    ],
)
def test_bad_run_files_are_one_line_usage_errors(tmp_path: Path, capsys, content: str | None, expected: str) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["publish", str(path), "--out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conformance: error: ") and expected in err and err.count("\n") == 1
    assert not (tmp_path / "site").exists()


def test_a_damaged_site_index_is_a_usage_error(series: Series, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.json").write_text('{"site_version": 1, "runs": [{"id": "../../x"}]}', encoding="utf-8")
    assert main(["publish", str(series.runs[0]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not a conformance site index" in err and err.count("\n") == 1


def test_an_unusable_out_is_a_usage_error(series: Series, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    for out in (blocker, blocker / "site"):
        assert main(["publish", str(series.runs[0]), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("conformance: error: ") and str(blocker) in err and err.count("\n") == 1


def test_cli_publish(series: Series, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    assert main(["publish", *map(str, series.runs[:2]), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"published 2 run(s) to {out}")
    assert main(["publish", str(series.runs[0]), "--out", str(out)]) == 0
    assert "0 run(s), 1 already published" in capsys.readouterr().out


# --- in a real browser ----------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium chromium-driver)")
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_site_in_headless_chromium(site: Path, monkeypatch, javascript: bool) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.test_reports import CHROME_FLAGS

    chromedriver = shutil.which("chromedriver")
    if chromedriver is None:
        pytest.fail("chromium is installed but chromedriver is not (apt-get install chromium-driver)")
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (*CHROME_FLAGS, f"--user-data-dir={site.parent / ('profile-' + str(javascript))}"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        index = _json(site / "index.json")
        driver.get((site / "index.html").as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "table.matrix tbody tr")
        assert len(rows) == len(index["latest"]) and all(r.is_displayed() for r in rows)
        # The whole matrix fits a 1,280 px window: no horizontal scrolling.
        wrap = driver.find_element(By.CSS_SELECTOR, "#matrix .table-wrap")
        assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", wrap)
        # From the keyboard: tabbing reaches a matrix cell's link.
        body = driver.find_element(By.TAG_NAME, "body")
        for _ in range(60):
            body.send_keys(Keys.TAB) if _ == 0 else driver.switch_to.active_element.send_keys(Keys.TAB)
            if driver.execute_script("return !!document.activeElement.closest('td.cell')"):
                break
        else:
            pytest.fail("no matrix cell link reachable with Tab")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        assert "/runs/R-" in driver.current_url and "#r-" in driver.current_url
        # The reproduction shows: opened by the report's script, or without it by the :target rule.
        anchor = driver.current_url.split("#", 1)[1]
        details = driver.find_element(By.ID, anchor)
        assert (details.get_attribute("open") is not None) == javascript
        curl = details.find_element(By.CSS_SELECTOR, "pre.curl")
        # Measured, as Selenium's is_displayed() takes everything inside a closed <details> for hidden.
        assert driver.execute_script("return arguments[0].getBoundingClientRect().height", curl) > 0
        assert "curl " in driver.execute_script("return arguments[0].innerText", curl)

        for vendor in VENDORS:
            driver.get((site / "vendors" / f"{vendor}.html").as_uri())
            assert driver.find_element(By.CSS_SELECTOR, "svg.chart").is_displayed()
            assert len(driver.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")) == 4
            assert driver.find_elements(By.CSS_SELECTOR, "table.lifecycles tbody tr")

        report = site / index["runs"][1]["report"]
        driver.get(report.as_uri())
        wrap = driver.find_element(By.CSS_SELECTOR, "#matrix .table-wrap")
        assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", wrap)

        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe
        requested = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
        fetched = [
            url for url in requested if url.split(":", 1)[0] not in ("file", "data", "chrome", "chrome-untrusted")
        ]
        assert fetched == [], fetched
    finally:
        driver.quit()
