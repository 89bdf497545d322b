#!/usr/bin/python3
"""A registry front that pages tag lists, for `pull --all-tags` tests.

    tags-pager.py UPSTREAM PAGE_SIZE

Listens on 127.0.0.1 (a free port, printed on the first line of stdout),
answers GET /v2/<name>/tags/list[?last=T] with at most PAGE_SIZE of the
upstream registry's tags (sorted) after T, and a Link header
`</v2/<name>/tags/list?n=N&last=X>; rel="next"` while more remain, as the
distribution spec's "Listing Tags" pagination does; every other request is
redirected (307) to UPSTREAM (http://host:port). One line per tag-list
request goes to stdout ("tags <query>").
"""
import json
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

UPSTREAM, PAGE = sys.argv[1].rstrip("/"), int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.redirect()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/v2/") and url.path.endswith("/tags/list"):
            self.tags(url)
        else:
            self.redirect()

    def redirect(self):
        self.send_response(307)
        self.send_header("Location", UPSTREAM + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def tags(self, url):
        print("tags", url.query, flush=True)
        with urllib.request.urlopen(UPSTREAM + url.path) as r:
            doc = json.load(r)
        tags = sorted(doc.get("tags") or [])
        last = urllib.parse.parse_qs(url.query).get("last", [""])[0]
        rest = [t for t in tags if t > last]
        page, more = rest[:PAGE], rest[PAGE:]
        body = json.dumps({"name": doc["name"], "tags": page}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if more:
            q = urllib.parse.urlencode({"n": PAGE, "last": page[-1]})
            self.send_header("Link", '<%s?%s>; rel="next"' % (url.path, q))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
