#!/usr/bin/python3
"""Ad-hoc commands (XEP-0050) and service administration (XEP-0133) with
slixmpp's own plugins, plus last activity (XEP-0012) and entity time
(XEP-0202). A is a site admin, B is not. A lists the commands and sees the
admin nodes; B sees none and is refused add-user. A counts the online
users (2), then adds an account with the add-user form (execute, fill the
form, complete, as slixmpp does), and that account logs in. B asks the
server for its uptime and time.

Usage: slix_admin.py HOST PORT JID_A PASS_A JID_B PASS_B [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import time

from slixmpp.exceptions import IqError
from slixmpp.plugins import xep_0082

from slix_common import TWO_USERS, Client, Fail, bounded, logout_all, parse_args, run

ADMIN = "http://jabber.org/protocol/admin"


class AdminClient(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in ("xep_0004", "xep_0050", "xep_0133", "xep_0012", "xep_0202"):
            self.register_plugin(p)

    async def command_nodes(self):
        items = await self["xep_0133"].get_commands(timeout=10)
        return {node for (_jid, node, _name) in items["disco_items"]["items"]}

    def run_admin(self, name, fill=None):
        """Run an admin command with slixmpp's session workflow: the first
        result's form is filled by fill(form) and completed. Resolves to the
        final Iq (result or error)."""
        done = asyncio.get_running_loop().create_future()

        def finish(iq, session):
            if not done.done():
                done.set_result(iq)

        def next_stage(iq, session):
            if iq["command"]["status"] == "completed" or fill is None:
                finish(iq, session)
                return
            form = iq["command"]["form"]
            fill(form)
            form["type"] = "submit"
            session["payload"] = form
            session["next"] = finish
            self["xep_0050"].complete_command(session)

        getattr(self["xep_0133"], name.replace("-", "_"))(session={"next": next_stage, "error": finish})
        return done


async def main(a):
    A = AdminClient(a.jid_a, a.pass_a)
    B = AdminClient(a.jid_b, a.pass_b)
    C = None
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)

        nodes = await A.command_nodes()
        for want in ("add-user", "delete-user", "get-online-users-num", "announce"):
            if ADMIN + "#" + want not in nodes:
                raise Fail("the admin's command list lacks %s: %s" % (want, sorted(nodes)))
        if any(n.startswith(ADMIN) for n in await B.command_nodes()):
            raise Fail("a user sees admin commands")
        iq = await bounded(B.run_admin("add-user"), 10, "B's add-user")
        if iq["type"] != "error" or iq["error"]["condition"] != "forbidden":
            raise Fail("a user ran add-user: %s" % iq)

        iq = await bounded(A.run_admin("get-online-users-num"), 10, "get-online-users-num")
        if iq["command"]["status"] != "completed" or iq["command"]["form"]["values"].get("onlineusersnum") != "2":
            raise Fail("online users: %s" % iq)

        def fill(form):
            form.set_values({"accountjid": "carol@localhost", "password": "carol pass 1", "password-verify": "carol pass 1"})
        iq = await bounded(A.run_admin("add-user", fill), 10, "add-user")
        if iq["type"] != "result" or iq["command"]["status"] != "completed":
            raise Fail("add-user: %s" % iq)
        C = Client("carol@localhost", "carol pass 1")
        await C.login(a.host, a.port)

        last = await bounded(B["xep_0012"].get_last_activity(B.boundjid.server, timeout=10), 10, "the server's uptime")
        if int(last["last_activity"]["seconds"]) < 0:
            raise Fail("uptime: %s" % last)
        t = await bounded(B["xep_0202"].get_entity_time(B.boundjid.server, timeout=10), 10, "the server's time")
        # slixmpp 1.8's t["entity_time"]["utc"] appends a "Z" to the text
        # and cannot parse a utc that already ends in one, as XEP-0202 §3
        # writes it (and slixmpp itself sends): read the text instead.
        utc = t.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}utc")
        if utc is None or not utc.text.endswith("Z") or abs(xep_0082.parse(utc.text).timestamp() - time.time()) > 60:
            raise Fail("time: %s" % t)
    except IqError as e:
        raise Fail("IQ error: %s" % e.iq) from None
    finally:
        await logout_all(A, B, C)


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS)
    run(lambda: main(args), "slixmpp admin", args.debug)
