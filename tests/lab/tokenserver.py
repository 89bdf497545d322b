#!/usr/bin/python3
"""The lab's token server: Docker-style token auth for the registry on :5002.

Serves https://127.0.0.1:5003/token in the two variants clients use:

  GET  /token?service=S&scope=A&scope=B[&account=U][&offline_token=true&client_id=C]
       (Authorization: Basic for a user, none for anonymous)
  POST /token   application/x-www-form-urlencoded
       grant_type=password&username=U&password=P&client_id=C&service=S[&scope=A B][&access_type=offline]
       grant_type=refresh_token&refresh_token=R&client_id=C&service=S[&scope=A B]

and signs RS256 JWTs whose header carries x5c (the signing certificate, which
the registry's rootcertbundle holds) and the libtrust kid of the same key.

Policy (see README.md): anonymous -> pull on library/* and public/*;
tester -> pull,push,delete on every repository and registry:catalog:*;
reader -> pull on every repository; a wrong password -> 401.

Control endpoints for tests (also over HTTPS, see tests/lab/tokenctl):
  GET /_lab/health
  GET /_lab/stats               JSON counters
  GET|POST /_lab/ctl?ttl=N               token lifetime in seconds
                    &expire_next=N       the next N tokens are issued already
                                         expired (exp in the past, beyond the
                                         registry's 60 s leeway)
                    &fail_next=N&status=S  the next N token requests get status S
                    &post=off|on         off: POST /token answers 404 (no OAuth2)
                    &reset=1             back to the defaults, counters zeroed
"""
import argparse
import base64
import datetime
import hashlib
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key):
    """The key ID libtrust (and so the registry) computes for a public key."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


class Signer:
    def __init__(self, cert_path, key_path):
        with open(cert_path, "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        with open(key_path, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        self.x5c = [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.kid = libtrust_kid(self.key.public_key())
        if isinstance(self.key, rsa.RSAPrivateKey):
            self.alg = "RS256"
        elif isinstance(self.key, ec.EllipticCurvePrivateKey):
            self.alg = "ES256"
        else:
            raise SystemExit("unsupported signing key type")

    def sign(self, claims):
        header = {"typ": "JWT", "alg": self.alg, "kid": self.kid, "x5c": self.x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        if self.alg == "RS256":
            sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + b64url(sig)


def parse_scope(s):
    """resourcetype:name:actions -- the name may hold ':' (a port), so split
    at the first and the last colon."""
    first = s.find(":")
    last = s.rfind(":")
    if first < 0 or last <= first:
        return None
    rtype = s[:first]
    if "(" in rtype:                      # repository(plugin) -> repository
        rtype = rtype[:rtype.index("(")]
    return rtype, s[first + 1:last], [a for a in s[last + 1:].split(",") if a]


def allowed_actions(user, role, rtype, name):
    if rtype == "repository":
        if role == "admin":
            return {"pull", "push", "delete", "*"}
        if role == "reader":
            return {"pull"}
        if user is None and (name.startswith("library/") or name.startswith("public/")):
            return {"pull"}
        return set()
    if rtype == "registry" and name == "catalog" and role == "admin":
        return {"*"}
    return set()


class State:
    def __init__(self, ttl):
        self.lock = threading.Lock()
        self.default_ttl = ttl
        self.reset()

    def reset(self):
        self.ttl = self.default_ttl
        self.expire_next = 0
        self.fail_next = 0
        self.fail_status = 500
        self.post_enabled = True
        self.refresh_tokens = getattr(self, "refresh_tokens", {})
        self.stats = {"requests": 0, "get": 0, "post": 0, "issued": 0, "denied": 0,
                      "refresh_issued": 0, "by_user": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imgtool-lab-token/1"
    timeout = 120                 # per-connection socket timeout

    def log_message(self, fmt, *args):          # access log on stderr
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), fmt % args))
        sys.stderr.flush()

    def note(self, text):
        sys.stderr.write("%s token: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), text))
        sys.stderr.flush()

    def reply(self, status, obj, headers=None):
        body = (json.dumps(obj, indent=None) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def unauthorized(self, msg, oauth=False):
        st = self.server.state
        with st.lock:
            st.stats["denied"] += 1
        obj = ({"error": "invalid_grant", "error_description": msg} if oauth else
               {"errors": [{"code": "UNAUTHORIZED", "message": msg}]})
        self.reply(401, obj, {"WWW-Authenticate": 'Basic realm="imgtool lab token server"'})

    # -- credentials -------------------------------------------------------
    def check_password(self, user, password):
        u = self.server.users.get(user)
        return u is not None and secrets.compare_digest(u["password"], password)

    def role_of(self, user):
        return None if user is None else self.server.users[user]["role"]

    # -- token -------------------------------------------------------------
    def issue(self, user, scopes, service, oauth, want_refresh, refresh_token=None):
        st = self.server.state
        access = []
        for s in scopes:
            p = parse_scope(s)
            if p is None:
                continue
            rtype, name, actions = p
            ok = allowed_actions(user, self.role_of(user), rtype, name)
            granted = [a for a in actions if a in ok]
            access.append({"type": rtype, "name": name, "actions": granted})
        now = int(time.time())
        with st.lock:
            ttl = st.ttl
            expired = st.expire_next > 0
            if expired:
                st.expire_next -= 1
            st.stats["issued"] += 1
            key = user or "<anonymous>"
            st.stats["by_user"][key] = st.stats["by_user"].get(key, 0) + 1
        exp = now + ttl
        if expired:
            exp = now - 300        # past the registry's 60 s leeway
        claims = {"iss": self.server.issuer, "sub": user or "", "aud": service,
                  "exp": exp, "nbf": now - 10 if not expired else now - 600,
                  "iat": now if not expired else now - 600,
                  "jti": secrets.token_hex(16), "access": access}
        token = self.server.signer.sign(claims)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        resp = {"token": token, "access_token": token, "expires_in": ttl,
                "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if oauth:
            resp["scope"] = " ".join(scopes)
            resp["token_type"] = "Bearer"
        if want_refresh and user is not None:
            if refresh_token is None:
                refresh_token = "lab-refresh-" + secrets.token_urlsafe(24)
                with st.lock:
                    st.refresh_tokens[refresh_token] = user
                    st.stats["refresh_issued"] += 1
            resp["refresh_token"] = refresh_token
        self.note("%s user=%s service=%s scopes=%s granted=%s%s%s" % (
            "POST" if oauth else "GET", user or "-", service, json.dumps(scopes),
            json.dumps([(a["name"], a["actions"]) for a in access]),
            " refresh_token" if "refresh_token" in resp else "",
            " EXPIRED" if expired else ""))
        self.reply(200, resp, {"Cache-Control": "no-store"})

    def check_service(self, service):
        if service and service != self.server.service:
            self.reply(400, {"errors": [{"code": "UNSUPPORTED",
                                         "message": "unknown service %r" % service}]})
            return None
        return service or self.server.service

    def maybe_fail(self):
        st = self.server.state
        with st.lock:
            if st.fail_next <= 0:
                return False
            st.fail_next -= 1
            status = st.fail_status
        self.note("injected failure %d" % status)
        self.reply(status, {"errors": [{"code": "UNAVAILABLE", "message": "injected by the lab"}]},
                   {"Retry-After": "1"} if status in (429, 503) else None)
        return True

    def count(self, kind):
        st = self.server.state
        with st.lock:
            st.stats["requests"] += 1
            st.stats[kind] += 1

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path.startswith("/_lab/"):
            return self.control(url.path, q)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        self.count("get")
        if self.maybe_fail():
            return
        user = None
        auth = self.headers.get("Authorization", "")
        if auth:
            scheme, _, cred = auth.partition(" ")
            if scheme.lower() != "basic":
                return self.unauthorized("only Basic credentials are accepted here")
            try:
                u, sep, p = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
            except Exception:
                return self.unauthorized("malformed Basic credentials")
            if not sep or not self.check_password(u, p):
                self.note("GET bad credentials for %r" % u)
                return self.unauthorized("wrong user name or password")
            user = u
        account = q.get("account", [""])[0]
        if account and user is not None and account != user:
            return self.unauthorized("account %r does not match the credentials" % account)
        service = self.check_service(q.get("service", [""])[0])
        if service is None:
            return
        scopes = []
        for s in q.get("scope", []):
            scopes += [x for x in s.split(" ") if x]
        offline = q.get("offline_token", [""])[0].lower() == "true"
        self.issue(user, scopes, service, False, offline)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path.startswith("/_lab/"):
            q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            q.update(urllib.parse.parse_qs(body, keep_blank_values=True))
            return self.control(url.path, q)
        if url.path != "/token" or not self.server.state.post_enabled:
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        self.count("post")
        if self.maybe_fail():
            return
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "form body expected"})
        f = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
        if not f.get("client_id"):
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "client_id is required"})
        service = self.check_service(f.get("service", ""))
        if service is None:
            return
        scopes = [x for x in f.get("scope", "").split(" ") if x]
        grant = f.get("grant_type", "")
        if grant == "password":
            u, p = f.get("username", ""), f.get("password", "")
            if not self.check_password(u, p):
                self.note("POST bad credentials for %r" % u)
                return self.unauthorized("wrong user name or password", oauth=True)
            return self.issue(u, scopes, service, True, True)
        if grant == "refresh_token":
            rt = f.get("refresh_token", "")
            with self.server.state.lock:
                u = self.server.state.refresh_tokens.get(rt)
            if u is None:
                self.note("POST unknown refresh token")
                return self.unauthorized("unknown refresh token", oauth=True)
            return self.issue(u, scopes, service, True, True, refresh_token=rt)
        return self.reply(400, {"error": "unsupported_grant_type",
                                "error_description": "grant_type %r" % grant})

    def control(self, path, q):
        st = self.server.state
        one = lambda k, d=None: q.get(k, [d])[0]
        if path == "/_lab/health":
            return self.reply(200, {"ok": True})
        if path == "/_lab/stats":
            with st.lock:
                s = json.loads(json.dumps(st.stats))
                s.update(ttl=st.ttl, expire_next=st.expire_next, fail_next=st.fail_next,
                         post_enabled=st.post_enabled)
            return self.reply(200, s)
        if path == "/_lab/ctl":
            try:
                with st.lock:
                    if one("reset"):
                        st.reset()
                    if one("ttl") is not None:
                        st.ttl = int(one("ttl"))
                    if one("expire_next") is not None:
                        st.expire_next = int(one("expire_next"))
                    if one("fail_next") is not None:
                        st.fail_next = int(one("fail_next"))
                        st.fail_status = int(one("status", "500"))
                    if one("post") is not None:
                        st.post_enabled = one("post") not in ("off", "0", "false")
                    state = {"ttl": st.ttl, "expire_next": st.expire_next,
                             "fail_next": st.fail_next, "fail_status": st.fail_status,
                             "post_enabled": st.post_enabled}
            except ValueError as e:
                return self.reply(400, {"error": str(e)})
            self.note("control %s -> %s" % (json.dumps({k: v[0] for k, v in q.items()}),
                                            json.dumps(state)))
            return self.reply(200, state)
        return self.reply(404, {"error": "no such control endpoint"})

    do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:5003")
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--sign-cert", required=True)
    ap.add_argument("--sign-key", required=True)
    ap.add_argument("--users", required=True, help="JSON {user: {password, role}}")
    ap.add_argument("--service", default="lab-registry")
    ap.add_argument("--issuer", default="lab-token-server")
    ap.add_argument("--ttl", type=int, default=300)
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    # The handshake runs in the handler thread, so one silent client cannot
    # block accept().
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    with open(a.users) as f:
        srv.users = json.load(f)
    srv.signer = Signer(a.sign_cert, a.sign_key)
    srv.service, srv.issuer = a.service, a.issuer
    srv.state = State(a.ttl)
    sys.stderr.write("token server on https://%s (service=%s issuer=%s alg=%s kid=%s ttl=%d)\n" % (
        a.listen, a.service, a.issuer, srv.signer.alg, srv.signer.kid, a.ttl))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
