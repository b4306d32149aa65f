"""A local HTTP server standing in for a service outside the machine (GitHub's or Discord's
REST API) when the caller is another process, which respx cannot reach."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (method, path with its query, headers, raw body) -> (status, JSON answer)
Answer = Callable[[str, str, Any, bytes], tuple[int, Any]]


@contextmanager
def serving(answer: Answer) -> Iterator[str]:
    """Serve `answer` on a free 127.0.0.1 port for the block; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = answer(self.command, self.path, self.headers, self.rfile.read(length))
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
