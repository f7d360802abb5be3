#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for agora's tests.

Accepts POST /v1/traces (protobuf ExportTraceServiceRequest, as the
OpenTelemetry SDKs send it), decodes it with the opentelemetry-proto package
and appends one JSON object per span to OUT_FILE:
{"trace_id","span_id","parent_span_id","name","attributes":{k: str}}.
Answers an empty ExportTraceServiceResponse. Usage: otlp_receiver.py PORT OUT_FILE
"""

import http.server
import json
import sys
import threading

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

MAX_BODY = 16 << 20
LOCK = threading.Lock()


def value(v):
    kind = v.WhichOneof("value")
    return str(getattr(v, kind)) if kind else ""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/v1/traces" or length > MAX_BODY:
            self.send_error(404 if self.path != "/v1/traces" else 413)
            return
        req = trace_service_pb2.ExportTraceServiceRequest()
        try:
            req.ParseFromString(self.rfile.read(length))
        except Exception as e:  # a malformed export is the exporter's bug
            self.send_error(400, str(e))
            return
        lines = []
        for rs in req.resource_spans:
            resource = {a.key: value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    lines.append(json.dumps({
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "name": s.name,
                        "attributes": {a.key: value(a.value) for a in s.attributes},
                        "service": resource.get("service.name", ""),
                    }))
        with LOCK, open(OUT, "a") as f:
            for line in lines:
                f.write(line + "\n")
        body = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port, OUT = int(sys.argv[1]), sys.argv[2]
    open(OUT, "a").close()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
