"""A loopback SMTP server for the headmaster-tools tests (needs PyPI's `aiosmtpd`).

Usage: python3 smtp_sink.py OUT_DIR

Listens on 127.0.0.1 on a free port and prints that port on stdout once it accepts
connections. Each message is written to OUT_DIR/message-N.json with its envelope and its
parsed headers, subject and body. Logins are always refused with a reply that quotes the
password, so tests can check that such a reply is scrubbed. Exits when stdin closes, so it
never outlives the test process.
"""

import asyncio
import email
import json
import os
import sys
from email import policy

from aiosmtpd.smtp import SMTP, AuthResult

OUT_DIR = sys.argv[1]


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        content = envelope.original_content
        # The CRLF before the final "." belongs to the DATA terminator (RFC 5321 4.1.1.4).
        if content.endswith(b"\r\n"):
            content = content[:-2]
        message = email.message_from_bytes(content, policy=policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "subject": str(message["subject"]),
            "body": message.get_content().replace("\r\n", "\n"),
        }
        path = os.path.join(OUT_DIR, f"message-{self.count}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 OK stored"


def refuse_login(server, session, envelope, mechanism, auth_data):
    password = auth_data.password.decode()
    return AuthResult(success=False, handled=False,
                      message=f"535 5.7.8 login refused for password {password}")


def exit_on_stdin_eof():
    if not os.read(0, 1024):
        os._exit(0)


async def main():
    loop = asyncio.get_running_loop()
    handler = Sink()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", authenticator=refuse_login,
                     auth_require_tls=False),
        "127.0.0.1",
        0,
    )
    loop.add_reader(0, exit_on_stdin_eof)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
