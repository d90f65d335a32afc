"""Fixtures of the Python client's tests.

The tests talk to a real stride service over HTTP. With ``STRIDE_URL`` and
``STRIDE_API_KEY`` set (``npm test`` sets them to its local Worker, in
test/e2e/python.test.ts) they use it; otherwise a fresh local Worker is started
for the session through Node (scripts/local-worker.mjs, as the e2e tests do) and
stopped at the end. ``STRIDE_RUNNER_KEY`` is the runner key for ``stride agent``
(default: the API key), ``STRIDE_ADMIN_TOKEN`` the admin token the guides' examples
create a project with (default: ``stride-admin-token``, a local ``npm start``'s).

``fake_server`` is a tiny local HTTP server that answers from a script, for what
a real service does not do on demand (429 with Retry-After, 503, a dropped
connection, a slow answer) and to see exactly what the client sent.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar, Union

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import stride  # noqa: E402


@dataclass
class Server:
    url: str
    key: str
    runner_key: str
    #: The admin token (projects and keys): ``STRIDE_ADMIN_TOKEN``, else .dev.vars.example's.
    admin_token: str = "stride-admin-token"


_START = """
import { startStride } from %s;
const s = await startStride({ devKey: 'py-key', runnerKey: 'py-runner-key' });
console.log(JSON.stringify({ url: s.url, key: s.devKey, runner: s.runnerKey }));
process.stdin.resume();
process.stdin.on('end', async () => { await s.dispose(); process.exit(0); });
"""


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    url, key = os.environ.get("STRIDE_URL"), os.environ.get("STRIDE_API_KEY")
    if url and key:
        yield Server(
            url.rstrip("/"),
            key,
            os.environ.get("STRIDE_RUNNER_KEY") or key,
            os.environ.get("STRIDE_ADMIN_TOKEN") or "stride-admin-token",
        )
        return
    script = _START % json.dumps(str(ROOT / "scripts" / "local-worker.mjs"))
    proc = subprocess.Popen(
        ["node", "--input-type=module", "-e", script],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        pytest.fail(
            f"could not start a local Worker (node exited {proc.returncode}); run `npm ci` first, or set STRIDE_URL and STRIDE_API_KEY"
        )
    info = json.loads(line)
    try:
        # scripts/local-worker.mjs's admin token.
        yield Server(info["url"].rstrip("/"), info["key"], info["runner"], "local-admin-token")
    finally:
        proc.stdin.close()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def client(server: Server) -> stride.Client:
    return stride.Client(server.url, server.key)


@pytest.fixture(autouse=True)
def _no_agent_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A test run from inside `stride agent` must not see that agent's trial.
    for name in ("STRIDE_PARAMS", "STRIDE_TRIAL", "STRIDE_STUDY", "STRIDE_METRICS_FILE"):
        monkeypatch.delenv(name, raising=False)


# --- a scripted HTTP server ----------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: Dict[str, str]
    body: Any
    at: float


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Close the connection without an answer.
    drop: bool = False


class FakeServer:
    """Answers each request with the next of ``replies`` (the last one repeats), recording it in ``seen``."""

    def __init__(self) -> None:
        self.replies: List[Union[Reply, Callable[[Seen], Reply]]] = []
        self.seen: List[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                    time.monotonic(),
                )
                with fake._lock:
                    fake.seen.append(seen)
                    i = min(len(fake.seen), len(fake.replies)) - 1
                    reply = fake.replies[i] if fake.replies else Reply()
                if callable(reply):
                    reply = reply(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                ctype = "application/problem+json" if reply.status >= 400 else "application/json"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    s = FakeServer()
    try:
        yield s
    finally:
        s.close()


def problem(status: int, detail: str, **extra: Any) -> Dict[str, Any]:
    return {
        "type": "https://stride.dev/problems/test",
        "title": "Test",
        "status": status,
        "detail": detail,
        **extra,
    }


def unique(name: str) -> str:
    return f"{name}-{time.time_ns()}"


T = TypeVar("T")


def known(x: Optional[T]) -> T:
    """``x``, asserted not None: a field the test knows is set (a complete trial's ``values``)."""
    assert x is not None
    return x
