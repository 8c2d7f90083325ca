"""A scripted OpenAI-compatible server on 127.0.0.1 for tests of the writer (like the Discord
emulator, it is a test utility, not product code).

    with ScriptedLLM().in_thread() as llm:          # for synchronous tests
        llm.script(Scripted(content='It cost "48 million euros" [1].'))
        writer = Writer(WriterSettings(base_url=llm.base_url, model="scripted", ...))

    async with ScriptedLLM() as llm: ...           # inside an event loop (the bot's tests)

Each chat completion takes the next scripted reply (or asks `responder(request_json)`); every
request is recorded with its headers, so a test can check what the writer sent.
"""

from __future__ import annotations

from .server import RecordedCall, Responder, Scripted, ScriptedLLM, quoting

__all__ = ["RecordedCall", "Responder", "Scripted", "ScriptedLLM", "quoting"]
