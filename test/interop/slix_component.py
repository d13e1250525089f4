"""An external component (XEP-0114) written with slixmpp's ComponentXMPP
connects to parley's component listener; alice finds it in the server's
disco#items, writes to a JID of its domain and gets its answer; the
component also writes to alice first, from a JID of its own."""

import asyncio

from slixmpp.componentxmpp import ComponentXMPP

from slix_common import Client, Fail, bounded, logout_all, parse_args, run

args = parse_args(__doc__, ("host", "port", "jid_a", "pass_a", "component", "secret", "component_port"))


class Echo(ComponentXMPP):
    """Answers every chat message with its body, from the addressed JID."""

    def __init__(self, jid, secret):
        super().__init__(jid, secret)
        self.started = asyncio.Event()
        self.add_event_handler("session_start", lambda _e: self.started.set())
        self.add_event_handler("message", self._on_message)

    def _on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.send_message(mto=msg["from"], mfrom=msg["to"], mbody="echo: " + msg["body"], mtype="chat")


async def main():
    alice = comp = None
    try:
        comp = Echo(args.component, args.secret)
        comp.connect(host=args.host, port=args.component_port)
        await bounded(comp.started.wait(), 15, "the component's handshake")

        alice = Client(args.jid_a, args.pass_a)
        alice.register_plugin("xep_0030")
        await alice.login(args.host, args.port)
        items = await alice["xep_0030"].get_items(jid=alice.boundjid.domain, timeout=10)
        jids = [i[0] for i in items["disco_items"]["items"]]
        if args.component not in jids:
            raise Fail("disco#items of the server lacks %s: %s" % (args.component, jids))

        comp.send_message(mto=args.jid_a, mfrom="bot@" + args.component, mbody="hello from the component", mtype="chat")
        got = await alice.expect_message("hello from the component")
        if got["from"].bare != "bot@" + args.component:
            raise Fail("the component's message came from %s" % got["from"])

        alice.send_message(mto="echo@" + args.component, mbody="ping", mtype="chat")
        got = await alice.expect_message("echo: ping")
        if got["from"].bare != "echo@" + args.component:
            raise Fail("the echo came from %s" % got["from"])
    finally:
        await logout_all(alice)
        if comp is not None:
            comp.disconnect()


run(main, "component", args.debug)
