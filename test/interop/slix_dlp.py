#!/usr/bin/python3
"""DLP seen by slixmpp clients: A sends B three messages under the server's
policies (cards blocked, IBANs redacted, "project falcon" flagged):
- the card number comes back to A as a message error with policy-violation
  and a readable text, and never reaches B;
- B reads the IBAN message with the IBAN replaced by [redacted], and A gets
  a headline notice from the server with <dlp action='redact'/> naming A's
  message id;
- B reads the flagged message as sent.

Usage: slix_dlp.py HOST PORT JID_A PASS_A JID_B PASS_B [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure.
"""

import asyncio

from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run

CARD = "my card is 4111 1111 1111 1111, thanks"
IBAN = "wire it to DE89 3704 0044 0532 0130 00 today"
REDACTED = "wire it to [redacted] today"
FLAGGED = "the project falcon numbers are in"
NS = "{urn:parley:dlp:0}dlp"


async def main(a):
    A = Client(a.jid_a, a.pass_a)
    B = Client(a.jid_b, a.pass_b)
    errors, notices = asyncio.Queue(), asyncio.Queue()
    A.add_event_handler("message_error", errors.put_nowait)
    A.add_event_handler("message", lambda m: m["type"] == "headline" and notices.put_nowait(m))
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)

        A.send_message(mto=B.boundjid.bare, mbody=CARD, mtype="chat", mfrom=None)
        err = await bounded(errors.get(), 10, "the blocked message's error")
        # slixmpp 1.8 knows RFC 3920's conditions only: look for RFC 6120's
        # policy-violation in the XML.
        cond = err.xml.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}policy-violation")
        if cond is None or "not sent" not in err["error"]["text"]:
            raise Fail("blocked message answered %s, want policy-violation with a text" % err)

        m = A.make_message(mto=B.boundjid.bare, mbody=IBAN, mtype="chat")
        m["id"] = "iban-1"
        m.send()
        got = await B.expect_message(REDACTED)
        if "DE89" in str(got):
            raise Fail("B got the IBAN: %s" % got)
        notice = await bounded(notices.get(), 10, "the redaction notice")
        el = notice.xml.find(NS)
        if el is None or el.get("action") != "redact" or el.get("id") != "iban-1" or notice["from"].bare != A.boundjid.domain:
            raise Fail("notice %s: want a headline from the server with <dlp action='redact' id='iban-1'/>" % notice)

        A.send_message(mto=B.boundjid.bare, mbody=FLAGGED, mtype="chat")
        await B.expect_message(FLAGGED)
        # Messages arrive in order: had the card been delivered, B would
        # have it queued before the two others.
        while not B.messages.empty():
            extra = B.messages.get_nowait()
            if "4111" in extra["body"]:
                raise Fail("B received the blocked message: %s" % extra)
        print("B saw: %r and %r" % (got["body"], FLAGGED), flush=True)
    finally:
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS)
    run(lambda: main(args), "DLP block, redact and flag seen by slixmpp", args.debug)
