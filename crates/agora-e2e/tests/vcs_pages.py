#!/usr/bin/env python3
"""go-import pages for a repository server the test runs itself (svnserve,
fossil server): GET /<name>[/...]?go-get=1 on --bind:80 answers
<meta name="go-import" content="<host>/<name> <vcs> <url>">, where <url> is
--url with "{name}" replaced. Prints "ready" once it listens; exits when
--parent-pid dies.
"""

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ARGS = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("vcs-pages: " + (fmt % args) + "\n")

    def do_GET(self):
        url = urlsplit(self.path)
        name = url.path.strip("/").split("/")[0]
        if parse_qs(url.query).get("go-get") != ["1"] or not name:
            return self.reply(404, b"only ?go-get=1 pages here\n", "text/plain")
        content = f"{ARGS.host}/{name} {ARGS.vcs} {ARGS.url.replace('{name}', name)}"
        page = f'<html><head><meta name="go-import" content="{content}"></head></html>\n'
        return self.reply(200, page.encode(), "text/html")

    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--vcs", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--parent-pid", type=int)
    ARGS = p.parse_args()
    try:
        server = ThreadingHTTPServer((ARGS.bind, 80), Handler)
    except OSError as e:
        sys.exit(f"vcs_pages.py: cannot listen on {ARGS.bind}:80: {e}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    while True:
        if ARGS.parent_pid:
            try:
                os.kill(ARGS.parent_pid, 0)
            except OSError:
                os._exit(0)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
