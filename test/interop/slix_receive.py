#!/usr/bin/python3
"""Log in with slixmpp (STARTTLS, SCRAM-SHA-256), print READY, and wait for a
chat or normal message with the given body from the given sender.

Usage: slix_receive.py HOST PORT JID PASS FROM BODY [--timeout S] [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure.
"""

from slix_common import Client, Fail, logout_all, parse_args, run


async def main(a):
    c = Client(a.jid, a.password)
    try:
        await c.login(a.host, a.port)
        print("READY", flush=True)
        msg = await c.expect_message(a.body, timeout=a.timeout)
        if msg["from"].bare != a.sender:
            raise Fail("message from %s, want %s" % (msg["from"], a.sender))
    finally:
        await logout_all(c)


if __name__ == "__main__":
    args = parse_args(__doc__, ("host", "port", "jid", "password", "sender", "body"), timeout=20.0)
    run(lambda: main(args), "slixmpp receives %r" % args.body, args.debug)
