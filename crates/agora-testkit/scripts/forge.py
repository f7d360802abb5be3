#!/usr/bin/env python3
"""Loopback git forge for the go command in direct mode (test-components.md §4).

GET /<name>[/...]?go-get=1 answers a go-import meta tag pointing at
http://<host>/<name>.git; every other request runs `git http-backend` as CGI
over the bare repositories in --repos. Exits when --parent-pid dies, so a test
process that never tears it down does not leave it behind.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

ARGS = None
BACKEND = os.path.join(
    subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=True).stdout.strip(),
    "git-http-backend",
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet unless asked
        if ARGS.verbose:
            sys.stderr.write("forge: " + (fmt % args) + "\n")

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if query.get("go-get") == ["1"]:
            name = url.path.strip("/").split("/")[0]
            if not name or not os.path.isdir(os.path.join(ARGS.repos, name + ".git")):
                return self.reply(404, b"no such repository\n", "text/plain")
            root = f"{ARGS.host}/{name}"
            # A repository may ask for the go-import subdirectory field (Go 1.25+)
            # through a file in the bare repository.
            extra = ""
            subdir_file = os.path.join(ARGS.repos, name + ".git", "go-import-subdir")
            if os.path.isfile(subdir_file):
                with open(subdir_file) as f:
                    extra = " " + f.read().strip()
            # Or point the page at a repository elsewhere (another host, say).
            repo_url = f"http://{root}.git"
            repo_file = os.path.join(ARGS.repos, name + ".git", "go-import-repo")
            if os.path.isfile(repo_file):
                with open(repo_file) as f:
                    repo_url = f.read().strip()
            page = (
                f'<html><head><meta name="go-import" content="{root} git {repo_url}{extra}">'
                f"</head><body></body></html>\n"
            ).encode()
            return self.reply(200, page, "text/html")
        body = self.read_body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ARGS.repos,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        proc = subprocess.run([BACKEND], input=body, capture_output=True, env=env)
        out = proc.stdout
        sep = out.find(b"\r\n\r\n")
        sep_len = 4
        if sep < 0:
            sep = out.find(b"\n\n")
            sep_len = 2
        if sep < 0:
            return self.reply(500, proc.stderr or b"bad CGI output\n", "text/plain")
        status = 200
        headers = []
        for line in out[:sep].decode("latin-1").splitlines():
            if not line.strip():
                continue
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            else:
                headers.append((k.strip(), v.strip()))
        payload = out[sep + sep_len:]
        self.send_response(status)
        for k, v in headers:
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--repos", required=True)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--host", required=True)
    p.add_argument("--parent-pid", type=int, default=0)
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    server = ThreadingHTTPServer((ARGS.bind, ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.parent_pid:
        threading.Thread(target=watch_parent, args=(ARGS.parent_pid,), daemon=True).start()
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
