"""A submission server for the digest tests: aiosmtpd (Debian's
python3-aiosmtpd) on loopback with STARTTLS required and AUTH PLAIN
required after it. Each accepted message is written to OUTDIR as
<n>.eml with the envelope in <n>.env; while OUTDIR/refuse exists, DATA
is answered 451 (a temporary failure). Prints READY when it listens.

usage: smtpd.py PORT CERT KEY USER PASSWORD OUTDIR
"""
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, cert, key, user, password, outdir = sys.argv[1:7]


class Handler:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(outdir, "refuse")):
            return "451 4.3.0 try again later"
        self.n += 1
        base = os.path.join(outdir, str(self.n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            f.write(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
controller = Controller(
    Handler(), hostname="127.0.0.1", port=int(port),
    tls_context=ctx, require_starttls=True,
    authenticator=authenticator, auth_require_tls=True, auth_required=True,
)
controller.start()
print("READY", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
