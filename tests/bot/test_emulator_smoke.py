"""Smoke test: the real, unmodified discord.py client works end to end against the emulator.

The bot under test is defined here (the product bot does not exist yet): a ``discord.Client``
with a ``CommandTree`` holding ``/ping`` and a one-button view. Each test runs in its own event
loop via ``asyncio.run`` and fails on any exception inside the bot's handlers, any request to a
route the emulator does not know, and any leaked session or task.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import discord
import pytest
from discord import app_commands

from tests.discord_emulator import DiscordEmulator, StoredMessage, discord_pointed_at

log = logging.getLogger(__name__)

STEP_TIMEOUT = 5.0
MESSAGES_PATH = r"^/channels/\d+/messages$"
FOLLOWUP_PATH = r"^/webhooks/\d+/[^/]+$"


class PingView(discord.ui.View):
    """One persistent-style button that rewrites the message it is attached to."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", custom_id="ping:again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Replace the message content and remove the button (callback type 7)."""
        await interaction.response.edit_message(
            content=f"pressed by {interaction.user.name}", view=None
        )

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Record view errors so the test fails instead of the error being logged."""
        record_error(interaction.client, error)


@app_commands.command(name="ping", description="Answer with pong.")
@app_commands.describe(text="Text to echo back", mode="How to answer")
async def ping(
    interaction: discord.Interaction,
    text: str,
    mode: Literal["reply", "defer", "ephemeral"] = "reply",
) -> None:
    """Reply directly (with a button), after deferring, or ephemerally."""
    if mode == "reply":
        await interaction.response.send_message(f"pong: {text}", view=PingView())
    elif mode == "ephemeral":
        await interaction.response.send_message(f"pong: {text}", ephemeral=True)
    else:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"pong: {text}")
        await interaction.followup.send("only you can see this", ephemeral=True)


class SmokeBot(discord.Client):
    """A minimal bot: replies to mentions and serves ``/ping``."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
            heartbeat_timeout=STEP_TIMEOUT,
        )
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(ping)
        self.tree.error(self.on_tree_error)
        self.errors: list[BaseException] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s sleep before re-identifying."""

    async def on_message(self, message: discord.Message) -> None:
        """Reply to messages that mention the bot."""
        if message.author.bot or self.user is None:
            return
        if self.user in message.mentions:
            question = message.content.replace(self.user.mention, "").strip()
            await message.reply(f"pong: {question}")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Record event-handler errors (discord.py would only log them)."""
        error = sys.exc_info()[1]
        if error is not None:
            record_error(self, error)

    async def on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Record app-command errors (they never reach the test otherwise)."""
        record_error(self, error)


def record_error(client: discord.Client, error: BaseException) -> None:
    """Remember an exception raised inside the bot so the test can fail on it."""
    log.error("error inside the bot", exc_info=error)
    if isinstance(client, SmokeBot):
        client.errors.append(error)


async def start_bot(bot: discord.Client, token: str) -> asyncio.Task[None]:
    """Start ``bot`` and return its task once it is ready (raising if start-up failed)."""
    runner = asyncio.create_task(bot.start(token), name="bot-runner")
    ready = asyncio.create_task(bot.wait_until_ready(), name="bot-ready")
    await asyncio.wait({runner, ready}, timeout=STEP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        return runner
    for task in (ready, runner):
        task.cancel()
    failure = (await asyncio.gather(runner, ready, return_exceptions=True))[0]
    if isinstance(failure, BaseException) and not isinstance(failure, asyncio.CancelledError):
        raise failure
    raise TimeoutError("the bot did not become ready")


@contextlib.asynccontextmanager
async def running_bot(emu: DiscordEmulator) -> AsyncIterator[SmokeBot]:
    """A connected ``SmokeBot``; on exit it is closed and must have recorded no errors."""
    bot = SmokeBot()
    async with bot:
        runner = await start_bot(bot, emu.token)
        try:
            yield bot
        except BaseException as exc:
            exc.add_note(f"exceptions inside the bot: {bot.errors!r}")
            raise
        finally:
            await bot.close()
            await asyncio.wait_for(runner, STEP_TIMEOUT)
    assert not bot.errors, f"exceptions inside the bot: {bot.errors!r}"
    unrouted = [f"{r.method} {r.path}" for r in emu.requests if r.route is None]
    assert not unrouted, f"requests to routes the emulator does not know: {unrouted}"


def run_scenario(
    scenario: Callable[[DiscordEmulator], Awaitable[None]], **emu_options: Any
) -> None:
    """Run ``scenario`` against a fresh emulator in a fresh loop; fail on leaks and stray errors."""
    loop_errors: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: loop_errors.append(context["message"]))
        async with DiscordEmulator(**emu_options) as emu:
            with discord_pointed_at(emu.api_base, emu.gateway_url):
                await scenario(emu)
        gc.collect()  # an unclosed aiohttp session reports itself when collected
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftover, f"tasks still pending after shutdown: {leftover}"

    asyncio.run(main())
    assert not loop_errors, f"event loop reported: {loop_errors}"


async def sync_guild_commands(bot: SmokeBot, emu: DiscordEmulator) -> list[app_commands.AppCommand]:
    """Copy the global commands to the emulated guild and sync them (discord.py's idiom)."""
    guild = discord.Object(emu.guild.id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)


def replies_to(message: dict[str, Any]) -> Callable[[StoredMessage], bool]:
    """Predicate: a stored message that replies to ``message``."""
    return lambda m: (m.payload.get("message_reference") or {}).get("message_id") == message["id"]


def test_connects_and_sees_the_guild() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            guild = bot.get_guild(emu.guild.id)
            assert guild is not None and guild.name == emu.guild.name
            assert bot.user is not None and bot.user.id == emu.bot_user.id
            admin, member = guild.get_member(emu.admin.id), guild.get_member(emu.member.id)
            assert admin is not None and admin.guild_permissions.manage_guild
            assert member is not None and not member.guild_permissions.manage_guild
            other_bot = guild.get_member(emu.other_bot.id)
            assert other_bot is not None and other_bot.bot
            channel = guild.get_channel(emu.channel.id)
            assert isinstance(channel, discord.TextChannel)
            assert channel.permissions_for(guild.me).send_messages
        identifies = [f for f in emu.gateway_frames if f.op == 2]
        assert len(identifies) == 1 and identifies[0].d["intents"] == bot.intents.value
        login = emu.requests[0]
        assert (login.method, login.path) == ("GET", "/users/@me")
        assert login.authorization == f"Bot {emu.token}"

    run_scenario(scenario)


def test_tree_sync_registers_the_command() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            synced = await sync_guild_commands(bot, emu)
        (registered,) = emu.commands()
        assert [c.name for c in synced] == ["ping"] and synced[0].id == int(registered["id"])
        options = {o["name"]: o for o in registered["options"]}
        assert options["text"]["type"] == 3 and options["text"]["required"]
        assert [c["value"] for c in options["mode"]["choices"]] == ["reply", "defer", "ephemeral"]

    run_scenario(scenario)


def test_mention_gets_a_reply_that_pings_nobody() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            plain_seen = asyncio.create_task(
                bot.wait_for("message", check=lambda m: m.author.id == emu.member.id, timeout=5)
            )
            await emu.send_message("no mention, and no message-content intent")
            assert (await plain_seen).content == ""
            question = await emu.send_message(f"{emu.bot_user.mention} hello", author=emu.member)
            reply = await emu.wait_for_message(emu.channel.id, replies_to(question))
        assert reply.content == "pong: hello"
        assert reply.payload["mentions"] == []
        sends = emu.requests_to("POST", MESSAGES_PATH)
        assert sends and all(r.json["allowed_mentions"] == {"parse": []} for r in sends)

    run_scenario(scenario)


def test_slash_command_defer_followup_and_ephemeral() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            await sync_guild_commands(bot, emu)
            deferred = await emu.run_slash_command(
                "ping", {"text": "hi", "mode": "defer"}, user=emu.admin
            )
            first = await emu.wait_for_message(
                interaction=deferred, predicate=lambda m: m.content == "pong: hi"
            )
            hidden = await emu.wait_for_message(
                interaction=deferred, predicate=lambda m: m.ephemeral
            )
            quiet = await emu.run_slash_command("ping", {"text": "psst", "mode": "ephemeral"})
            secret = await emu.wait_for_message(interaction=quiet)
        assert deferred.callback_type == 5 and first.id == deferred.original_message_id
        assert not first.ephemeral and first.source == "interaction"
        assert hidden.content == "only you can see this" and hidden.source == "followup"
        assert quiet.callback_type == 4 and secret.ephemeral and secret.content == "pong: psst"
        callbacks = emu.requests_to("POST", r"^/interactions/\d+/[^/]+/callback$")
        assert callbacks and all(r.query.get("with_response") == "1" for r in callbacks)

    run_scenario(scenario)


def test_button_press_edits_the_message() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            await sync_guild_commands(bot, emu)
            command = await emu.run_slash_command("ping", {"text": "buttons"})
            message = await emu.wait_for_message(interaction=command)
            assert message.custom_ids() == ["ping:again"]
            since = emu.checkpoint()
            press = await emu.press_button(message, "ping:again", user=emu.member)
            edited = await emu.wait_for_message(predicate=lambda m: m.id == message.id, since=since)
        assert press.callback_type == 7
        assert edited.content == "pressed by member" and edited.components == []

    run_scenario(scenario)


def test_dropped_gateway_resumes_and_replays_missed_messages() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu):
            since = emu.checkpoint()
            await emu.drop_gateway(4000, hold_reconnect=True)
            question = await emu.send_message(f"{emu.bot_user.mention} still there?")
            emu.release_gateway()
            reply = await emu.wait_for_message(emu.channel.id, replies_to(question))
            resume = await emu.wait_for_gateway_frame(6, since=since)
        assert reply.content == "pong: still there?"
        assert resume.path == "/resume-gateway/"
        assert [f.op for f in emu.gateway_frames if f.op in (2, 6)] == [2, 6]

    run_scenario(scenario)


def test_rate_limited_send_is_retried_after_retry_after() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu):
            since = emu.checkpoint()
            emu.fail_next("POST", MESSAGES_PATH, status=429, retry_after=0.3)
            question = await emu.send_message(f"{emu.bot_user.mention} slow down")
            await emu.wait_for_message(emu.channel.id, replies_to(question))
        first, retry = emu.requests_to("POST", MESSAGES_PATH, since=since)
        assert (first.status, retry.status) == (429, 200)
        assert retry.time - first.time >= 0.3 - 0.01

    run_scenario(scenario)


def test_server_error_on_followup_is_retried() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            await sync_guild_commands(bot, emu)
            since = emu.checkpoint()
            emu.fail_next("POST", FOLLOWUP_PATH, status=500)
            command = await emu.run_slash_command("ping", {"text": "again", "mode": "defer"})
            answer = await emu.wait_for_message(
                interaction=command, predicate=lambda m: m.content == "pong: again"
            )
            # The command sends a second follow-up; let it finish before shutting down.
            await emu.wait_for_message(interaction=command, predicate=lambda m: m.ephemeral)
        attempts = emu.requests_to("POST", FOLLOWUP_PATH, since=since)
        assert [r.status for r in attempts] == [500, 200, 200]
        assert answer.id == command.original_message_id and attempts[1].time - attempts[0].time >= 1

    run_scenario(scenario)


def test_wrong_token_raises_login_failure() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with SmokeBot() as bot:
            with pytest.raises(discord.LoginFailure):
                await bot.start("not-the-token")
        assert emu.requests[-1].status == 401

    run_scenario(scenario)


def test_revoked_token_closes_the_gateway_with_4004() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with SmokeBot() as bot:
            runner = await start_bot(bot, emu.token)
            await emu.revoke_token()
            with pytest.raises(discord.ConnectionClosed) as closed:
                await asyncio.wait_for(runner, STEP_TIMEOUT)
        assert closed.value.code == 4004 and bot.is_closed()

    run_scenario(scenario)
