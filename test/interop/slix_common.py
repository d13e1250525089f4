"""Shared pieces of the slixmpp interop scripts: a client that records what
happened, bounded waits, and PASS/FAIL reporting. Run under /usr/bin/python3
(Debian's python3-slixmpp)."""

import argparse
import asyncio
import contextlib
import logging
import ssl
import sys

from slixmpp import ClientXMPP


class Fail(Exception):
    """A check that did not hold; the message says which and why."""


class Client(ClientXMPP):
    """A slixmpp client that forces one SASL mechanism, requires STARTTLS,
    skips certificate checks (test servers are self-signed) and queues what
    it receives."""

    def __init__(self, jid, password, mech="SCRAM-SHA-256"):
        super().__init__(jid, password, sasl_mech=mech)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.auto_authorize = True   # approve subscription requests
        self.auto_subscribe = False  # subscribing back is the test's job
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0203")
        # slixmpp 1.8 binds only to tls-unique, which TLS 1.3 does not
        # define (RFC 9266), yet takes Python's value for it and then
        # says "y" (RFC 5802: "I can bind, you cannot") with plain SCRAM
        # while the server offers -PLUS, which the server must refuse as
        # a downgrade. A client without channel binding says "n".
        mechs = self["feature_mechanisms"]
        credentials = mechs.sasl_callback
        def without_tls_unique(required, optional):
            creds = credentials(required, optional)
            if "channel_binding" in creds:
                creds["channel_binding"] = None
            return creds
        mechs.sasl_callback = without_tls_unique
        self.messages = asyncio.Queue()
        self.started = asyncio.Event()
        self.tls = False
        self.problem = None
        self.add_event_handler("tls_success", self._on_tls)
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("failed_all_auth", lambda _=None: self._problem("authentication failed"))
        self.add_event_handler("failed_auth", lambda s=None: self._problem("SASL failure: %s" % s))
        self.add_event_handler("connection_failed", lambda e=None: self._problem("connection failed: %s" % e))
        self.add_event_handler("stream_error", lambda e=None: self._problem("stream error: %s" % e))

    def _problem(self, why):
        if self.problem is None:
            self.problem = why
        self.started.set()  # wake whoever waits for the session

    def _on_tls(self, _event):
        self.tls = True

    async def _on_start(self, _event):
        await self.get_roster(timeout=10)
        self.send_presence()
        self.started.set()

    def _on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.messages.put_nowait(msg)

    async def login(self, host, port, timeout=15):
        """Connect with STARTTLS and wait for the session."""
        self.connect(address=(host, port), force_starttls=True)
        await bounded(self.started.wait(), timeout, "%s: session start" % self.boundjid.bare)
        if self.problem:
            raise Fail("%s: %s" % (self.boundjid.bare, self.problem))
        if not self.tls:
            raise Fail("%s: logged in without STARTTLS" % self.boundjid.bare)
        mech = self["feature_mechanisms"].mech
        if mech is None or mech.name != self["feature_mechanisms"].use_mech:
            raise Fail("%s: mechanism %s used, not %s" % (self.boundjid.bare, mech and mech.name, self["feature_mechanisms"].use_mech))

    async def expect_message(self, body, timeout=10):
        """Wait for a chat message carrying body; skip others."""
        return await first(self.messages, lambda msg: msg["body"].strip() == body.strip(), timeout,
                           "%s: message %r" % (self.boundjid.bare, body))

    async def logout(self, timeout=5):
        await bounded(self.disconnect(wait=2.0), timeout, "%s: disconnect" % self.boundjid.bare)


async def bounded(aw, timeout, what):
    """Await aw for at most timeout seconds; a timeout is a Fail naming what."""
    try:
        return await asyncio.wait_for(aw, timeout)
    except asyncio.TimeoutError:
        raise Fail("timed out after %ss waiting for %s" % (timeout, what)) from None


async def first(queue, match, timeout, what):
    """The first item of queue that match accepts, the others dropped,
    within timeout seconds; a timeout is a Fail naming what."""
    async def wait():
        while True:
            item = await queue.get()
            if match(item):
                return item
    return await bounded(wait(), timeout, what)


async def until(cond, timeout, what, step=0.05):
    """Poll cond() until true, at most timeout seconds."""
    async def poll():
        while not cond():
            await asyncio.sleep(step)
    await bounded(poll(), timeout, what)


async def logout_all(*clients):
    """Log out every client still connected; None stands for one never made."""
    for c in clients:
        if c is not None and c.is_connected():
            await c.logout()


@contextlib.asynccontextmanager
async def two_online(a, make=Client):
    """Clients make(a.jid_a, a.pass_a) and make(a.jid_b, a.pass_b), logged
    in to a.host and a.port in that order; both log out at the end."""
    A, B = make(a.jid_a, a.pass_a), make(a.jid_b, a.pass_b)
    try:
        await A.login(a.host, a.port)
        await B.login(a.host, a.port)
        yield A, B
    finally:
        await logout_all(A, B)


# The positional arguments of the scripts with two accounts.
TWO_USERS = ("host", "port", "jid_a", "pass_a", "jid_b", "pass_b")


def parse_args(doc, names, **options):
    """The command line: names positional (port an int), each option as
    --key with its default (and the default's type), and --debug."""
    p = argparse.ArgumentParser(description=doc)
    for name in names:
        p.add_argument(name, type=int if name == "port" else str)
    for key, default in options.items():
        p.add_argument("--" + key, type=type(default), default=default)
    p.add_argument("--debug", action="store_true")
    return p.parse_args()


def run(main, name, debug=False):
    """Run main() and report PASS or FAIL with the reason; exit non-zero on
    failure."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR,
                        format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    except Fail as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        sys.exit(1)
    except asyncio.TimeoutError:
        print("FAIL %s: the whole run took over 120s" % name, flush=True)
        sys.exit(1)
    except Exception as e:  # anything unexpected is a failure, with its type
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
        sys.exit(1)
    print("PASS %s" % name, flush=True)
