"""A stand-in for WeChat's `sns/jscode2session`, so that `make fuzz` never calls the real one.

A code of 32 ASCII letters and digits (the shape wx.login's codes have, e.g. the spec's example)
is accepted and gives an openid derived from it; anything else gets WeChat's `40029 invalid code`.
Usage: python fake_wechat.py PORT
"""

import hashlib
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CODE = re.compile(r"[0-9A-Za-z]{32}")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        if url.path != "/sns/jscode2session":
            self.send_error(404)
            return
        code = parse_qs(url.query).get("js_code", [""])[0]
        if CODE.fullmatch(code):
            digest = hashlib.sha256(code.encode()).hexdigest()
            body = {"openid": "o-fuzz-" + digest[:22], "session_key": digest[22:46]}
        else:
            body = {"errcode": 40029, "errmsg": "invalid code"}
        data = json.dumps(body).encode()
        self.send_response(200)
        # WeChat labels its JSON text/plain.
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
