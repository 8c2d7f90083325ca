"""The emulator refuses what Discord refuses: requests beyond a route's rate limit (with real
`X-RateLimit-*` headers), an interaction answered after 3 seconds, a follow-up after the
15-minute token expired, embed footers and authors over their limits; and it reports every
mention that would ping, in embeds too. Raw HTTP requests, so no client hides a mistake; the
clock is the emulator's, moved ahead instead of waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.discord_emulator import DiscordEmulator

Scenario = Callable[[DiscordEmulator, aiohttp.ClientSession], Awaitable[None]]
BUTTON = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Go", "custom_id": "go"}]}


def run(scenario: Scenario) -> None:
    async def main() -> None:
        async with DiscordEmulator() as emu:
            headers = {"Authorization": f"Bot {emu.token}"}
            async with aiohttp.ClientSession(emu.api_base + "/", headers=headers) as http:
                await scenario(emu, http)

    asyncio.run(main())


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
    async with http.post(path.lstrip("/"), json=body) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


def test_a_route_refuses_requests_beyond_its_limit_until_its_window_resets() -> None:
    async def scenario(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        path = f"channels/{emu.channel.id}/messages"
        answers = [await post(http, path, {"content": f"message {n}"}) for n in range(6)]
        other = emu.add_text_channel("other")
        elsewhere = await post(http, f"channels/{other.id}/messages", {"content": "hi"})
        emu.advance_clock(5.0)
        later = await post(http, path, {"content": "after the window"})

        statuses = [status for status, _, _ in answers]
        assert statuses == [200] * 5 + [429]
        remaining = [h["X-RateLimit-Remaining"] for _, h, _ in answers[:5]]
        assert remaining == ["4", "3", "2", "1", "0"]
        _, headers, _ = answers[0]
        assert (
            headers["X-RateLimit-Limit"] == "5"
            and 0 < float(headers["X-RateLimit-Reset-After"]) <= 5
        )
        assert headers["X-RateLimit-Bucket"] == answers[5][1]["X-RateLimit-Bucket"]
        _, headers, body = answers[5]
        assert body["retry_after"] > 0 and body["global"] is False
        assert headers["X-RateLimit-Scope"] == "user" and headers["Retry-After"]
        assert [r.rate_limited for r in emu.requests][-8:-2] == [False] * 5 + [True]
        assert len([m for m in emu.messages if m.channel_id == emu.channel.id]) == 6  # not 7
        assert elsewhere[0] == 200 and later[0] == 200  # another channel; a new window

    run(scenario)


def test_an_interaction_answered_after_three_seconds_is_unknown() -> None:
    async def scenario(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        _, _, message = await post(
            http, f"channels/{emu.channel.id}/messages", {"components": [BUTTON]}
        )
        on_time, late = await emu.press_button(message, "go"), await emu.press_button(message, "go")
        ok = await post(http, f"interactions/{on_time.id}/{on_time.token}/callback", {"type": 6})
        emu.advance_clock(3.5)  # no real waiting: Discord's clock moves
        refused = await post(http, f"interactions/{late.id}/{late.token}/callback", {"type": 6})
        assert ok[0] == 204 and on_time.acknowledged
        assert refused[0] == 404 and refused[2]["code"] == 10062 and not late.acknowledged

    run(scenario)


def test_follow_ups_work_for_fifteen_minutes_then_the_token_is_invalid() -> None:
    async def scenario(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        _, _, message = await post(
            http, f"channels/{emu.channel.id}/messages", {"components": [BUTTON]}
        )
        press = await emu.press_button(message, "go")
        await post(http, f"interactions/{press.id}/{press.token}/callback", {"type": 5})
        webhook = f"webhooks/{emu.application_id}/{press.token}"
        emu.advance_clock(14 * 60)
        within = await post(http, webhook + "?wait=true", {"content": "still in time"})
        emu.advance_clock(61)
        expired = await post(http, webhook + "?wait=true", {"content": "too late"})
        async with http.patch(
            webhook.lstrip("/") + "/messages/@original", json={"content": "x"}
        ) as r:
            edit = r.status, await r.json(content_type=None)
        assert within[0] == 200 and within[2]["content"] == "still in time"
        assert expired[0] == 401 and expired[2]["code"] == 50027
        assert edit == (401, {"message": "Invalid Webhook Token", "code": 50027})

    run(scenario)


def test_embed_footers_and_authors_have_discords_limits() -> None:
    async def scenario(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        path = f"channels/{emu.channel.id}/messages"
        footer = await post(http, path, {"embeds": [{"footer": {"text": "f" * 2049}}]})
        author = await post(http, path, {"embeds": [{"author": {"name": "a" * 257}}]})
        fits = await post(
            http,
            path,
            {"embeds": [{"footer": {"text": "f" * 2048}, "author": {"name": "a" * 256}}]},
        )
        assert footer[0] == 400 and "footer" in footer[2]["errors"]["embeds"]["0"]
        assert author[0] == 400 and "author" in author[2]["errors"]["embeds"]["0"]
        assert fits[0] == 200

    run(scenario)


def test_mentions_that_would_ping_are_reported_wherever_they_are() -> None:
    async def scenario(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        path = f"channels/{emu.channel.id}/messages"
        role = emu.add_role("Editors")
        text = f"@everyone <@{emu.member.id}> <@&{role.id}>"
        embed = {"title": text, "fields": [{"name": "n", "value": text}], "footer": {"text": text}}
        loud = await post(http, path, {"content": text, "embeds": [embed]})
        quiet = await post(
            http, path, {"content": text, "embeds": [embed], "allowed_mentions": {"parse": []}}
        )
        users_only = await post(
            http, path, {"embeds": [embed], "allowed_mentions": {"parse": ["users"]}}
        )
        loud_pings = emu.message(loud[2]).pings
        assert (
            "@everyone (notified)" in loud_pings and f"<@{emu.member.id}> (notified)" in loud_pings
        )
        assert "@everyone in embeds[0].title" in loud_pings
        assert f"<@&{role.id}> in embeds[0].fields[0].value" in loud_pings
        assert "@everyone in embeds[0].footer.text" in loud_pings
        assert emu.message(quiet[2]).pings == []
        assert quiet[2]["mentions"] == [] and not quiet[2]["mention_everyone"]
        assert set(emu.message(users_only[2]).pings) == {
            f"<@{emu.member.id}> in embeds[0].{where}"
            for where in ("title", "fields[0].value", "footer.text")
        }

    run(scenario)
