#!/usr/bin/env python3
"""An https "registry" whose 401 names a token realm over plain http, and
that realm's http listener, which records every request it gets.

    http-realm.py CERT KEY PORTS_FILE LOG_FILE

Both listen on 127.0.0.1 with ports the kernel picks; once they listen,
"HTTPS_PORT HTTP_PORT" is written to PORTS_FILE. The https side answers
every request 401 with
    WWW-Authenticate: Bearer realm="http://127.0.0.1:HTTP_PORT/token",service="realm-test"
The http side appends "METHOD PATH authorization=yes|no" to LOG_FILE for
each request and answers a token. Runs until killed.
"""
import http.server
import json
import os
import ssl
import sys
import threading


def main():
    cert, key, ports_file, log_file = sys.argv[1:5]
    lock = threading.Lock()

    class Realm(http.server.BaseHTTPRequestHandler):
        def do_any(self):
            with lock, open(log_file, "a") as f:
                has = "yes" if self.headers.get("Authorization") else "no"
                f.write(f"{self.command} {self.path} authorization={has}\n")
            body = json.dumps({"token": "t", "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_any

        def log_message(self, *args):
            pass

    realm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Realm)
    realm_url = f"http://127.0.0.1:{realm.server_address[1]}/token"

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_any(self):
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                           "message": "authentication required"}]}).encode()
            self.send_response(401)
            self.send_header("WWW-Authenticate",
                             f'Bearer realm="{realm_url}",service="realm-test"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_any

        def log_message(self, *args):
            pass

    registry = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    registry.socket = ctx.wrap_socket(registry.socket, server_side=True)

    threading.Thread(target=realm.serve_forever, daemon=True).start()
    tmp = ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{registry.server_address[1]} {realm.server_address[1]}\n")
    os.rename(tmp, ports_file)
    registry.serve_forever()


if __name__ == "__main__":
    main()
