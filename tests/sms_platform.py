"""An SMS platform on loopback whose answer the test chooses: ok, 500, garbage or refusal; slow,
or holding every request after the first few until released (a platform that stopped answering)."""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {"ok": (200, '{"code": "0", "msg": "ok"}'), "500": (500, "internal error"),
           "garbage": (200, "<html>maintenance</html>"),
           "refuse": (200, '{"code": "41", "msg": "blacklisted"}')}


class Platform:
    def __init__(self):
        self.answer, self.received, self.connections = "ok", [], set()
        self.delay = 0.0  # seconds before each answer
        self.answer_only = None  # answer this many requests, hold the rest until release()
        self.released = threading.Event()
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so a client's pool is visible

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with platform.lock:
                    platform.received.append(body)
                    platform.connections.add(self.client_address)
                    held = platform.answer_only is not None \
                        and len(platform.received) > platform.answer_only
                if held:
                    platform.released.wait()
                time.sleep(platform.delay)
                status, text = ANSWERS[platform.answer]
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(text.encode())))
                    self.end_headers()
                    self.wfile.write(text.encode())
                except OSError:  # the sender died while we held its request
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def refs(self) -> Counter:
        with self.lock:
            return Counter(body["ref"] for body in self.received)

    def release(self):
        self.answer_only = None
        self.released.set()

    def stop(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()
