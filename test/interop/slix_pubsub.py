#!/usr/bin/python3
"""The publish-subscribe service at pubsub.<domain> (XEP-0060) driven by
slixmpp's xep_0060 plugin: A finds the service among the domain's items,
creates a node with a configuration form, B subscribes, A publishes and B
is notified; B reads the items; A retracts with notify, lists the node's
subscriptions, purges and deletes the node, and B is told of each.

Usage: slix_pubsub.py HOST PORT JID_A PASS_A JID_B PASS_B [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import xml.etree.ElementTree as ET

from slix_common import TWO_USERS, Client, Fail, first, parse_args, run, two_online

NODE = "princely_musings"
NS = "urn:xmpp:parley:interop:entry"


class PubsubClient(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in ("xep_0004", "xep_0060"):
            self.register_plugin(p)
        self.events = asyncio.Queue()
        for kind in ("publish", "retract", "purge", "delete"):
            self.add_event_handler("pubsub_" + kind, self._recorder(kind))

    def _recorder(self, kind):
        def record(msg):
            self.events.put_nowait((kind, msg))
        return record

    async def expect(self, kind, check=lambda msg: True, timeout=10):
        _, msg = await first(self.events, lambda ev: ev[0] == kind and check(ev[1]), timeout,
                             "%s: a %s event" % (self.boundjid.bare, kind))
        return msg


def entry(text):
    e = ET.Element("{%s}entry" % NS)
    e.text = text
    return e


async def main(a):
    async with two_online(a, PubsubClient) as (A, B):
        domain = A.boundjid.domain
        items = await A["xep_0030"].get_items(jid=domain, timeout=10)
        services = [i[0] for i in items["disco_items"]["items"]]
        service = "pubsub." + domain
        if service not in services:
            raise Fail("the domain's items %r lack %s" % (services, service))
        info = await A["xep_0030"].get_info(jid=service, timeout=10)
        if ("pubsub", "service") not in [(i[0], i[1]) for i in info["disco_info"]["identities"]]:
            raise Fail("%s is not a pubsub service: %s" % (service, info))

        form = A["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#node_config")
        form.add_field(var="pubsub#title", value="Princely Musings (Atom)")
        form.add_field(var="pubsub#max_items", value="5")
        await A["xep_0060"].create_node(service, NODE, config=form, timeout=10)
        config = await A["xep_0060"].get_node_config(service, NODE, timeout=10)
        if "Princely Musings (Atom)" not in str(config):
            raise Fail("the configuration lacks the title: %s" % config)

        await B["xep_0060"].subscribe(service, NODE, timeout=10)
        await A["xep_0060"].publish(service, NODE, id="ae890ac52d0df67ed7cfdf51b644e901",
                                    payload=entry("To be, or not to be"), timeout=10)
        await B.expect("publish", lambda m: m["pubsub_event"]["items"]["item"]["id"] == "ae890ac52d0df67ed7cfdf51b644e901")

        got = await B["xep_0060"].get_items(service, NODE, timeout=10)
        if "To be, or not to be" not in str(got):
            raise Fail("B's items: %s" % got)

        await A["xep_0060"].retract(service, NODE, "ae890ac52d0df67ed7cfdf51b644e901", notify=True, timeout=10)
        await B.expect("retract")

        subs = await A["xep_0060"].get_node_subscriptions(service, NODE, timeout=10)
        if B.boundjid.bare not in str(subs):
            raise Fail("the node's subscriptions lack B: %s" % subs)

        await A["xep_0060"].purge(service, NODE, timeout=10)
        await B.expect("purge")
        await A["xep_0060"].delete_node(service, NODE, timeout=10)
        await B.expect("delete")


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS)
    run(lambda: main(args), "slixmpp pubsub service", args.debug)
