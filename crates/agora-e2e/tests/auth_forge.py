#!/usr/bin/env python3
"""forge.py (crates/agora-testkit/scripts) for a private repository: git smart HTTP
requires basic auth.

Same arguments as forge.py, plus:
  --auth USER:PASS   the only credentials git requests are served with; anything
                     else gets 401 with `WWW-Authenticate: Basic` (what makes git,
                     through libcurl, send ~/.netrc credentials). Default: the
                     AUTH_FORGE_CREDENTIALS environment variable, which keeps the
                     password out of `ps` output.
  --delay SECONDS    sleep this long before serving each git request, so that a
                     test can watch the processes of a fetch

`?go-get=1` pages stay public, as on most forges: under GOINSECURE the go
command fetches them over plain http, where it never sends credentials.
Each git request is logged to stderr as `auth_forge: <status> <method> <path>
(<why>)`; the credentials themselves are never logged.
"""

import base64
import importlib.util
import os
import sys
import time


def take_option(argv, name, default=None):
    if name in argv:
        i = argv.index(name)
        value = argv[i + 1]
        del argv[i : i + 2]
        return value
    return default


def main():
    argv = sys.argv[1:]
    auth = take_option(argv, "--auth", os.environ.get("AUTH_FORGE_CREDENTIALS"))
    delay = float(take_option(argv, "--delay", "0"))
    if not auth or ":" not in auth:
        sys.exit("auth_forge.py: --auth USER:PASS or AUTH_FORGE_CREDENTIALS is required")
    expected = "Basic " + base64.b64encode(auth.encode()).decode()

    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "agora-testkit", "scripts", "forge.py")
    spec = importlib.util.spec_from_file_location("forge", path)
    forge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(forge)

    serve = forge.Handler.handle_any

    def handle_any(self):
        if "go-get=1" in self.path.partition("?")[2].split("&"):
            return serve(self)
        got = self.headers.get("Authorization")
        if got != expected:
            why = "wrong credentials" if got else "no credentials"
            sys.stderr.write(f"auth_forge: 401 {self.command} {self.path} ({why})\n")
            sys.stderr.flush()
            self.read_body()
            body = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        sys.stderr.write(f"auth_forge: ok {self.command} {self.path} (credentials)\n")
        sys.stderr.flush()
        if delay:
            time.sleep(delay)
        return serve(self)

    forge.Handler.handle_any = handle_any
    sys.argv = [sys.argv[0]] + argv
    forge.main()


if __name__ == "__main__":
    main()
