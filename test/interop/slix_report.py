#!/usr/bin/python3
"""A spam report from slixmpp (XEP-0377 v0.4 inside a XEP-0191 block): B
sends A a message; A reads the XEP-0359 stanza-id the server stamped on
it, then blocks B with a report (reason spam, a text, that stanza-id).
slixmpp's own xep_0377 plugin speaks the older urn:xmpp:reporting:0, so the
<report/> is built as XML and sent in slixmpp's IQ over its stream.

Usage: slix_report.py HOST PORT JID_A PASS_A JID_B PASS_B [--debug]
Prints "stanza-id ID" (for the test to find in the admin API), then PASS or
FAIL with the reason; exits 1 on failure.
"""

from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run


async def main(a):
    A = Client(a.jid_a, a.pass_a)
    B = Client(a.jid_b, a.pass_b)
    A.register_plugin("xep_0191")
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)
        B.send_message(mto=A.boundjid.bare, mbody="cheap pills, click here", mtype="chat")
        msg = await A.expect_message("cheap pills, click here")
        sid = msg.xml.find("{urn:xmpp:sid:0}stanza-id")
        if sid is None or sid.get("by") != A.boundjid.bare or not sid.get("id"):
            raise Fail("the message carries no stanza-id by %s: %s" % (A.boundjid.bare, msg))
        print("stanza-id %s" % sid.get("id"), flush=True)

        block = ET.fromstring(
            "<block xmlns='urn:xmpp:blocking'><item jid='%s'>"
            "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='%s'/>"
            "<text xmlns='urn:xmpp:reporting:1'>unsolicited pills</text>"
            "</report></item></block>" % (B.boundjid.bare, A.boundjid.bare, sid.get("id")))
        iq = A.make_iq_set()
        iq.append(block)
        try:
            await bounded(iq.send(timeout=10), 12, "the block's result")
        except IqError as e:
            raise Fail("block with report refused: %s" % e.iq["error"]["condition"])

        # The block took effect: A's blocklist (XEP-0191 §3.1) names B.
        blocked = await bounded(A["xep_0191"].get_blocked(timeout=10), 12, "the blocklist")
        jids = {j.bare for j in blocked["blocklist"]["items"]}
        if B.boundjid.bare not in jids:
            raise Fail("blocklist %s does not name %s" % (jids, B.boundjid.bare))
    finally:
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS)
    run(lambda: main(args), "slixmpp files a spam report", args.debug)
