"""`citebot serve` as a user runs it: a real process, settings from the environment.

Without a token, or with one the API rejects, it exits 2 after one sentence (and never prints
the token); with a good one it answers in the server until SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runner import TOKEN_REJECTED
from index.settings import EngineSettings
from tests.bot.engines import IndexDirs
from tests.bot.harness import STEP_TIMEOUT, embed_text, replies_to, run_scenario
from tests.discord_emulator import DiscordEmulator

REPO = Path(__file__).parents[2]
NO_TOKEN = (
    "citebot: DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
    "(see .env.example).\n"
)


def serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The test process's environment without any citebot settings, plus `settings`."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_") and k != "DISCORD_TOKEN"
    }
    env.update({"PYTHONPATH": str(REPO), "CITEBOT_DATA_DIR": str(tmp_path / "data"), **settings})
    return env


async def run_serve(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "citebot",
        *args,
        "serve",
        cwd=tmp_path,  # no stray .env
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.timeout(60)
def test_serve_without_a_token_exits_2_with_one_sentence(tmp_path: Path) -> None:
    async def main() -> tuple[int, bytes, bytes]:
        process = await run_serve(tmp_path, serve_env(tmp_path))
        out, err = await process.communicate()
        return process.returncode or 0, out, err

    code, out, err = asyncio.run(main())
    assert (code, out.decode(), err.decode()) == (2, "", NO_TOKEN)


@pytest.mark.timeout(60)
def test_serve_with_a_rejected_token_exits_2_with_one_sentence(tmp_path: Path) -> None:
    wrong = "MTIz.wrong-token.abcdef"

    async def scenario(emu: DiscordEmulator) -> None:
        env = serve_env(
            tmp_path,
            DISCORD_TOKEN=wrong,
            CITEBOT_DISCORD_API_BASE=emu.api_base,
            CITEBOT_DISCORD_GATEWAY_URL=emu.gateway_url,
        )
        process = await run_serve(tmp_path, env)
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert (process.returncode, out.decode()) == (2, "")
        assert err.decode() == f"citebot: {TOKEN_REJECTED}\n"
        (login,) = emu.requests
        assert (login.path, login.status) == ("/users/@me", 401)

    run_scenario(scenario)


@pytest.mark.slow  # a fresh process imports torch and loads the model: ~20 s
@pytest.mark.timeout(90)
def test_serve_answers_in_the_server_and_stops_on_sigterm(
    own_index: IndexDirs, tmp_path: Path
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        env = serve_env(
            tmp_path,
            DISCORD_TOKEN=emu.token,
            CITEBOT_DATA_DIR=str(own_index.data),
            CITEBOT_ARTICLES_DIR=str(own_index.articles),
            CITEBOT_GUILD_IDS=str(emu.guild.id),
            CITEBOT_DISCORD_API_BASE=emu.api_base,
            CITEBOT_DISCORD_GATEWAY_URL=emu.gateway_url,
            CITEBOT_EMBED_BACKEND="torch",  # the backend the session index was built with
        )
        process = await run_serve(tmp_path, env, "-v")
        try:
            await emu.wait_for_gateway_frame(2, timeout=60)  # IDENTIFY: set up and synced
            names = {c["name"] for c in emu.commands()}
            assert names == {"ask", "sources", "reindex", "Find sources"}
            question = await emu.send_message(f"{emu.bot_user.mention} Who found the comet?")
            reply = await emu.wait_for_message(
                emu.channel.id, replies_to(question), timeout=STEP_TIMEOUT
            )
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 30)
        assert "discovered a new comet" in embed_text(reply)
        log = out.decode()  # the log is serve's output: on stdout, for a service manager
        assert process.returncode == 0, log + err.decode()
        assert f"registered 4 commands in server {emu.guild.id}" in log
        assert emu.token not in log + err.decode()
        assert_one_line_per_event(log)
        assert (own_index.data / "feedback.sqlite").is_file()

    run_scenario(scenario)


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


def assert_one_line_per_event(log: str) -> None:
    """Every line is a whole record (a traceback folded into it), with no colour codes."""
    assert log and "\x1b[" not in log
    for line in log.splitlines():
        assert LOG_LINE.match(line), line


def article(n: int) -> str:
    """A distinct small article (a title line and a few sentences)."""
    return (
        f"Harbour log entry {n}\n"
        f"On day {n} the harbour master counted {n * 7 % 97} ships and {n * 13 % 89} ferries. "
        f"Weather station {n % 17} reported winds of {n % 40} knots from the north-west.\n"
    )


def current(data: Path) -> str:
    return (data / "CURRENT").read_text().strip()


@pytest.mark.slow  # a fresh process imports torch and loads the model, then embeds
@pytest.mark.timeout(240)
def test_sigterm_during_a_reindex_abandons_it_safely(own_index: IndexDirs, tmp_path: Path) -> None:
    """SIGTERM while /reindex embeds: the bot stops at once (exit 0, no traceback), the live
    index is untouched, and the next `citebot index` succeeds with every article."""
    for n in range(300):  # about ten embedding batches: a window for the signal on any machine
        (own_index.articles / f"harbour-log-{n:03d}.txt").write_text(article(n))
    before = current(own_index.data)
    env = serve_env(
        tmp_path,
        DISCORD_TOKEN="",
        CITEBOT_DATA_DIR=str(own_index.data),
        CITEBOT_ARTICLES_DIR=str(own_index.articles),
        CITEBOT_EMBED_BACKEND="torch",  # the backend the session index was built with
    )

    async def scenario(emu: DiscordEmulator) -> None:
        env.update(
            DISCORD_TOKEN=emu.token,
            CITEBOT_GUILD_IDS=str(emu.guild.id),
            CITEBOT_DISCORD_API_BASE=emu.api_base,
            CITEBOT_DISCORD_GATEWAY_URL=emu.gateway_url,
        )
        process = await run_serve(tmp_path, env, "-v")
        assert process.stdout is not None
        lines: list[str] = []
        try:
            await emu.wait_for_gateway_frame(2, timeout=60)
            await emu.run_slash_command("reindex", user=emu.owner)
            while "INFO bot.async_engine: reindexing " not in (lines or [""])[-1]:
                raw = await asyncio.wait_for(process.stdout.readline(), 60)
                assert raw, "serve ended before the reindex started"
                lines.append(raw.decode())
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 60)
        log = "".join(lines) + out.decode()
        assert process.returncode == 0, log + err.decode()
        assert "abandoning the running reindex" in log, log
        assert "Traceback" not in log + err.decode(), log + err.decode()
        assert_one_line_per_event(log)

    run_scenario(scenario)
    assert current(own_index.data) == before  # still the previous generation
    index = subprocess.run(
        [sys.executable, "-m", "citebot", "index", "--json", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert index.returncode == 0, index.stderr
    report = json.loads(index.stdout)
    assert (report["added"], report["articles"]) == (300, 304)
    assert current(own_index.data) != before


README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_unit() -> configparser.ConfigParser:
    """The systemd unit README.md shows for running citebot on a server."""
    match = re.search(r"```ini\n(# /etc/systemd/system/citebot.service\n.*?)```", README, re.S)
    assert match, "README.md lost its systemd unit"
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read_string(match.group(1))
    return unit


def test_the_readmes_systemd_unit_runs_serve_where_its_settings_and_data_are() -> None:
    """Issue 13, item 8: restarted on failure but not on a setting to fix (exit 2, as the tests
    above show for a missing or rejected token), `.env` from the working directory, which holds
    `data/` (the default CITEBOT_DATA_DIR is relative)."""
    service = readme_unit()["Service"]
    home = Path(service["WorkingDirectory"])
    assert Path(service["EnvironmentFile"]) == home / ".env"
    assert service["ExecStart"].split() == [str(home / ".venv" / "bin" / "citebot"), "serve"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"
    assert EngineSettings.model_fields["data_dir"].default == Path("data")  # under home
