"""`citebot add` and `citebot refresh` as a user runs them (a subprocess, the real model),
against the local news site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.index.ingest.web.site import NewsSite, site_in_thread

CLI = [sys.executable, "-m", "citebot"]
LENIENT = {"CITEBOT_ALLOW_PRIVATE_URLS": "true", "CITEBOT_HOST_DELAY": "0"}


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with site_in_thread() as served:
        yield served


def test_add_writes_indexes_and_answers_and_a_second_add_changes_nothing(
    tmp_path: Path, site: NewsSite
) -> None:
    page, gone = site.url("/news/ferries.html"), site.url("/news/gone.html")
    result = run("add", page, gone, "--json", cwd=tmp_path, env=LENIENT)
    assert result.returncode == 1, result.stderr  # one URL could not be added
    report = json.loads(result.stdout)
    assert (report["added"], report["failed"]) == (1, 1)
    added, failed = report["pages"]
    assert added["path"].startswith("web/127.0.0.1_") and added["status"] == "added"
    assert failed["reason"] == f"{gone}: the server answered HTTP 404 Not Found"
    assert report["index"]["added"] == 1 and report["index"]["articles"] == 1

    answer = run("ask", "--json", "How many passengers does an electric ferry carry?", cwd=tmp_path)
    quotes = json.loads(answer.stdout)["quotes"]
    assert any("150 passengers" in q["text"] and q["url"] == page for q in quotes), answer.stdout

    again = run("add", page, cwd=tmp_path, env=LENIENT)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"unchanged    {page}",
        "0 added, 0 updated, 1 unchanged, 0 skipped, 0 failed, 0 removed.",
        "Nothing changed: the index is as it was.",
    ]


def test_refresh_adds_the_new_entries_once_and_reports_every_failure(
    tmp_path: Path, site: NewsSite
) -> None:
    (tmp_path / "feeds.txt").write_text(f"{site.url('/rss.xml')}\n{site.url('/atom.xml')}\n")
    env = {**LENIENT, "CITEBOT_FETCH_TIMEOUT": "1"}
    first = run("refresh", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert sum(line.startswith("added ") for line in lines) == 5
    assert sum(line.startswith("failed ") for line in lines) == 7
    assert f"failed       {site.url('/private/secret.html')}: robots.txt of 127.0.0.1" in (
        first.stdout
    )
    assert (
        "2 feeds (0 failed): 5 added, 0 updated, 0 unchanged, 0 skipped, 7 failed" in first.stdout
    )
    assert lines[-1].startswith("Indexed 5 articles (")

    site.hits.clear()
    second = run("refresh", "--json", cwd=tmp_path, env=env)
    report = json.loads(second.stdout)
    assert [f["status"] for f in report["feeds"]] == ["not modified", "not modified"]
    assert report["added"] == 0 and report["index"] is None
    assert site.statuses(exclude_robots=False) == [304, 304]


def test_internal_addresses_are_refused_by_default(tmp_path: Path, site: NewsSite) -> None:
    urls = [site.url("/news/ferries.html"), "http://169.254.169.254/latest/meta-data/"]
    result = run("add", *urls, cwd=tmp_path)
    assert result.returncode == 1
    assert (
        f"failed       {urls[0]}: refused to contact 127.0.0.1: a loopback address; "
        "set CITEBOT_ALLOW_PRIVATE_URLS=true to allow internal addresses"
    ) in result.stdout
    assert "refused to contact 169.254.169.254: a link-local address" in result.stdout
    assert site.hits == []
    assert not (tmp_path / "articles").exists()


def test_refresh_without_a_feeds_file_says_what_to_do(tmp_path: Path) -> None:
    result = run("refresh", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "citebot: No feeds file at feeds.txt: create it with one RSS or Atom URL per line "
        "(or point CITEBOT_FEEDS_FILE or --feeds at yours).\n"
    )


def test_the_flags_and_settings_reach_the_fetch(tmp_path: Path, site: NewsSite) -> None:
    """--articles, --data and --no-index, and CITEBOT_MAX_PAGE_MB, CITEBOT_FEEDS_FILE and
    CITEBOT_KEEP_DAYS from the environment, each change what `add` and `refresh` do."""
    page = site.url("/news/ferries.html")  # 715 bytes; added below with the default 5 MB
    small = run("add", page, cwd=tmp_path, env={**LENIENT, "CITEBOT_MAX_PAGE_MB": "0.0005"})
    assert small.returncode == 1
    assert f"failed       {page}: the page is larger than 0.000499725 MB (CITEBOT_MAX_PAGE_MB)" in (
        small.stdout
    )

    where = ["--articles", "mine", "--data", "store", "--no-index"]
    added = run("add", page, *where, cwd=tmp_path, env=LENIENT)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1] == (
        "Not indexed (--no-index): run `citebot index` to index them."
    )
    (written,) = (tmp_path / "mine" / "web").rglob("*.md")
    assert not (tmp_path / "articles").exists() and (tmp_path / "store").is_dir()

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "followed.txt").write_text(f"{site.url('/atom.xml')}\n")
    site.hits.clear()
    env = {**LENIENT, "CITEBOT_FEEDS_FILE": "conf/followed.txt", "CITEBOT_KEEP_DAYS": "30"}
    refreshed = run("refresh", *where, "--json", cwd=tmp_path, env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    report = json.loads(refreshed.stdout)
    assert [f["url"] for f in report["feeds"]] == [site.url("/atom.xml")]
    # Everything on the site is from June 2024: older than 30 days, so nothing is fetched,
    # and the page added above is deleted.
    assert (report["added"], report["skipped"], report["index"]) == (0, 2, None)
    assert [p["reason"].split(",")[1] for p in report["pages"]] == [
        " older than CITEBOT_KEEP_DAYS allows"
    ] * 2
    assert report["removed"] == [written.relative_to(tmp_path / "mine").as_posix()]
    assert not written.exists()
    assert [h.path for h in site.hits] == ["/atom.xml"]  # robots.txt was kept in store/
