"""What people do beyond posting and slash commands: threads and context-menu commands.

A mixin for ``DiscordEmulator`` (which provides ``world``, ``threads`` and
``_dispatch_interaction``), kept apart so each kind of action stays small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .injectors import APPLICATION_COMMAND, MESSAGE_COMMAND, USER_COMMAND, context_menu_data
from .models import VIEW_CHANNEL, FakeChannel, FakeMember, FakeThread
from .records import InteractionRecord, StoredMessage

if TYPE_CHECKING:
    from .threads import Threads
    from .world import World

MessageRef = StoredMessage | Mapping[str, Any] | int


class PeopleActions:
    """Threads started by people, and user/message commands run by them."""

    world: World
    threads: Threads
    member: FakeMember  # who acts when no user is given

    if TYPE_CHECKING:  # provided by EmulatorControls and DiscordEmulator

        def message(self, ref: MessageRef) -> StoredMessage: ...

        def _dispatch_interaction(
            self,
            *,
            kind: int,
            member: FakeMember,
            channel: FakeChannel,
            data: dict[str, Any],
            message: StoredMessage | None = None,
            locale: str = "en-US",
        ) -> InteractionRecord: ...

    # -- threads ------------------------------------------------------------------------

    def thread(self, thread_id: int) -> FakeThread:
        """The thread with this id (a thread started from a message has the message's id)."""
        return self.world.guild.threads[int(thread_id)]

    async def start_thread(
        self,
        message: MessageRef,
        name: str,
        *,
        user: FakeMember | None = None,
        auto_archive_duration: int = 1440,
    ) -> FakeThread:
        """Start a public thread from ``message`` as ``user`` (default ``emu.member``);
        THREAD_CREATE and the starter's MESSAGE_UPDATE are dispatched as on Discord."""
        stored = self.message(message)
        parent = self.world.channel(stored.channel_id)
        body = {"name": name, "auto_archive_duration": auto_archive_duration}
        owner = user or self.member
        return self.threads.start(parent, body, owner=owner, starter=stored)

    async def create_thread(
        self,
        name: str,
        *,
        channel_id: int | None = None,
        user: FakeMember | None = None,
        private: bool = False,
    ) -> FakeThread:
        """Start a thread with no starter message (public unless ``private``)."""
        parent = self.world.channel(channel_id or self.world.default_channel.id)
        body = {"name": name, "type": 12 if private else 11}
        owner = user or self.member
        return self.threads.start(parent, body, owner=owner)

    # -- context menus ------------------------------------------------------------------

    async def run_message_command(
        self, name: str, message: MessageRef, *, user: FakeMember | None = None
    ) -> InteractionRecord:
        """Run the message command ``name`` ("Apps" on a message) on ``message``.

        As in the Discord client, only a live message the user can see can be picked (not an
        ephemeral one).
        """
        stored = self.message(message)
        if stored.ephemeral:
            raise ValueError("the Discord client offers no message commands on ephemeral messages")
        member = user or self.member
        channel = self.world.channel(stored.channel_id)
        if not self.world.guild.channel_permissions(member, channel) & VIEW_CHANNEL:
            raise ValueError(f"{member.user.username} cannot see channel {channel.id}")
        command = self.world.commands.find(name, MESSAGE_COMMAND)
        data = context_menu_data(self.world, command, stored, channel=channel)
        return self._dispatch_interaction(
            kind=APPLICATION_COMMAND, member=member, channel=channel, data=data
        )

    async def run_user_command(
        self,
        name: str,
        target: FakeMember,
        *,
        user: FakeMember | None = None,
        channel_id: int | None = None,
    ) -> InteractionRecord:
        """Run the user command ``name`` ("Apps" on a member) on ``target``."""
        member = user or self.member
        channel = self.world.channel(channel_id or self.world.default_channel.id)
        command = self.world.commands.find(name, USER_COMMAND)
        data = context_menu_data(self.world, command, target, channel=channel)
        return self._dispatch_interaction(
            kind=APPLICATION_COMMAND, member=member, channel=channel, data=data
        )
