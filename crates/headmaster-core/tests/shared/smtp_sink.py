"""An SMTP server on loopback for the core's test binaries (needs PyPI's `aiosmtpd`).

Usage: python3 smtp_sink.py OUT_DIR

Binds 127.0.0.1 on a free port and prints the port on stdout once it accepts connections.
Every message it accepts becomes OUT_DIR/NNNN.json (envelope sender and recipients, subject,
body), written under a temporary name and renamed, so a reader never sees half a file.
Every login is refused with a reply that quotes the password it was given: the credential
tests check that such a reply never reaches a result, an error or the audit log. The server
exits as soon as its stdin closes, so it cannot outlive the test process that started it.
"""

import asyncio
import email
import json
import os
import sys
from email import policy

from aiosmtpd.smtp import SMTP, AuthResult

OUT_DIR = sys.argv[1]


class Recorder:
    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        raw = envelope.original_content
        # The final CRLF belongs to the end-of-data marker, not to the body (RFC 5321 4.1.1.4).
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        parsed = email.message_from_bytes(raw, policy=policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(parsed["subject"]),
            "body": parsed.get_content().replace("\r\n", "\n"),
        }
        target = os.path.join(OUT_DIR, "%04d.json" % self.received)
        with open(target + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(target + ".part", target)
        return "250 stored"


def quote_and_refuse(server, session, envelope, mechanism, auth_data):
    secret = auth_data.password.decode()
    return AuthResult(success=False, handled=False,
                      message="535 5.7.8 refused the password " + secret)


def stop_when_stdin_closes():
    if not os.read(0, 512):
        os._exit(0)


async def serve():
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="gate.test", authenticator=quote_and_refuse,
                     auth_require_tls=False),
        "127.0.0.1",
        0,
    )
    loop.add_reader(0, stop_when_stdin_closes)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(serve())
