"""`citebot serve` with a wrongly configured LLM exits 2 with one sentence, before connecting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.bot.test_serve import run_serve, serve_env


@pytest.mark.timeout(60)
def test_serve_with_an_llm_url_but_no_model_exits_2_with_one_sentence(tmp_path: Path) -> None:
    env = serve_env(
        tmp_path, DISCORD_TOKEN="MTIz.some.token", CITEBOT_LLM_BASE_URL="http://127.0.0.1:9/v1"
    )

    async def main() -> tuple[int, bytes, bytes]:
        process = await run_serve(tmp_path, env)
        out, err = await process.communicate()
        return process.returncode or 0, out, err

    code, out, err = asyncio.run(main())
    assert (code, out.decode()) == (2, "")
    assert err.decode() == (
        "citebot: CITEBOT_LLM_BASE_URL is set: name the model to use in CITEBOT_LLM_MODEL.\n"
    )
