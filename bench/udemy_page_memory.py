"""Peak memory of a worker fetching one hostile Udemy list page (bounded state).

A loopback server (its own process) answers one page of `--items` items; this process fetches it
through `UdemyClient.iter_course_pages()` (optionally mapping every item, as a sync would) and
prints the traced peak (tracemalloc) and the growth of its resident set (ru_maxrss), with what the
client did: a page of more items than the 100 asked, or heavier than `UDEMY_MAX_PAGE_MB`, is
refused before it is mapped.

    LMSBRIDGE_VAR_DIR=/tmp/x .venv/bin/python bench/udemy_page_memory.py --items 200000
    ... --items 200000 --dense          # {"id": N}: 2.6 MB, under UDEMY_MAX_PAGE_MB
    ... --items 1600000 --empty         # {}: 4.6 MB, under it too
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count, shape = int(sys.argv[1]), sys.argv[2]
ITEM = {
    "title": lambda i: {"id": i, "title": "t"},
    "dense": lambda i: {"id": i},
    "empty": lambda i: {},
}
items = [ITEM[shape](i) for i in range(count)]
page = {"count": count, "next": None, "previous": None, "results": items}
body = json.dumps(page, separators=(",", ":") if shape == "empty" else None).encode()


class Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
print(server.server_address[1], len(body), flush=True)
server.serve_forever()
"""


def measure(items: int, *, shape: str, map_items: bool) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lmsbridge.settings")
    os.environ.setdefault("DJANGO_ENV", "test")
    import django

    django.setup()
    from integrations.core.errors import ApiError
    from integrations.providers.udemy.client import UdemyClient, UdemyCredentials
    from integrations.providers.udemy.mapping import map_course

    kind = shape
    server = subprocess.Popen(  # noqa: S603 (this interpreter, a literal script)
        [sys.executable, "-c", SERVER, str(items), kind], stdout=subprocess.PIPE, text=True
    )
    try:
        port, size = server.stdout.readline().split()
        base_url = f"http://127.0.0.1:{port}/api-2.0/organizations/4242/"
        credentials = UdemyCredentials("c", "s", "demo", "4242", base_url)
        client = UdemyClient(credentials, allowed_hosts=["127.0.0.1"], max_retries=0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started, outcome = time.monotonic(), "accepted"
        try:
            for page in client.iter_course_pages():
                if map_items:
                    for raw in page.results:
                        try:
                            map_course(raw, sync_tags=True, default_lang="en")
                        except Exception:  # noqa: S112 (a bad item is the sync's business)
                            continue
        except ApiError as exc:
            outcome = f"refused: {exc.message[:90]}"
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        server.kill()
    return {
        "items": items,
        "kind": kind,
        "mapped": map_items,
        "body_mb": round(int(size) / 2**20, 2),
        "tracemalloc_peak_mb": round(peak / 2**20, 1),
        "maxrss_growth_mb": round((after - before) / 1024, 1),
        "seconds": round(time.monotonic() - started, 2),
        "outcome": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--dense", action="store_true", help='items of {"id"} only')
    parser.add_argument("--empty", action="store_true", help="items of {} (compact JSON)")
    parser.add_argument("--map", action="store_true", help="map every item, as a sync would")
    args = parser.parse_args()
    shape = "empty" if args.empty else "dense" if args.dense else "title"
    print(json.dumps(measure(args.items, shape=shape, map_items=args.map)))


if __name__ == "__main__":
    main()
