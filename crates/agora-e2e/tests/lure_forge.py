#!/usr/bin/env python3
"""A go-import "lure" and the private module proxy it points at, for the go
fetcher's credential test.

* --lure-bind:80, plain http: GET /<name>[/...]?go-get=1 answers a go-import
  page for <lure-host>/<name>. A client whose User-Agent starts with
  "GoCommand/" (the go command) is sent to the private proxy
  (`mod https://<private-host>/p`); anyone else (agora's own discovery) is
  told the module is an hg repository, so that agora hands it to the go
  fetcher. A page may answer the go command differently: nothing stops it.
* --private-bind:443, https with --cert/--key: a module proxy that answers
  `.../@v/list` with "v7.7.7" (and that version's .info and .mod) only to requests carrying the basic-auth
  credentials in PRIVATE_PROXY_CREDENTIALS (USER:PASS); anything else is 401.

Each private request is logged to stderr as
`private-proxy: <ok|401> <path> (<credentials|no credentials|wrong credentials>)`;
credentials are never logged. Prints "ready" once both listen; exits when
--parent-pid dies.
"""

import argparse
import base64
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ARGS = None
EXPECTED = None


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Lure(Base):
    def do_GET(self):
        url = urlsplit(self.path)
        if parse_qs(url.query).get("go-get") != ["1"]:
            return self.reply(404, b"only ?go-get=1 pages here\n")
        name = url.path.strip("/").split("/")[0]
        root = f"{ARGS.lure_host}/{name}"
        agent = self.headers.get("User-Agent", "")
        if agent.startswith("GoCommand/"):
            content = f"{root} mod https://{ARGS.private_host}/p"
        else:
            content = f"{root} hg http://{ARGS.lure_bind}:1/{name}"
        sys.stderr.write(f"lure: {agent.split('/')[0]} -> {content}\n")
        sys.stderr.flush()
        page = f'<html><head><meta name="go-import" content="{content}"></head></html>\n'
        return self.reply(200, page.encode(), "text/html")


class Private(Base):
    def do_GET(self):
        got = self.headers.get("Authorization")
        if got != EXPECTED:
            why = "wrong credentials" if got else "no credentials"
            sys.stderr.write(f"private-proxy: 401 {self.path} ({why})\n")
            sys.stderr.flush()
            return self.reply(401, b"authentication required\n",
                              extra=[("WWW-Authenticate", 'Basic realm="private"')])
        sys.stderr.write(f"private-proxy: ok {self.path} (credentials)\n")
        sys.stderr.flush()
        module, _, rest = self.path.removeprefix("/p/").partition("/@v/")
        if rest == "list":
            return self.reply(200, b"v7.7.7\n")
        if rest == "v7.7.7.info":
            return self.reply(200, b'{"Version":"v7.7.7","Time":"2024-07-01T00:00:00Z"}\n')
        if rest == "v7.7.7.mod":
            return self.reply(200, f"module {module}\n".encode())
        return self.reply(404, b"not here\n")


def main():
    global ARGS, EXPECTED
    p = argparse.ArgumentParser()
    p.add_argument("--lure-bind", required=True)
    p.add_argument("--lure-host", required=True)
    p.add_argument("--private-bind", required=True)
    p.add_argument("--private-host", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--parent-pid", type=int)
    ARGS = p.parse_args()
    auth = os.environ.get("PRIVATE_PROXY_CREDENTIALS", "")
    if ":" not in auth:
        sys.exit("lure_forge.py: PRIVATE_PROXY_CREDENTIALS=USER:PASS is required")
    EXPECTED = "Basic " + base64.b64encode(auth.encode()).decode()

    try:
        lure = ThreadingHTTPServer((ARGS.lure_bind, 80), Lure)
        private = ThreadingHTTPServer((ARGS.private_bind, 443), Private)
    except OSError as e:
        sys.exit(f"lure_forge.py: cannot listen: {e}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    private.socket = ctx.wrap_socket(private.socket, server_side=True)
    for s in (lure, private):
        threading.Thread(target=s.serve_forever, daemon=True).start()
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
