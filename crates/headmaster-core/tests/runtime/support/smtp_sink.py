"""A loopback SMTP server for the runtime tests (needs PyPI's `aiosmtpd`).

Usage: python3 smtp_sink.py OUT_DIR

Binds 127.0.0.1 on a free port and prints the port on stdout once it accepts connections.
Every message it accepts becomes OUT_DIR/NNNN.json (envelope sender and recipients, subject,
body), written under a temporary name and renamed, so a reader never sees half a file. It
exits as soon as its stdin closes, so it cannot outlive the test process that started it.
"""

import asyncio
import email
import json
import os
import sys
from email import policy

from aiosmtpd.smtp import SMTP

OUT_DIR = sys.argv[1]


class Store:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content
        # The last CRLF belongs to the end-of-data marker, not to the body (RFC 5321 4.1.1.4).
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        parsed = email.message_from_bytes(raw, policy=policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(parsed["subject"]),
            "body": parsed.get_content().replace("\r\n", "\n"),
        }
        target = os.path.join(OUT_DIR, "%04d.json" % self.count)
        with open(target + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(target + ".part", target)
        return "250 stored"


def exit_when_stdin_closes():
    if not os.read(0, 512):
        os._exit(0)


async def serve():
    loop = asyncio.get_running_loop()
    store = Store()
    server = await loop.create_server(
        lambda: SMTP(store, hostname="runtime.test"), "127.0.0.1", 0
    )
    loop.add_reader(0, exit_when_stdin_closes)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(serve())
