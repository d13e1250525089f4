#!/usr/bin/python3
"""Room avatars (XEP-0486: vcard-temp on a room, XEP-0153 hashes) with
slixmpp's own plugins: A creates a room, B joins; A sets the room's avatar
with the XEP-0153 plugin's set_avatar(jid=room), which reads the room's
vCard and publishes it with the PHOTO. B is told as XEP-0486 says: a
status 104 message, after which the room's disco#info advertises
vcard-temp and carries the photo's SHA-1 in muc#roominfo_avatarhash; B's
XEP-0054 get_vcard(room) returns the image byte for byte. (slixmpp's
XEP-0045 plugin marks a joined room's JID as one whose presence the
roster ignores, so its XEP-0153 plugin never sees the presence from the
room: XEP-0486 §5.2's point, and why the hash is in disco#info.)

Usage: slix_muc_avatar.py HOST PORT JID_A PASS_A JID_B PASS_B ROOM [--debug]
Prints PASS or FAIL with the reason; exits 1 on failure. Every wait is bounded.
"""

import asyncio
import hashlib
import os

from slix_common import TWO_USERS, Client, Fail, bounded, parse_args, run, two_online
from slix_muc import instant_room


class AvatarClient(Client):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in ("xep_0004", "xep_0045", "xep_0054", "xep_0153"):
            self.register_plugin(p)
        self.changes = asyncio.Queue()  # status 104 notices
        # The XEP-0045 plugin's event for a room's status codes.
        self.add_event_handler("groupchat_config_status", self._on_groupchat)

    def _on_groupchat(self, msg):
        x = msg.xml.find("{http://jabber.org/protocol/muc#user}x")
        if x is not None and any(s.get("code") == "104" for s in x):
            self.changes.put_nowait(msg)


async def main(a):
    room = a.room
    async with two_online(a, AvatarClient) as (A, B):
        await instant_room(A, B, room)

        img = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
        want = hashlib.sha1(img).hexdigest()
        await bounded(A["xep_0153"].set_avatar(jid=room, avatar=img, mtype="image/png"), 15,
                      "A setting the room's avatar")
        await bounded(B.changes.get(), 10, "B's status 104 notice")

        info = await bounded(B["xep_0030"].get_info(room), 10, "the room's disco#info")
        if "vcard-temp" not in info["disco_info"]["features"]:
            raise Fail("the room does not advertise vcard-temp: %s" % info["disco_info"]["features"])
        hashes = []
        for x in info.xml.iter("{jabber:x:data}x"):
            for f in x.iter("{jabber:x:data}field"):
                if f.get("var") == "muc#roominfo_avatarhash":
                    hashes += [v.text for v in f.iter("{jabber:x:data}value")]
        if hashes != [want]:
            raise Fail("muc#roominfo_avatarhash is %s, want [%s]" % (hashes, want))

        got = await bounded(B["xep_0054"].get_vcard(room, cached=False), 10, "B reading the room's vCard")
        photo = got["vcard_temp"]["PHOTO"]
        if photo["TYPE"] != "image/png" or photo["BINVAL"] != img:
            raise Fail("the room's vCard holds %s with %d bytes, not the %d set" %
                       (photo["TYPE"], len(photo["BINVAL"] or b""), len(img)))


if __name__ == "__main__":
    args = parse_args(__doc__, TWO_USERS + ("room",))
    run(lambda: main(args), "slixmpp room avatar", args.debug)
