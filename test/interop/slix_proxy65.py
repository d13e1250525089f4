#!/usr/bin/python3
"""SOCKS5 Bytestreams (XEP-0065) through parley's proxy with slixmpp's
xep_0065 plugin on both ends: A discovers the proxy as the plugin does
(the server's disco#items, an item with identity proxy/bytestreams, its
network address), offers B a bytestream through it; B accepts, connects
over SOCKS5 and answers streamhost-used; A connects and activates. A sends
200 kB that B must receive byte for byte, and B answers through the same
stream.

Usage: slix_proxy65.py HOST PORT JID_A PASS_A JID_B PASS_B PROXY [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import os

from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run, until


class S5BClient(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0065", {"auto_accept": True})
        self.received = bytearray()
        self.peer = None  # B's side of the stream, once offered
        self.add_event_handler("socks5_data", self.received.extend)
        self.add_event_handler("socks5_stream", self._on_stream)

    def _on_stream(self, conn):
        self.peer = conn


async def main(a):
    A = S5BClient(a.jid_a, a.pass_a)
    B = S5BClient(a.jid_b, a.pass_b)
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)

        proxies = await bounded(A["xep_0065"].discover_proxies(timeout=10), 15, "A discovering proxies")
        if a.proxy not in proxies:
            raise Fail("slixmpp discovered proxies %s, not %s" % (dict(proxies), a.proxy))
        host, port = proxies[a.proxy]
        if str(host) != a.host:
            raise Fail("the proxy says it is at %s:%s, the server listens on %s" % (host, port, a.host))

        sock = await bounded(A["xep_0065"].handshake(B.boundjid.full, timeout=10), 20, "A's bytestream handshake")
        if sock is None:
            raise Fail("the handshake gave A no stream")
        await until(lambda: B.peer is not None, 10, "B's side of the stream")

        data = os.urandom(200_000)
        await sock.write(data)
        await until(lambda: len(B.received) >= len(data), 30, "B to receive %d bytes" % len(data))
        if bytes(B.received) != data:
            raise Fail("B received %d bytes that differ from the %d A sent" % (len(B.received), len(data)))
        await B.peer.write(b"thanks")
        await until(lambda: bytes(A.received) == b"thanks", 10, "A to receive B's answer")
    finally:
        for c in (A, B):
            # The plugin's close() calls a close() its sockets lack
            # (slixmpp 1.8): close their transports.
            for sock in list(c["xep_0065"]._sessions.values()):
                sock.transport.close()
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS + ("proxy",))
    run(lambda: main(args), "slixmpp SOCKS5 bytestreams", args.debug)
