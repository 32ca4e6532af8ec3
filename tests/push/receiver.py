"""A merchant's push handler, written independently of simulate: it checks the URL signature
with hashlib and opens safe-mode messages with the `cryptography` package, as a production
handler does. Started by tests/integration/push.rs.

Usage: receiver.py --token TOKEN [--aes-key KEY] --appid APPID --mode plain|compat|safe
Prints `listening PORT`, then one JSON line per request it judged.
"""

import argparse
import base64
import hashlib
import json
import struct
import sys
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def sha1_sorted(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def decrypt(aes_key, encrypt):
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message = plain[20 : 20 + length].decode()
    appid = plain[20 + length :].decode()
    return message, appid


def parse(body, is_xml):
    if is_xml:
        root = ET.fromstring(body)
        out = {child.tag: (child.text or "") for child in root}
        return out
    return json.loads(body)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def report(self, record, status):
        print(json.dumps(record, ensure_ascii=False), flush=True)
        body = b"success" if status == 200 else record.get("error", "").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def query(self):
        q = parse_qs(urlparse(self.path).query)
        return {k: v[0] for k, v in q.items()}

    def do_GET(self):
        q = self.query()
        cfg = self.server.cfg
        if q.get("signature") != sha1_sorted(cfg.token, q.get("timestamp", ""), q.get("nonce", "")):
            return self.report({"kind": "echostr", "ok": False, "error": "bad signature"}, 401)
        echostr = q.get("echostr", "")
        print(json.dumps({"kind": "echostr", "ok": True}), flush=True)
        data = echostr.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        cfg = self.server.cfg
        q = self.query()
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        is_xml = raw.lstrip().startswith("<")
        record = {"kind": "push", "format": "xml" if is_xml else "json", "ok": False}
        try:
            ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
            if q.get("signature") != sha1_sorted(cfg.token, ts, nonce):
                raise ValueError("bad signature")
            outer = parse(raw, is_xml)
            if cfg.mode == "plain":
                if "Encrypt" in outer or "encrypt_type" in q:
                    raise ValueError("plain mode carries no Encrypt")
                message = outer
            else:
                if q.get("encrypt_type") != "aes":
                    raise ValueError("encrypt_type is not aes")
                encrypt = outer.get("Encrypt")
                if not encrypt:
                    raise ValueError("no Encrypt")
                if q.get("msg_signature") != sha1_sorted(cfg.token, ts, nonce, encrypt):
                    raise ValueError("bad msg_signature")
                text, appid = decrypt(cfg.aes_key, encrypt)
                if appid != cfg.appid:
                    raise ValueError(f"sealed by {appid}, not {cfg.appid}")
                message = parse(text, is_xml)
                if cfg.mode == "safe" and "order_status" in outer:
                    raise ValueError("safe mode shows the message in the clear")
                if cfg.mode == "compat" and str(outer.get("order_status")) != str(message.get("order_status")):
                    raise ValueError("compat copy differs from the plain message")
            record.update(
                ok=True,
                order_status=int(message["order_status"]),
                shop_order_id=message["shop_order_id"],
                event=message["Event"],
            )
            self.report(record, 200)
        except Exception as e:  # every failure is reported and refused, as a handler would
            record["error"] = f"{type(e).__name__}: {e}"
            self.report(record, 401)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--token", required=True)
    p.add_argument("--aes-key", default="")
    p.add_argument("--appid", required=True)
    p.add_argument("--mode", choices=["plain", "compat", "safe"], required=True)
    cfg = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.cfg = cfg
    print(f"listening {server.server_address[1]}", flush=True)
    # Stops when the test closes our stdin.
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
