"""Local stand-ins for the SMTP server and the SMS platform, so a demo sends for real and nothing
leaves the machine: every message lands under var/sinks/ (mail/*.eml and sms.jsonl)."""

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller


class MailSink:
    """aiosmtpd handler that keeps each message as an .eml file."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        (self.folder / f"{stamp}-{self.count}.eml").write_bytes(envelope.content)
        return "250 Message accepted"


def _sms_handler(log_file: Path):
    lock = threading.Lock()

    class SmsSink(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            record = {"received_at": datetime.now(UTC).isoformat(), "path": self.path,
                      "body": body.decode("utf-8", "replace")}
            with lock, log_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            answer = json.dumps({"code": "0", "msg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet: the log file is the record
            pass

    return SmsSink


class Sinks:
    """Both sinks, started and stopped together."""

    def __init__(self, folder: Path, smtp_port: int, sms_port: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.mail_dir, self.sms_log = folder / "mail", folder / "sms.jsonl"
        self.smtp = Controller(MailSink(self.mail_dir), hostname="127.0.0.1", port=smtp_port)
        self.http = ThreadingHTTPServer(("127.0.0.1", sms_port), _sms_handler(self.sms_log))

    def start(self) -> "Sinks":
        self.smtp.start()
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.smtp.stop()
