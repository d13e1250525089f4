#!/usr/bin/python3
"""Multi-User Chat (XEP-0045) with two slixmpp users: A creates a room by
joining it (status 201) and accepts the default configuration (instant
room, an empty submitted form), speaks; B joins with history on join and
must get A's message delay-stamped by the room; B speaks and A hears it,
stamped with the room's XEP-0359 stanza-id.

Usage: slix_muc.py HOST PORT JID_A PASS_A JID_B PASS_B ROOM [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio

from slix_common import TWO_USERS, Client, Fail, bounded, first, parse_args, run, two_online

NS_USER = "http://jabber.org/protocol/muc#user"


class MucClient(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0045")
        self.groupchat = asyncio.Queue()
        self.add_event_handler("groupchat_message", lambda m: self.groupchat.put_nowait(m))

    async def expect_groupchat(self, body, timeout=10):
        return await first(self.groupchat, lambda msg: msg["body"] == body, timeout,
                           "%s: groupchat %r" % (self.boundjid.bare, body))


def status_codes(presence):
    x = presence.xml.find("{%s}x" % NS_USER)
    if x is None:
        return set()
    return {s.get("code") for s in x.findall("{%s}status" % NS_USER)}


async def main(a):
    room = a.room
    async with two_online(a, MucClient) as (A, B):
        pres, _subject, _occupants, _history = await bounded(
            A["xep_0045"].join_muc_wait(room, "alice", maxstanzas=0), 15, "A joining (creating) the room")
        codes = status_codes(pres)
        if not {"110", "201"} <= codes:
            raise Fail("A's self-presence on creation has status codes %s, want 110 and 201" % sorted(codes))
        # XEP-0045 §10.1.2: an instant room, accepting the defaults.
        await bounded(A["xep_0045"].set_room_config(room, A["xep_0004"].make_form(ftype="submit")),
                      10, "instant room configuration")

        A.send_message(mto=room, mbody="the first message", mtype="groupchat")
        await A.expect_groupchat("the first message")

        pres, _subject, occupants, history = await bounded(
            B["xep_0045"].join_muc_wait(room, "bob", maxstanzas=5), 15, "B joining the room")
        if "110" not in status_codes(pres):
            raise Fail("B's self-presence lacks status 110: %s" % pres)
        bodies = [m["body"] for m in history]
        if "the first message" not in bodies:
            raise Fail("B's history on join %r lacks A's message" % bodies)
        old = next(m for m in history if m["body"] == "the first message")
        if not old["delay"]["stamp"] or old["delay"]["from"].bare != room:
            raise Fail("history message not delay-stamped by the room: %s" % old)
        if "alice" not in A["xep_0045"].get_roster(room) or "bob" not in A["xep_0045"].get_roster(room):
            raise Fail("A's occupant list %s lacks alice or bob" % A["xep_0045"].get_roster(room))

        B.send_message(mto=room, mbody="hello from bob", mtype="groupchat")
        got = await A.expect_groupchat("hello from bob")
        if got["from"].resource != "bob":
            raise Fail("A got B's message from %s" % got["from"])
        sid = got.xml.find("{urn:xmpp:sid:0}stanza-id")
        ids = [e for e in got.xml.findall("{urn:xmpp:sid:0}stanza-id") if e.get("by") == room]
        if sid is None or not ids:
            raise Fail("groupchat message without the room's stanza-id: %s" % got)
        await B.expect_groupchat("hello from bob")

        B["xep_0045"].leave_muc(room, "bob")
        await bounded(wait_gone(A, room, "bob"), 10, "A to see B leave")


async def instant_room(owner, guest, room):
    """owner creates room as alice, accepting the defaults (an instant
    room, XEP-0045 §10.1.2); guest joins it as bob."""
    await bounded(owner["xep_0045"].join_muc_wait(room, "alice", maxstanzas=0), 15, "A creating the room")
    await bounded(owner["xep_0045"].set_room_config(room, owner["xep_0004"].make_form(ftype="submit")),
                  10, "instant room configuration")
    await bounded(guest["xep_0045"].join_muc_wait(room, "bob", maxstanzas=0), 15, "B joining the room")


async def wait_gone(c, room, nick):
    while nick in c["xep_0045"].get_roster(room):
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS + ("room",))
    run(lambda: main(args), "slixmpp MUC", args.debug)
