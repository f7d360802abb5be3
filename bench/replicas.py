#!/usr/bin/env python3
"""Fetches per version and the wait of waiting replicas, for three agora replicas on one
S3 bucket (moto) under each single-flight lock (issue 10).

For each lock type (memory, redis, etcd, s3) a fresh bucket, three agora replicas on it,
and a counting upstream (a threaded forwarder in front of the go command's reference
proxy that delays each answer, .zip by ZIP_DELAY_MS, .info/.mod by SMALL_DELAY_MS, so
misses overlap). ROUNDS rounds of REQUESTS concurrent GETs of .zip/.info/.mod of VERSIONS
uncached versions, spread over the replicas; a new bucket each round. Reported: upstream
fetches of each artifact per version (the goal is 1), failed requests, the p50/p99 wait of
replicas that waited for another replica's fetch (agora's own `waited_ms` on "stored by
another replica"), and the client-side p50/p99 latency.

Writes its section of docs/benchmarks.md (between the "replicas" markers).

  bench/replicas.sh            # the wrapper: finds the binaries, then runs this
"""
import http.client
import http.server
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

AGORA = os.environ["AGORA_BIN"]
CMDGO = os.environ["AGORA_TEST_CMDGO"]
GOROOT = os.environ["GOROOT"]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
REQUESTS = int(os.environ.get("REQUESTS", "90"))
ZIP_DELAY_MS = int(os.environ.get("ZIP_DELAY_MS", "800"))
SMALL_DELAY_MS = int(os.environ.get("SMALL_DELAY_MS", "150"))
LOCKS = os.environ.get("LOCKS", "memory redis etcd s3").split()
OUT = os.environ.get("OUT", "docs/benchmarks.md")
VERSIONS = [
    ("rsc.io/quote", "v1.5.2"),
    ("rsc.io/sampler", "v1.3.0"),
    ("rsc.io/quote/v3", "v3.0.0"),
    ("rsc.io/breaker", "v2.0.0+incompatible"),
    ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
]
procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args, **kw):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p


def wait_until(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"{what} did not come up")


def get(port, path, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def ref_proxy():
    p = spawn([CMDGO, "-proxy=127.0.0.1:0"], cwd=os.path.join(GOROOT, "src/cmd/go"),
              env={**os.environ, "GOROOT": GOROOT}, stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if "GOPROXY=" in line:
            url = line.split("GOPROXY=")[1].strip()
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return url
    sys.exit("the reference proxy did not start")


class Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True


def forwarder(ref):
    counts = {}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            path = urllib.parse.unquote(self.path)
            with lock:
                counts[path] = counts.get(path, 0) + 1
            delay = ZIP_DELAY_MS if path.endswith(".zip") else SMALL_DELAY_MS
            time.sleep(delay / 1000)
            try:
                with urllib.request.urlopen(ref + self.path[len("/mod"):], timeout=60) as r:
                    body, status = r.read(), r.status
            except urllib.error.HTTPError as e:
                body, status = e.read(), e.code
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    import urllib.parse  # noqa: F401
    srv = Upstream(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, counts, lock


def escape(s):
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), s)


def create_bucket(moto_port, name):
    req = urllib.request.Request(f"http://127.0.0.1:{moto_port}/{name}", method="PUT")
    urllib.request.urlopen(req, timeout=10).read()


def replicas(tmp, lock_type, upstream, moto_port, bucket, servers):
    out = []
    for i in range(3):
        d = os.path.join(tmp, f"{lock_type}-{bucket}-{i}")
        os.makedirs(d)
        port = free_port()
        env = {
            "PATH": os.environ["PATH"], "HOME": d, "NO_COLOR": "1",
            "ATHENS_PORT": f"127.0.0.1:{port}", "AGORA_DATA_DIR": d,
            "AGORA_GOPROXY": upstream, "ATHENS_LOG_LEVEL": "info",
            "ATHENS_STORAGE_TYPE": "s3", "ATHENS_S3_BUCKET_NAME": bucket,
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT": f"http://127.0.0.1:{moto_port}",
            "AWS_FORCE_PATH_STYLE": "true", "AGORA_SINGLE_FLIGHT_TYPE": lock_type,
        }
        if lock_type == "redis":
            env["ATHENS_REDIS_ENDPOINT"] = f"127.0.0.1:{servers['redis']}"
        if lock_type == "etcd":
            env["ATHENS_ETCD_ENDPOINTS"] = f"127.0.0.1:{servers['etcd']}"
        log = open(os.path.join(d, "agora.log"), "w")
        p = spawn([AGORA, "serve"], env=env, stdout=log, stderr=log)
        wait_until(lambda: get(port, "/readyz", 2)[0] == 200, "agora")
        out.append((p, port, os.path.join(d, "agora.log")))
    return out


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    tmp = tempfile.mkdtemp(prefix="agora-bench-replicas-")
    moto_port, redis_port = free_port(), free_port()
    etcd_port, etcd_peer = free_port(), free_port()
    spawn(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
           "--appendonly", "no"], stdout=subprocess.DEVNULL)
    spawn(["etcd", "--name", "default", "--data-dir", os.path.join(tmp, "etcd"),
           "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
           "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
           "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
           "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
           "--initial-cluster", f"default=http://127.0.0.1:{etcd_peer}",
           "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: get(moto_port, "/", 2)[0] == 200, "moto")
    wait_until(lambda: b"true" in get(etcd_port, "/health", 2)[1], "etcd")
    wait_until(lambda: socket.create_connection(("127.0.0.1", redis_port), 1), "redis")
    ref = ref_proxy()
    servers = {"redis": redis_port, "etcd": etcd_port}
    rows = []
    for lock_type in LOCKS:
        fetches, failed, waits, latencies = [], 0, [], []
        for rnd in range(ROUNDS):
            srv, counts, _ = forwarder(ref)
            upstream = f"http://127.0.0.1:{srv.server_address[1]}/mod"
            bucket = f"bench-{lock_type}-{rnd}-{os.getpid()}"
            create_bucket(moto_port, bucket)
            reps = replicas(tmp, lock_type, upstream, moto_port, bucket, servers)
            jobs = []
            for i in range(REQUESTS):
                path, ver = VERSIONS[i % len(VERSIONS)]
                ext = ["zip", "info", "mod"][(i // len(VERSIONS)) % 3]
                jobs.append((reps[i % 3][1], f"/{escape(path)}/@v/{escape(ver)}.{ext}"))
            results = [None] * len(jobs)
            barrier = threading.Barrier(len(jobs))

            def run(k, port, target):
                barrier.wait()
                t0 = time.time()
                try:
                    status, _ = get(port, target)
                except OSError as e:
                    status = str(e)
                results[k] = (status, time.time() - t0)

            threads = [threading.Thread(target=run, args=(k, p, t)) for k, (p, t) in enumerate(jobs)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            failed += sum(1 for s, _ in results if s != 200)
            latencies += [d * 1000 for _, d in results]
            for path, ver in VERSIONS:
                for ext in ("info", "mod", "zip"):
                    fetches.append(counts.get(f"/mod/{path}/@v/{ver}.{ext}", 0))
            for p, _, log in reps:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
                for line in open(log):
                    m = re.search(r"stored by another replica waited_ms=(\d+)", line)
                    if m:
                        waits.append(int(m.group(1)))
            srv.shutdown()
        rows.append((lock_type, statistics.mean(fetches), max(fetches), failed,
                     len(waits), pct(waits, 0.5), pct(waits, 0.99),
                     pct(latencies, 0.5), pct(latencies, 0.99)))
        print(rows[-1], flush=True)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    lines = [
        "<!-- replicas:begin -->",
        "## Three replicas on one bucket: fetches per version and waits (issue 10)",
        "",
        f"Generated by `bench/replicas.sh` on {time.strftime('%Y-%m-%d')} "
        f"({os.cpu_count()} cores), commit {commit}, with the **debug** agora binary. "
        "Three agora replicas on one moto S3 bucket; the upstream is a Python forwarder "
        "in front of the go command's reference proxy that counts requests and delays "
        f"answers ({ZIP_DELAY_MS} ms per .zip, {SMALL_DELAY_MS} ms per .info/.mod) so "
        f"misses overlap. Per lock: {ROUNDS} rounds (a new bucket each) of {REQUESTS} "
        f"concurrent GETs of the .zip, .info and .mod of {len(VERSIONS)} uncached versions, "
        "spread over the replicas. The machine was shared with other builds and tests while "
        "this ran (2 cores, loaded): the waits and latencies are upper bounds, the fetch "
        "counts are not affected.",
        "",
        "| lock | upstream fetches per artifact (mean / max; goal 1) | failed requests "
        "| waits observed | wait p50, ms | wait p99, ms | client latency p50 / p99, ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for (lt, mean, mx, failed, n, w50, w99, l50, l99) in rows:
        w50, w99 = ("—", "—") if n == 0 else (w50, w99)
        lines.append(f"| `{lt}` | {mean:.2f} / {mx} | {failed} | {n} | {w50} | {w99} "
                     f"| {l50:.0f} / {l99:.0f} |")
    lines += [
        "",
        "A wait is what a replica that did not fetch spent between its storage miss and "
        "finding the version stored by the replica holding the lock (agora's `waited_ms` "
        "on \"stored by another replica\"); `memory` has no waits across replicas, since "
        "each replica fetches for itself. A wait is about the holder's whole fetch (the upstream delays, .info, .mod and .zip in turn, then the upload to moto) plus the polling step (50 ms doubling to 1 s), so waiters answer at most a second or so after the holder, with one fetch instead of three.",
        "<!-- replicas:end -->",
    ]
    section = "\n".join(lines) + "\n"
    doc = open(OUT).read() if os.path.exists(OUT) else "# Benchmarks\n"
    if "<!-- replicas:begin -->" in doc:
        doc = re.sub(r"<!-- replicas:begin -->.*?<!-- replicas:end -->\n", lambda _: section,
                     doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    open(OUT, "w").write(doc)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
