"""`citebot serve` as a user runs it: a real process, settings from the environment.

Without a token, or with one the API rejects, it exits 2 after one sentence (and never prints
the token); with a good one it answers in the server until SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.runner import TOKEN_REJECTED
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
        log = err.decode()
        assert process.returncode == 0, log
        assert f"registered 4 commands in server {emu.guild.id}" in log
        assert emu.token not in log + out.decode()
        assert (own_index.data / "feedback.sqlite").is_file()

    run_scenario(scenario)
