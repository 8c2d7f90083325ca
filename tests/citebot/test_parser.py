"""The `citebot` parser in-process: no model, no index, milliseconds."""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from citebot import __version__
from citebot.cli import build_parser, main
from citebot.commands import command_modules
from citebot.text import plural


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_each_command_module_adds_its_subcommand() -> None:
    names = {module.__name__.rsplit(".", 1)[1] for module in command_modules()}
    assert {"index", "sources", "ask", "serve"} <= names
    assert names == set(subcommands())


def test_every_subcommand_help_page_has_a_description() -> None:
    for name, parser in subcommands().items():
        assert parser.description and len(parser.description) > 40, name


@pytest.mark.parametrize("argv", [["-v", "sources"], ["sources", "-v"], ["sources", "--verbose"]])
def test_verbose_is_accepted_before_or_after_the_subcommand(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).verbose is True


def test_without_verbose_it_is_off() -> None:
    assert build_parser().parse_args(["sources"]).verbose is False


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"citebot {__version__}\n"


@pytest.mark.parametrize("k", ["0", "-3", "two"])
def test_k_must_be_a_positive_whole_number(k: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["ask", "--k", k, "q"])
    assert stop.value.code == 2
    assert "--k" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "since", "until"),
    [
        ("2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("2023-05", date(2023, 5, 1), date(2023, 5, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-05-14", date(2023, 5, 14), date(2023, 5, 14)),
    ],
)
def test_since_and_until_take_a_year_a_month_or_a_day(given: str, since: date, until: date) -> None:
    args = build_parser().parse_args(["ask", "--since", given, "--until", given, "q"])
    assert (args.since, args.until) == (since, until)


@pytest.mark.parametrize("bad", ["2023-13", "14/05/2023", "23", "2023-5-1x", "yesterday"])
def test_a_bad_date_is_one_sentence_naming_the_format(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["ask", "--since", bad, "q"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"{bad!r}" in err and "YYYY-MM-DD" in err


def test_as_of_defaults_to_today_and_takes_a_date() -> None:
    assert build_parser().parse_args(["ask", "q"]).as_of == date.today()
    args = build_parser().parse_args(["ask", "--as-of", "2024-04-01", "q"])
    assert args.as_of == date(2024, 4, 1)


def test_ask_help_says_the_date_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--since", "--until", "--as-of"):
        assert option in text
    assert "YYYY, YYYY-MM or YYYY-MM-DD" in text


def test_counts_read_as_english() -> None:
    assert [plural(n, "chunk") for n in (0, 1, 2)] == ["0 chunks", "1 chunk", "2 chunks"]
