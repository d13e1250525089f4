#!/usr/bin/python3
"""Log in with slixmpp (STARTTLS, SCRAM-SHA-256), print READY, and wait for a
chat or normal message with the given body from the given sender.

Usage: slix_receive.py HOST PORT JID PASS FROM BODY [--timeout S] [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure.
"""

import argparse

from slix_common import Client, Fail, run


async def main(a):
    c = Client(a.jid, a.password)
    try:
        await c.login(a.host, a.port)
        print("READY", flush=True)
        msg = await c.expect_message(a.body, timeout=a.timeout)
        if msg["from"].bare != a.sender:
            raise Fail("message from %s, want %s" % (msg["from"], a.sender))
    finally:
        if c.is_connected():
            await c.logout()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("jid")
    p.add_argument("password")
    p.add_argument("sender")
    p.add_argument("body")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--debug", action="store_true")
    args = p.parse_args()
    run(lambda: main(args), "slixmpp receives %r" % args.body, args.debug)
