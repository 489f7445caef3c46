"""A tiny static server for a web bundle: 127.0.0.1, COOP/COEP (so wasm threads work), correct MIME types.

Standard library only: ``edgeprune deploy web`` copies this file into the bundle as ``serve.py``,
so ``python serve.py`` serves the folder it sits in. The browser bench backend imports it (as edgeprune.runtime.serve).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import threading
from pathlib import Path
from typing import ClassVar

MIME = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".wasm": "application/wasm", ".onnx": "application/octet-stream",
    ".png": "image/png", ".svg": "image/svg+xml", ".py": "text/plain; charset=utf-8",
}
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
             "Cross-Origin-Resource-Policy": "same-origin"}


class BundleHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with the isolation headers, no caching and quiet logs."""

    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}

    def end_headers(self) -> None:
        """Add COOP/COEP/CORP and no-cache to every response."""
        for key, value in ISOLATION.items():
            self.send_header(key, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet unless EDGEPRUNE_SERVE_LOG is set."""
        if os.environ.get("EDGEPRUNE_SERVE_LOG"):
            super().log_message(format, *args)


def make_server(root: str | os.PathLike[str], port: int = 0, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """A server for ``root`` on ``host:port`` (port 0: an ephemeral one, read back from ``server_port``)."""
    handler = functools.partial(BundleHandler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), handler)


class Serving:
    """Context manager: serve ``root`` on 127.0.0.1 in a background thread; ``url`` is its address."""

    def __init__(self, root: str | os.PathLike[str], port: int = 0) -> None:
        self.server = make_server(root, port)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Serving:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """``python serve.py [--port N] [--dir DIR]``: serve until Ctrl-C."""
    p = argparse.ArgumentParser(description="serve this web bundle on 127.0.0.1 with COOP/COEP headers")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free one; default 8000)")
    p.add_argument("--dir", default=str(Path(__file__).resolve().parent), help="folder to serve (default: this one)")
    args = p.parse_args(argv)
    server = make_server(args.dir, args.port)
    print(f"serving {args.dir} at http://127.0.0.1:{server.server_port}/  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
