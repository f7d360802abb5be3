#!/usr/bin/env python3
"""Loopback Mercurial forge for the go command in direct mode.

Runs `hg serve --web-conf` over every repository in --repos on a free port of
--bind, and answers GET /<name>[/...]?go-get=1 on --bind:--port with
<meta name="go-import" content="<host>/<name> hg http://<bind>:<hg port>/<name>">.
Prints "ready" once both listen. Exits (stopping hg serve) when --parent-pid
dies, so a test process that never tears it down does not leave it behind.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

ARGS = None
HG_PORT = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("hg-forge: " + (fmt % args) + "\n")

    def do_GET(self):
        url = urlsplit(self.path)
        if parse_qs(url.query).get("go-get") != ["1"]:
            return self.reply(404, b"only ?go-get=1 pages here\n", "text/plain")
        name = url.path.strip("/").split("/")[0]
        if not name or not os.path.isdir(os.path.join(ARGS.repos, name, ".hg")):
            return self.reply(404, b"no such repository\n", "text/plain")
        root = f"{ARGS.host}/{name}"
        page = (
            f'<html><head><meta name="go-import" content="{root} hg '
            f'http://{ARGS.bind}:{HG_PORT}/{name}"></head><body></body></html>\n'
        ).encode()
        return self.reply(200, page, "text/html")

    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def free_port(addr):
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def wait_listening(addr, port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((addr, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    global ARGS, HG_PORT
    p = argparse.ArgumentParser()
    p.add_argument("--repos", required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--host", required=True)
    p.add_argument("--parent-pid", type=int)
    ARGS = p.parse_args()

    conf = os.path.join(ARGS.repos, "..", "hgweb.conf")
    with open(conf, "w") as f:
        f.write(f"[paths]\n/ = {os.path.abspath(ARGS.repos)}/*\n[web]\npush_ssl = false\n")
    HG_PORT = free_port(ARGS.bind)
    # Mercurial's lazy imports are not thread-safe: under concurrent requests hg serve
    # fails with "module 'email.parser' has no attribute 'Parser'". Import eagerly.
    env = dict(os.environ, HGRCPATH="", HGPLAIN="1", HGDEMANDIMPORT="disable")
    hg = subprocess.Popen(
        ["hg", "serve", "--web-conf", conf, "--address", ARGS.bind, "--port", str(HG_PORT),
         "--accesslog", os.devnull],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr,
    )
    if not wait_listening(ARGS.bind, HG_PORT, hg):
        sys.stderr.write("hg-forge: hg serve did not start\n")
        hg.kill()
        sys.exit(1)

    try:
        server = ThreadingHTTPServer((ARGS.bind, ARGS.port), Handler)
    except OSError as e:
        sys.stderr.write(f"hg-forge: cannot listen on {ARGS.bind}:{ARGS.port}: {e}\n")
        hg.kill()
        sys.exit(1)

    def stop(*_):
        hg.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    if ARGS.parent_pid:
        def watch():
            while True:
                try:
                    os.kill(ARGS.parent_pid, 0)
                except OSError:
                    stop()
                if hg.poll() is not None:
                    sys.stderr.write("hg-forge: hg serve exited\n")
                    stop()
                time.sleep(0.5)
        threading.Thread(target=watch, daemon=True).start()
    print("ready", flush=True)
    try:
        server.serve_forever()
    finally:
        hg.kill()


if __name__ == "__main__":
    main()
