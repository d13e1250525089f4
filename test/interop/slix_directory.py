#!/usr/bin/python3
"""Two directory (LDAP) users with slixmpp: PLAIN over STARTTLS with their
directory passwords, each other in their rosters through a shared group
(subscription both, group named after the directory group) without any
subscription, each other's presence, and a message each way.

Usage: slix_directory.py HOST PORT JID_A PASS_A JID_B PASS_B GROUP [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

from slix_common import TWO_USERS, Client, Fail, logout_all, parse_args, run, until


def shared(c, contact, group):
    item = c.client_roster[contact]
    return item["subscription"] == "both" and group in item["groups"]


async def main(a):
    A = Client(a.jid_a, a.pass_a, "PLAIN")
    B = Client(a.jid_b, a.pass_b, "PLAIN")
    bare_a, bare_b = A.boundjid.bare, B.boundjid.bare
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)
        await until(lambda: shared(A, bare_b, a.group) and shared(B, bare_a, a.group), 10,
                    "each roster to hold the other in %r with subscription both (A sees %s %s)" % (
                        a.group, A.client_roster[bare_b]["subscription"], A.client_roster[bare_b]["groups"]))
        await until(lambda: len(A.client_roster[bare_b].resources) > 0 and len(B.client_roster[bare_a].resources) > 0,
                    10, "each user to see the other's presence without subscribing")
        A.send_message(mto=bare_b, mbody="hello colleague", mtype="chat")
        got = await B.expect_message("hello colleague")
        B.send_message(mto=got["from"], mbody="hello back", mtype="chat")
        await A.expect_message("hello back")
    finally:
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS + ("group",))
    run(lambda: main(args), "slixmpp directory users", args.debug)
