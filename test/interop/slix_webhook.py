#!/usr/bin/python3
"""Webhooks (internal/webhook) with a slixmpp user in the hook's room: the
hook already sits in the room (an outgoing hook joins at start); the user
joins, the incoming webhook (POST HOOK_URL with the token, Markdown) posts
into the room and the user gets it from ROOM/NICK with XEP-0393 styling;
the user mentions the hook's nick, the server sends the event to the
test's receiver, which answers {"text": ...}, and the user gets that reply
from the hook.

Usage: slix_webhook.py HOST PORT JID PASS ROOM NICK HOOK_URL TOKEN REPLY [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import json
import ssl
import urllib.request

from slix_common import Fail, bounded, logout_all, parse_args, run
from slix_muc import MucClient


def post(url, token, text):
    """POST {"text"} to the incoming webhook (its certificate is the test
    server's self-signed one)."""
    req = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(req, timeout=10, context=ctx) as res:
        if res.status != 200:
            raise Fail("the webhook answered %d" % res.status)
        return json.load(res)


async def main(a):
    A = MucClient(a.jid, a.password)
    try:
        await A.login(a.host, a.port)
        await bounded(A["xep_0045"].join_muc_wait(a.room, "alice", maxstanzas=0), 15, "joining the room")
        if a.nick not in A["xep_0045"].get_roster(a.room):
            raise Fail("the hook %r is not in the room: %s" % (a.nick, A["xep_0045"].get_roster(a.room)))

        loop = asyncio.get_running_loop()
        out = await bounded(loop.run_in_executor(None, post, a.hook_url, a.token, "**deploy** done"), 15, "the webhook POST")
        if not out.get("id"):
            raise Fail("the webhook's answer %r has no id" % out)
        got = await A.expect_groupchat("*deploy* done", timeout=15)
        if got["from"].resource != a.nick:
            raise Fail("the hook's message came from %s" % got["from"])

        A.send_message(mto=a.room, mbody="%s: is the build green?" % a.nick, mtype="groupchat")
        got = await A.expect_groupchat(a.reply, timeout=15)
        if got["from"].resource != a.nick:
            raise Fail("the reply came from %s" % got["from"])
    finally:
        await logout_all(A)


if __name__ == "__main__":
    args = parse_args(__doc__, ("host", "port", "jid", "password", "room", "nick", "hook_url", "token", "reply"))
    run(lambda: main(args), "slixmpp webhook", args.debug)
