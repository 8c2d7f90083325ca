"""Who a message would notify: mention markup anywhere in it, weighed against ``allowed_mentions``.

Discord notifies for mentions in ``content`` only (the message's ``mentions``,
``mention_roles`` and ``mention_everyone``, which ``World.build_message`` fills as Discord
does); mentions in an embed are drawn as mentions but notify nobody. ``pings`` is stricter
on purpose: it also counts ``@everyone``, ``@here``, ``<@id>`` and ``<@&id>`` written in an
embed's title, description, fields, footer or author when ``allowed_mentions`` would let them
through. A bot that echoes a user's text is then caught whichever part of the message the text
lands in: with ``allowed_mentions`` allowing nothing (or the text escaped), nothing pings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

EVERYONE = re.compile(r"@(everyone|here)\b")
USER = re.compile(r"<@!?(\d+)>")
ROLE = re.compile(r"<@&(\d+)>")


def embed_texts(embeds: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every piece of text a reader sees in ``embeds``."""
    for index, embed in enumerate(embeds):
        where = f"embeds[{index}]"
        for key in ("title", "description"):
            yield f"{where}.{key}", str(embed.get(key) or "")
        for number, item in enumerate(embed.get("fields") or []):
            yield f"{where}.fields[{number}].name", str(item.get("name") or "")
            yield f"{where}.fields[{number}].value", str(item.get("value") or "")
        yield f"{where}.footer.text", str((embed.get("footer") or {}).get("text") or "")
        yield f"{where}.author.name", str((embed.get("author") or {}).get("name") or "")


def message_texts(payload: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for the content and every embed text of a message payload."""
    yield "content", str(payload.get("content") or "")
    yield from embed_texts(list(payload.get("embeds") or []))


def _allows(allowed: dict[str, Any] | None, kind: str, target: str | None = None) -> bool:
    """Whether ``allowed_mentions`` lets a mention of ``kind`` (users, roles, everyone) through;
    no ``allowed_mentions`` at all is Discord's default, which lets everything through."""
    if allowed is None or kind in (allowed.get("parse") or []):
        return True
    return target is not None and target in {str(x) for x in allowed.get(kind) or []}


def pings(payload: dict[str, Any], allowed: dict[str, Any] | None) -> list[str]:
    """Every notification the message would send, e.g. ``"@everyone in embeds[0].title"``."""
    found = [f"<@{user['id']}> (notified)" for user in payload.get("mentions") or []]
    found += [f"<@&{role}> (notified)" for role in payload.get("mention_roles") or []]
    if payload.get("mention_everyone"):
        found.append("@everyone (notified)")
    for where, text in message_texts(payload):
        for match in EVERYONE.finditer(text):
            if _allows(allowed, "everyone"):
                found.append(f"{match.group(0)} in {where}")
        for user_id in USER.findall(text):
            if _allows(allowed, "users", user_id):
                found.append(f"<@{user_id}> in {where}")
        for role_id in ROLE.findall(text):
            if _allows(allowed, "roles", role_id):
                found.append(f"<@&{role_id}> in {where}")
    return found
