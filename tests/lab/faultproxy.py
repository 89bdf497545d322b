#!/usr/bin/python3
"""Fault-injecting HTTP/1.1 proxy in front of the lab's plain-HTTP registry.

Listens on 127.0.0.1:5004 and forwards every request to the real registry
(127.0.0.1:5000) unchanged (Host included, so the registry's Location URLs
point back at the proxy; Range and every other end-to-end header pass
through). Rules, set per test, make it misbehave. Control endpoints live under
/_fault/ on the same port (tests/lab/faultctl wraps them).

Two more listeners of the same proxy (one process, one set of rules, one
request log) stand for "another host" in redirect tests: --alt-listen
(plain HTTP, :5005) and --tls-listen (HTTPS with the lab's server
certificate, :5006). Every request is logged with the port it came in on
and its headers. A rule applies on the main port only unless it says
port=N.

  GET  /_fault/health
  POST /_fault/add?action=A[&key=value...]   add a rule; answers it as JSON
  POST /_fault/reset                         drop all rules, the request log,
                                             and end any hang in progress
  GET  /_fault/rules                         rules with their hit counters
  GET  /_fault/requests                      requests seen since the last reset
  GET  /_fault/count[?path=RE][&method=M][&port=N][&sum=sent]
                                             how many of them match (with
                                             sum=sent: their body bytes sent)

Rule keys (all optional except action):
  path=RE       Python regex searched in the request target (path + query)
  method=M[,M]  only these methods (default: any; GET for body actions)
  range=yes|no  only requests with / without a Range header
  count=N       apply to N matching requests, then stand aside (default: all)
  skip=M        let the first M matching requests through untouched first
  auth=yes|no   only requests with / without an Authorization header
  port=N        only requests that came in on listener port N (default:
                the main listener)

Actions:
  pass                          forward untouched (useful with count/skip)
  status   code=503 retry_after=1 [body=TEXT] [www_authenticate=V]
                                answer with this status, not forwarding;
                                Retry-After defaults to 1 for 429 and 503
                                (retry_after= empty omits it); with
                                www_authenticate, a WWW-Authenticate: V
                                header (a 401 challenge)
  redirect to=URL [code=307]    answer code with Location: URL + the request
                                target (to=http://127.0.0.1:5005 sends the
                                same path to the alt listener)
  relocate to=URL               forward, then point the answer's Location
                                (an upload's, say) at URL: its scheme, host
                                and port become URL's
  drop                          close the connection without any answer
  hang     seconds=600          answer nothing, then close (ended early by reset)
  delay    seconds=S            wait S seconds, then forward
  cut      bytes=K              forward the headers (full Content-Length) and
                                K body bytes, then close (default K = half)
  truncate bytes=K              send only K body bytes with Content-Length: K,
                                so HTTP looks complete (default K = half)
  corrupt  offset=O             flip every bit of the body byte at offset O
                                (default: the middle byte)
  slow     rate=B               send the body at B bytes per second
  throttle rate=B               send bodies at B bytes per second per client
                                connection (a slow link: several connections
                                get several times the bandwidth)
  ignore-range [rate=B]         forward without the Range header: a registry
                                that ignores Range (200 and the whole blob);
                                with rate=B, throttled as above
"""
import argparse
import http.client
import json
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
       "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
ACTIONS = {"pass", "status", "drop", "hang", "delay", "cut", "truncate", "corrupt", "slow",
           "redirect", "relocate", "throttle", "ignore-range"}
BODY_ACTIONS = {"cut", "truncate", "corrupt", "slow", "throttle"}
PACED = {"slow", "throttle", "ignore-range"}
KEYS = {"action", "path", "method", "range", "count", "skip", "code", "retry_after",
        "body", "seconds", "bytes", "offset", "rate", "auth", "port", "www_authenticate", "to"}
ERROR_CODES = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE", 401: "UNAUTHORIZED",
               404: "NOT_FOUND", 500: "UNKNOWN", 502: "UNKNOWN"}


class Rule:
    next_id = 1

    def __init__(self, q):
        bad = set(q) - KEYS
        if bad:
            raise ValueError("unknown rule key(s): %s" % ", ".join(sorted(bad)))
        self.action = q.get("action", "")
        if self.action not in ACTIONS:
            raise ValueError("unknown action %r (one of %s)" % (self.action, ", ".join(sorted(ACTIONS))))
        self.id = Rule.next_id
        Rule.next_id += 1
        self.path = q.get("path", "")
        self.path_re = re.compile(self.path) if self.path else None
        m = q.get("method", "")
        if not m and self.action in BODY_ACTIONS:
            m = "GET"
        self.methods = {x.strip().upper() for x in m.split(",") if x.strip()} or None
        r = q.get("range", "")
        if r not in ("", "yes", "no"):
            raise ValueError("range must be yes or no")
        self.range = {"": None, "yes": True, "no": False}[r]
        a = q.get("auth", "")
        if a not in ("", "yes", "no"):
            raise ValueError("auth must be yes or no")
        self.auth = {"": None, "yes": True, "no": False}[a]
        self.port = int(q["port"]) if q.get("port", "") != "" else None
        self.www_authenticate = q.get("www_authenticate") or None
        self.to = q.get("to", "")
        if self.action in ("redirect", "relocate") and not re.match(r"^https?://[^/]+$", self.to):
            raise ValueError("%s needs to=http[s]://host:port (no path)" % self.action)
        self.count = int(q["count"]) if q.get("count", "") != "" else -1
        self.skip = int(q.get("skip") or 0)
        self.code = int(q.get("code") or (307 if self.action == "redirect" else 503))
        ra = q.get("retry_after")
        self.retry_after = ra if ra is not None else ("1" if self.code in (429, 503) else "")
        self.body = q.get("body")
        self.seconds = float(q["seconds"]) if q.get("seconds") else (600.0 if self.action == "hang" else 0.0)
        self.bytes = int(q["bytes"]) if q.get("bytes", "") != "" else None
        self.offset = int(q["offset"]) if q.get("offset", "") != "" else None
        self.rate = int(q.get("rate") or (0 if self.action == "ignore-range" else 65536))
        self.seen = 0
        self.hits = 0

    def describe(self):
        d = {"id": self.id, "action": self.action, "path": self.path,
             "method": sorted(self.methods) if self.methods else None,
             "range": self.range, "count": self.count, "skip": self.skip,
             "auth": self.auth, "port": self.port,
             "seen": self.seen, "hits": self.hits}
        if self.action == "status":
            d.update(code=self.code, retry_after=self.retry_after)
            if self.www_authenticate:
                d["www_authenticate"] = self.www_authenticate
        if self.action == "redirect":
            d.update(code=self.code, to=self.to)
        if self.action == "relocate":
            d["to"] = self.to
        if self.action in ("hang", "delay"):
            d["seconds"] = self.seconds
        if self.action in ("cut", "truncate"):
            d["bytes"] = self.bytes
        if self.action == "corrupt":
            d["offset"] = self.offset
        if self.action in PACED:
            d["rate"] = self.rate
        return d


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.requests = []
        self.seq = 0
        self.gen = 0                        # bumped by reset
        self.wake = threading.Event()

    def reset(self):
        with self.lock:
            self.rules = []
            self.requests = []
            self.gen += 1
            self.wake.set()                 # end hangs in progress
            self.wake = threading.Event()

    def pick(self, method, target, has_range, has_auth, port, main_port):
        """The rule to apply to this request, or None; counts hits."""
        with self.lock:
            for r in self.rules:
                if port != (r.port if r.port is not None else main_port):
                    continue
                if r.methods and method not in r.methods:
                    continue
                if r.auth is not None and r.auth != has_auth:
                    continue
                if r.range is not None and r.range != has_range:
                    continue
                if r.path_re and not r.path_re.search(target):
                    continue
                r.seen += 1
                if r.seen <= r.skip:
                    continue
                if r.count >= 0 and r.hits >= r.count:
                    continue
                r.hits += 1
                return r
        return None

    def record(self, entry, gen):
        with self.lock:
            if gen != self.gen:             # began before a reset: not this test's
                return
            self.seq += 1
            entry["n"] = self.seq
            self.requests.append(entry)
            if len(self.requests) > 20000:
                del self.requests[:10000]


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imgtool-lab-fault/1"
    timeout = 900

    def log_message(self, fmt, *args):
        pass                                # we log our own line per request

    def log(self, text):
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), text))
        sys.stderr.flush()

    # -- small helpers -----------------------------------------------------
    def send_json(self, status, obj):
        body = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def request_body(self):
        """Yields the request body as it arrives (Content-Length or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    data = self.rfile.read(min(left, 65536))
                    if not data:
                        raise ConnectionError("client closed inside a chunk")
                    left -= len(data)
                    yield data
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    raise ConnectionError("client closed inside the body")
                left -= len(data)
                yield data

    # -- the proxy ---------------------------------------------------------
    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_fault/"):
            return self.control(url)
        st = self.server.state
        gen = st.gen
        has_range = "Range" in self.headers
        port = self.connection.getsockname()[1]
        rule = st.pick(self.command, self.path, has_range, "Authorization" in self.headers,
                       port, self.server.main_port)
        action = rule.action if rule else "pass"
        # Headers are logged (lower-case names) so that a test can see what
        # reached which listener, Authorization included: lab secrets only.
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "port": port, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "range": self.headers.get("Range"), "action": action,
                 "rule": rule.id if rule else None, "status": None, "sent": 0}
        try:
            self.proxy(rule, action, entry)
        finally:
            st.record(entry, gen)
            self.log(":%d %s %s%s -> %s %s sent=%d%s" % (
                port, self.command, self.path, " range=" + entry["range"] if entry["range"] else "",
                entry["status"], action, entry["sent"],
                " rule=%d" % rule.id if rule else ""))

    def proxy(self, rule, action, entry):
        st = self.server.state
        if action == "hang":
            self.close_connection = True
            st.wake.wait(rule.seconds)
            entry["status"] = "hung"
            return
        if action == "drop":
            self.close_connection = True
            entry["status"] = "dropped"
            return
        if action == "status":
            for _ in self.request_body():     # read the upload so the client sees our answer
                pass
            body = rule.body
            if body is None:
                body = json.dumps({"errors": [{"code": ERROR_CODES.get(rule.code, "UNKNOWN"),
                                               "message": "injected by the lab's fault proxy"}]})
            body = body.encode()
            self.send_response(rule.code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if rule.retry_after:
                self.send_header("Retry-After", rule.retry_after)
            if rule.www_authenticate:
                self.send_header("WWW-Authenticate", rule.www_authenticate)
            self.send_header("X-Lab-Fault", "status")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            entry["status"] = rule.code
            return
        if action == "redirect":
            for _ in self.request_body():
                pass
            self.send_response(rule.code)
            self.send_header("Location", rule.to + self.path)
            self.send_header("Content-Length", "0")
            self.send_header("X-Lab-Fault", "redirect")
            self.end_headers()
            entry["status"] = rule.code
            return
        if action == "delay":
            st.wake.wait(rule.seconds)

        # Forward to the registry.
        up = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port,
                                        timeout=600)
        try:
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            try:
                up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    lk = k.lower()
                    if lk in HOP or lk == "expect" or (chunked and lk == "content-length"):
                        continue
                    if lk == "range" and action == "ignore-range":
                        continue
                    up.putheader(k, v)
                if chunked:
                    up.putheader("Transfer-Encoding", "chunked")
                up.putheader("Connection", "close")
                up.endheaders()
                for data in self.request_body():
                    up.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                if chunked:
                    up.send(b"0\r\n\r\n")
                resp = up.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self.close_connection = True
                entry["status"] = 502
                msg = ("upstream registry failed: %s\n" % e).encode()
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            self.relay(resp, rule, action, entry)
        finally:
            up.close()

    def relay(self, resp, rule, action, entry):
        entry["status"] = resp.status
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        if action == "relocate":
            def moved(v):
                u = urllib.parse.urlsplit(v)
                return rule.to + urllib.parse.urlunsplit(("", "", u.path, u.query, u.fragment))
            headers = [(k, moved(v) if k.lower() == "location" else v) for k, v in headers]
        has_body = (self.command != "HEAD" and resp.status not in (204, 304)
                    and not 100 <= resp.status < 200)
        clen = resp.getheader("Content-Length")

        def start(extra=None, drop_length=False):
            self.send_response_only(resp.status, resp.reason)
            for k, v in headers:
                if drop_length and k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            for k, v in (extra or []):
                self.send_header(k, v)
            self.end_headers()

        if not has_body:
            start()
            return

        if action in ("truncate", "corrupt"):
            body = resp.read()
            if action == "truncate":
                k = rule.bytes if rule.bytes is not None else len(body) // 2
                body = body[:k]
                self.close_connection = True
            elif body:
                o = rule.offset if rule.offset is not None else len(body) // 2
                o = min(max(o, 0), len(body) - 1)
                body = body[:o] + bytes([body[o] ^ 0xFF]) + body[o + 1:]
            start([("Content-Length", str(len(body))), ("X-Lab-Fault", action)], drop_length=True)
            self.wfile.write(body)
            entry["sent"] = len(body)
            return

        use_chunks = clen is None
        start([("Transfer-Encoding", "chunked")] if use_chunks else None)
        limit = None
        if action == "cut":
            self.close_connection = True
            if rule.bytes is not None:
                limit = rule.bytes
            elif clen is not None:
                limit = int(clen) // 2
            else:
                limit = 1024
        sent = 0
        while True:
            paced = action in PACED and rule.rate > 0
            want = 65536 if not paced else max(1, min(65536, rule.rate // 10))
            if limit is not None:
                want = min(want, limit - sent)
                if want <= 0:
                    break
            data = resp.read(want)
            if not data:
                break
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if use_chunks else data)
                self.wfile.flush()
            except OSError:
                self.close_connection = True
                break
            sent += len(data)
            if action == "slow":
                time.sleep(len(data) / rule.rate)
            elif paced:
                self.pace(len(data), rule.rate)
        entry["sent"] = sent
        if action == "cut":
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if use_chunks and not self.close_connection:
            self.wfile.write(b"0\r\n\r\n")

    def pace(self, n, rate):
        """Keep this connection (across its keep-alive requests) at rate B/s."""
        now = time.monotonic()
        due = getattr(self, "pace_due", 0.0)
        due = max(due, now) + n / rate
        self.pace_due = due
        if due > now:
            time.sleep(due - now)

    # -- control -----------------------------------------------------------
    def control(self, url):
        st = self.server.state
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        if self.command in ("POST", "PUT"):
            raw = b"".join(self.request_body()).decode()
            if raw:
                q.update({k: v[-1] for k, v in
                          urllib.parse.parse_qs(raw, keep_blank_values=True).items()})
        p = url.path
        if p == "/_fault/health":
            return self.send_json(200, {"ok": True, "upstream": "%s:%d" % (
                self.server.upstream_host, self.server.upstream_port),
                "listeners": self.server.listeners})
        if p == "/_fault/reset":
            st.reset()
            self.log("control: reset")
            return self.send_json(200, {"ok": True})
        if p == "/_fault/add":
            try:
                rule = Rule(q)
            except (ValueError, re.error) as e:
                return self.send_json(400, {"error": str(e)})
            with st.lock:
                st.rules.append(rule)
            self.log("control: add %s" % json.dumps(rule.describe()))
            return self.send_json(200, rule.describe())
        if p == "/_fault/rules":
            with st.lock:
                return self.send_json(200, [r.describe() for r in st.rules])
        if p == "/_fault/requests":
            with st.lock:
                return self.send_json(200, list(st.requests))
        if p == "/_fault/count":
            try:
                rx = re.compile(q.get("path", ""))
            except re.error as e:
                return self.send_json(400, {"error": str(e)})
            methods = {m.upper() for m in q.get("method", "").split(",") if m}
            port = int(q["port"]) if q.get("port") else None
            with st.lock:
                n = sum(r["sent"] if q.get("sum") == "sent" else 1 for r in st.requests
                        if rx.search(r["path"]) and (not methods or r["method"] in methods)
                        and (port is None or r["port"] == port))
            body = b"%d\n" % n
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        return self.send_json(404, {"error": "no such control endpoint: " + p})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:5004")
    ap.add_argument("--alt-listen", default="", help="a second plain-HTTP listener")
    ap.add_argument("--tls-listen", default="", help="an HTTPS listener (needs --tls-cert/--tls-key)")
    ap.add_argument("--tls-cert", default="")
    ap.add_argument("--tls-key", default="")
    ap.add_argument("--upstream", default="127.0.0.1:5000")
    ap.add_argument("--tag", default="", help="ignored; names the lab's run directory in ps")
    a = ap.parse_args()
    state = State()
    up_host, up_port = a.upstream.rsplit(":", 1)
    main_port = int(a.listen.rsplit(":", 1)[1])
    listeners = ["http://" + a.listen]
    if a.alt_listen:
        listeners.append("http://" + a.alt_listen)
    if a.tls_listen:
        listeners.append("https://" + a.tls_listen)
    servers = []
    for url in listeners:
        scheme, addr = url.split("://")
        host, port = addr.rsplit(":", 1)
        srv = ThreadingHTTPServer((host, int(port)), Proxy)
        srv.daemon_threads = True
        if scheme == "https":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.tls_cert, a.tls_key)
            # Handshake in the handler thread: a silent client cannot block accept().
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                         do_handshake_on_connect=False)
        srv.upstream_host, srv.upstream_port = up_host, int(up_port)
        srv.state, srv.main_port, srv.listeners = state, main_port, listeners
        servers.append(srv)
    sys.stderr.write("fault proxy on %s -> http://%s\n" % (", ".join(listeners), a.upstream))
    sys.stderr.flush()
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
