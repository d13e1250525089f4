#!/usr/bin/python3
"""Message moderation (XEP-0425) as slixmpp 1.8 does it: the earlier form
(v0.2, urn:xmpp:message-moderate:0 fastened with urn:xmpp:fasten:0). A
creates a room, B speaks, A moderates B's message by its stanza-id with
slixmpp's xep_0425 plugin; both must see slixmpp's moderated_message event
for that id.

Usage: slix_moderate.py HOST PORT JID_A PASS_A JID_B PASS_B ROOM [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio

from slixmpp import JID

from slix_common import TWO_USERS, Fail, bounded, first, parse_args, run, two_online
from slix_muc import MucClient, instant_room


class ModClient(MucClient):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0425")
        self.moderated = asyncio.Queue()
        self.add_event_handler("moderated_message", lambda m: self.moderated.put_nowait(m))

    async def expect_moderated(self, sid, timeout=10):
        return await first(self.moderated, lambda msg: msg["apply_to"]["id"] == sid, timeout,
                           "%s: moderation of %s" % (self.boundjid.bare, sid))


async def main(a):
    room = a.room
    async with two_online(a, ModClient) as (A, B):
        await instant_room(A, B, room)

        B.send_message(mto=room, mbody="DM me for free magic potions!", mtype="groupchat")
        got = await A.expect_groupchat("DM me for free magic potions!")
        ids = [e.get("id") for e in got.xml.findall("{urn:xmpp:sid:0}stanza-id") if e.get("by") == room]
        if not ids:
            raise Fail("no stanza-id of the room on %s" % got)
        sid = ids[0]

        await bounded(A["xep_0425"].moderate(JID(room), sid, "spam"), 10, "A moderating")
        for c in (A, B):
            msg = await c.expect_moderated(sid)
            mod = msg["apply_to"]["moderated"]
            if JID(mod["by"]).resource != "alice" or mod["reason"] != "spam":
                raise Fail("%s: moderation by %r for %r: %s" % (c.boundjid.bare, mod["by"], mod["reason"], msg))


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS + ("room",))
    run(lambda: main(args), "slixmpp moderation v0.2", args.debug)
