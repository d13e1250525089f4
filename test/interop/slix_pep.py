#!/usr/bin/python3
"""Personal eventing (XEP-0163) with entity capabilities (XEP-0115), both
from slixmpp: B subscribes to A's presence and says in its caps that it
wants notifications of a node (+notify); the server must verify slixmpp's
caps hash by disco#info before it filters on them. A publishes: B gets the
notification. B goes offline, A publishes again, B comes back: B gets the
last published item on login (XEP-0163 §4.3.4).

Usage: slix_pep.py HOST PORT JID_A PASS_A JID_B PASS_B [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import xml.etree.ElementTree as ET

from slix_common import TWO_USERS, Client, Fail, bounded, first, logout_all, parse_args, run, until

NODE = "urn:xmpp:parley:interop:note"


class PepClient(Client):
    def __init__(self, jid, password, interested=False):
        super().__init__(jid, password)
        for p in ("xep_0004", "xep_0060", "xep_0115", "xep_0163"):
            self.register_plugin(p)
        self.interested = interested
        self.events = asyncio.Queue()
        self.add_event_handler("pubsub_publish", self._on_event)

    def _on_event(self, msg):
        item = msg["pubsub_event"]["items"]["item"]
        payload = item.xml.find("{%s}note" % NODE)
        self.events.put_nowait((msg["pubsub_event"]["items"]["node"], item["id"],
                                payload.text if payload is not None else None))

    async def _on_start(self, _event):
        if self.interested:
            # The +notify feature changes the caps; the initial presence
            # must carry the new ver.
            self["xep_0030"].add_feature(NODE + "+notify")
            await self["xep_0115"].update_caps(broadcast=False)
        await super()._on_start(_event)

    async def expect_event(self, text, timeout=10):
        await first(self.events, lambda ev: ev[0] == NODE and ev[2] == text, timeout,
                    "%s: a notification with %r" % (self.boundjid.bare, text))

    def publish(self, text):
        note = ET.Element("{%s}note" % NODE)
        note.text = text
        return self["xep_0060"].publish(None, NODE, id="current", payload=note, timeout=10)


async def main(a):
    A = PepClient(a.jid_a, a.pass_a)
    B = PepClient(a.jid_b, a.pass_b, interested=True)
    B2 = None
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)
        bare_a = A.boundjid.bare
        B.send_presence_subscription(pto=bare_a)
        await until(lambda: B.client_roster[bare_a]["subscription"] in ("to", "both"), 10,
                    "B's roster to show a subscription to A")

        await bounded(A.publish("first"), 10, "A publishing the first note")
        await B.expect_event("first")

        await B.logout()
        await bounded(A.publish("second"), 10, "A publishing the second note")
        B2 = PepClient(a.jid_b, a.pass_b, interested=True)
        await B2.login(a.host, a.port)
        await B2.expect_event("second")  # the last item, on login
    finally:
        await logout_all(A, B, B2)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS)
    run(lambda: main(args), "slixmpp PEP", args.debug)
