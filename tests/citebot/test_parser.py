"""The `citebot` parser in-process: no model, no index, milliseconds."""

from __future__ import annotations

import argparse

import pytest

from citebot import __version__
from citebot.cli import build_parser, main
from citebot.commands import command_modules


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
