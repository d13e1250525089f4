#!/usr/bin/python3
"""A push app server (XEP-0357 §3) written with slixmpp: log in as JID (its
full JID is what clients register), print READY, then answer every pubsub
publish it receives and print it as one line: PUBLISH {json} with the
node, the sender ('from'), the summary form's fields and the
publish-options secret. Publishes to a node starting with "refuse" are
answered with item-not-found, the others with a result. Runs until stdin
closes.

Usage: slix_push.py HOST PORT JID PASS [--debug]
"""

import asyncio
import json
import sys

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from slix_common import Client, logout_all, parse_args, run

PUBSUB = "http://jabber.org/protocol/pubsub"
PUSH = "urn:xmpp:push:0"
DATA = "jabber:x:data"


def form_fields(x):
    """The fields of a data form element as a dict (first value each)."""
    out = {}
    if x is None:
        return out
    for f in x.findall("{%s}field" % DATA):
        v = f.find("{%s}value" % DATA)
        out[f.get("var")] = v.text if v is not None else ""
    return out


class AppServer(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_handler(Callback("push publish",
                                       MatchXPath("{jabber:client}iq/{%s}pubsub" % PUBSUB),
                                       self._on_publish))

    def _on_publish(self, iq):
        if iq["type"] != "set":
            return
        ps = iq.xml.find("{%s}pubsub" % PUBSUB)
        pub = ps.find("{%s}publish" % PUBSUB)
        note = pub.find("{%s}item/{%s}notification" % (PUBSUB, PUSH)) if pub is not None else None
        summary = form_fields(note.find("{%s}x" % DATA) if note is not None else None)
        opts = form_fields(ps.find("{%s}publish-options/{%s}x" % (PUBSUB, DATA)))
        node = pub.get("node") if pub is not None else None
        print("PUBLISH " + json.dumps({"node": node, "from": str(iq["from"]), "summary": summary,
                                       "secret": opts.get("secret")}), flush=True)
        reply = iq.reply(clear=True)
        if node and node.startswith("refuse"):
            reply["error"]["type"] = "cancel"
            reply["error"]["condition"] = "item-not-found"
        reply.send()


async def main(a):
    c = AppServer(a.jid, a.password)
    try:
        await c.login(a.host, a.port)
        print("READY", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the test is done
    finally:
        await logout_all(c)


if __name__ == "__main__":
    args = parse_args(__doc__, ("host", "port", "jid", "password"))
    run(lambda: main(args), "push app server", args.debug)
