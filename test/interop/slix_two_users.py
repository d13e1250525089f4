#!/usr/bin/python3
"""Two slixmpp users against an XMPP server: STARTTLS + SCRAM-SHA-256 login,
subscription both ways (RFC 6121 §3), messages both ways, and an offline
message delivered at the next login with a XEP-0203 delay.

Usage: slix_two_users.py HOST PORT JID_A PASS_A JID_B PASS_B [--mech M] [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""


from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run, until


def subscribed_both(c, contact):
    item = c.client_roster[contact]
    return item["subscription"] == "both"


def available(c, contact):
    return len(c.client_roster[contact].resources) > 0


async def main(a):
    A = Client(a.jid_a, a.pass_a, a.mech)
    B = Client(a.jid_b, a.pass_b, a.mech)
    bare_a, bare_b = A.boundjid.bare, B.boundjid.bare
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)

        # RFC 6121 §3.1: A asks, B's client approves (auto_authorize); then
        # the other way round.
        A.send_presence_subscription(pto=bare_b)
        await until(lambda: A.client_roster[bare_b]["subscription"] in ("to", "both"), 10,
                    "A's roster to show a subscription to B")
        B.send_presence_subscription(pto=bare_a)
        await until(lambda: subscribed_both(A, bare_b) and subscribed_both(B, bare_a), 10,
                    "both rosters to show subscription 'both' (A sees %s, B sees %s)" % (
                        A.client_roster[bare_b]["subscription"], B.client_roster[bare_a]["subscription"]))
        await until(lambda: available(A, bare_b) and available(B, bare_a), 10,
                    "each user to see the other's presence")

        A.send_message(mto=bare_b, mbody="hello B from A", mtype="chat")
        got = await B.expect_message("hello B from A")
        if got["from"].bare != bare_a:
            raise Fail("B got the message from %s, not %s" % (got["from"], bare_a))
        B.send_message(mto=got["from"], mbody="hello A from B", mtype="chat")
        await A.expect_message("hello A from B")

        await B.logout()
        await until(lambda: not available(A, bare_b), 10, "A to see B go offline")
        A.send_message(mto=bare_b, mbody="while you were away", mtype="chat")
        # A ping round trip: the server has handled the message before it.
        await bounded(A["xep_0199"].ping(jid=A.boundjid.domain, timeout=10), 12, "A's ping")

        B2 = Client(a.jid_b, a.pass_b, a.mech)
        await B2.login(a.host, a.port)
        try:
            msg = await B2.expect_message("while you were away")
            if msg.xml.find("{urn:xmpp:delay}delay") is None:
                raise Fail("offline message arrived without <delay xmlns='urn:xmpp:delay'/>: %s" % msg)
            if not msg["delay"]["stamp"]:
                raise Fail("offline message delay has no stamp: %s" % msg)
        finally:
            await B2.logout()
    finally:
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS, mech="SCRAM-SHA-256")
    run(lambda: main(args), "slixmpp two users (%s)" % args.mech, args.debug)
