#!/usr/bin/python3
"""Message Archive Management (XEP-0313) with slixmpp's xep_0313 plugin: B
sends A a conversation, then A pages through its archive with RSM
(XEP-0059) forward and backward, checks the count and fin, filters by
'with', and reads the archive metadata (urn:xmpp:mam:2#extended).

Usage: slix_mam.py HOST PORT JID_A PASS_A JID_B PASS_B [--n N] [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""


from slixmpp import JID

from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run


def body_of(msg):
    return msg["mam_result"]["forwarded"]["stanza"]["body"]


async def collect(it, what):
    out = []
    async def drain():
        async for m in it:
            out.append(m)
    await bounded(drain(), 30, what)
    return out


async def main(a):
    A = Client(a.jid_a, a.pass_a)
    B = Client(a.jid_b, a.pass_b)
    for c in (A, B):
        c.register_plugin("xep_0313")
    bare_a, bare_b = A.boundjid.bare, B.boundjid.bare
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)

        sent = ["archived message %02d" % i for i in range(a.n)]
        for body in sent:
            B.send_message(mto=bare_a, mbody=body, mtype="chat")
        # The last one delivered means all were archived: the archive
        # commits before delivery.
        await A.expect_message(sent[-1], timeout=20)

        # Forward paging, 5 per page, from the account's own archive.
        msgs = await collect(A["xep_0313"].iterate(jid=JID(bare_a), with_jid=JID(bare_b), rsm={"max": 5}),
                             "forward paging")
        got = [body_of(m) for m in msgs]
        if got != sent:
            raise Fail("forward paging returned %r, want %r" % (got, sent))
        for m in msgs:
            fwd = m["mam_result"]["forwarded"]
            if not fwd["delay"]["stamp"]:
                raise Fail("result without a delay stamp: %s" % m)
            if fwd["stanza"]["from"].bare != bare_b:
                raise Fail("archived message from %s, want %s" % (fwd["stanza"]["from"], bare_b))

        # Backward paging (RSM <before/>): slixmpp yields newest first.
        msgs = await collect(A["xep_0313"].iterate(with_jid=JID(bare_b), rsm={"max": 4}, reverse=True),
                             "backward paging")
        got = [body_of(m) for m in msgs]
        if got != list(reversed(sent)):
            raise Fail("backward paging returned %r, want %r" % (got, list(reversed(sent))))

        # One page: count, complete, first/last.
        iq = await bounded(A["xep_0313"].retrieve(with_jid=JID(bare_b), rsm={"max": 3}), 15, "one page")
        fin = iq["mam_fin"]
        rsm = fin["rsm"]
        if int(rsm["count"]) != a.n:
            raise Fail("count %s, want %d" % (rsm["count"], a.n))
        # slixmpp's Fin has no 'complete' interface: read the attribute.
        if fin.xml.get("complete") in ("true", "1"):
            raise Fail("first page of %d marked complete" % a.n)
        results = iq["mam"]["results"]
        if [body_of(m) for m in results] != sent[:3]:
            raise Fail("first page %r" % [body_of(m) for m in results])
        if rsm["first"] != results[0]["mam_result"]["id"] or rsm["last"] != results[-1]["mam_result"]["id"]:
            raise Fail("first/last %s/%s do not match the results" % (rsm["first"], rsm["last"]))

        # A filter that matches nothing: an empty, complete page.
        iq = await bounded(A["xep_0313"].retrieve(with_jid=JID("nobody@" + A.boundjid.domain)), 15, "empty query")
        if iq["mam"]["results"] or iq["mam_fin"].xml.get("complete") not in ("true", "1"):
            raise Fail("query with no match: %s" % iq)

        # Archive metadata (#extended): the first and last archived ids.
        meta = await bounded(A["xep_0313"].get_archive_metadata(), 15, "metadata")
        first_id = meta["mam_metadata"]["start"]["id"]
        last_id = meta["mam_metadata"]["end"]["id"]
        all_ids = [m["mam_result"]["id"] for m in msgs]
        if first_id != all_ids[-1] or last_id != all_ids[0]:
            raise Fail("metadata %s..%s, archive %s..%s" % (first_id, last_id, all_ids[-1], all_ids[0]))

        # B's own archive holds its sent copies.
        msgs = await collect(B["xep_0313"].iterate(with_jid=JID(bare_a), rsm={"max": 10}), "B's archive")
        if [body_of(m) for m in msgs] != sent:
            raise Fail("B's archive %r" % [body_of(m) for m in msgs])
    finally:
        await logout_all(A, B)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS, n=23)
    run(lambda: main(args), "slixmpp MAM paging", args.debug)
