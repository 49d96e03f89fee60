"""TEST FIXTURE: a tiny in-memory GCS server speaking exactly the XML-API subset that object_store's
GCS client uses (no stock emulator implements it; see ../../README.md, "Testing").

PUT/GET(range)/HEAD/DELETE objects, ?list-type=2 listing, copy (x-goog-copy-source), multipart uploads,
and the x-goog-if-generation-match: 0 precondition (412 when the object exists) that Delta commits rely on.

Usage: python fake_gcs.py PORT   (prints "ready" when listening on 127.0.0.1:PORT)
"""
import hashlib
import sys
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse
from xml.sax.saxutils import escape

objects = {}  # (bucket, key) -> (bytes, generation, mtime)
uploads = {}  # upload id -> (bucket, key, {part: bytes})
lock = threading.Lock()
generation = [0]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def parse(self):
        u = urlparse(self.path)
        parts = u.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, key, {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def meta(self, data, gen, mtime):
        return {"ETag": '"%s"' % hashlib.md5(data).hexdigest(), "Last-Modified": formatdate(mtime, usegmt=True),
                "x-goog-generation": str(gen), "Content-Type": "application/octet-stream"}

    def store(self, bucket, key, data):
        """Store unless the generation-match: 0 precondition fails. Returns the status to send."""
        with lock:
            if self.headers.get("x-goog-if-generation-match") == "0" and (bucket, key) in objects:
                return 412, None
            generation[0] += 1
            objects[(bucket, key)] = (data, generation[0], time.time())
            return 200, objects[(bucket, key)]

    def do_PUT(self):
        bucket, key, q = self.parse()
        data = self.body()
        if "uploadId" in q:
            with lock:
                uploads[q["uploadId"]][2][int(q["partNumber"])] = data
            return self.reply(200, headers={"ETag": '"%s"' % hashlib.md5(data).hexdigest()})
        src = self.headers.get("x-goog-copy-source")
        if src:
            sb, sk = unquote(src).lstrip("/").split("/", 1)
            if (sb, sk) not in objects:
                return self.reply(404)
            data = objects[(sb, sk)][0]
        status, obj = self.store(bucket, key, data)
        if status != 200:
            return self.reply(412, b"<Error><Code>PreconditionFailed</Code></Error>")
        self.reply(200, b"<CopyObjectResult/>" if src else b"", self.meta(*obj))

    def do_POST(self):
        bucket, key, q = self.parse()
        data = self.body()
        if "uploads" in q:
            uid = uuid.uuid4().hex
            with lock:
                uploads[uid] = (bucket, key, {})
            xml = f"<InitiateMultipartUploadResult><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key><UploadId>{uid}</UploadId></InitiateMultipartUploadResult>"
            return self.reply(200, xml.encode())
        if "uploadId" in q:
            with lock:
                b, k, parts = uploads.pop(q["uploadId"])
            status, obj = self.store(b, k, b"".join(parts[n] for n in sorted(parts)))
            if status != 200:
                return self.reply(412)
            xml = f"<CompleteMultipartUploadResult><Bucket>{escape(b)}</Bucket><Key>{escape(k)}</Key><ETag>{self.meta(*obj)['ETag']}</ETag></CompleteMultipartUploadResult>"
            return self.reply(200, xml.encode(), self.meta(*obj))
        self.reply(400)

    def do_GET(self):
        bucket, key, q = self.parse()
        if not key and "list-type" in q:
            return self.list(bucket, q)
        obj = objects.get((bucket, key))
        if obj is None:
            return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        data, gen, mtime = obj
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start, _, end = rng[6:].partition("-")
            start = int(start) if start else max(0, len(data) - int(end))
            end = min(int(end), len(data) - 1) if end and start != "" else len(data) - 1
            headers = self.meta(data, gen, mtime)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self.reply(206, data[start:end + 1], headers)
        self.reply(200, data, self.meta(data, gen, mtime))

    def do_HEAD(self):
        bucket, key, _ = self.parse()
        obj = objects.get((bucket, key))
        if obj is None:
            return self.reply(404)
        self.send_response(200)
        for k, v in self.meta(*obj).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(obj[0])))
        self.end_headers()

    def do_DELETE(self):
        bucket, key, q = self.parse()
        with lock:
            if "uploadId" in q:
                uploads.pop(q["uploadId"], None)
            else:
                objects.pop((bucket, key), None)
        self.reply(204)

    def list(self, bucket, q):
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        after = q.get("continuation-token") or q.get("start-after") or ""
        keys = sorted(k for (b, k) in list(objects) if b == bucket and k.startswith(prefix) and k > after)
        contents, prefixes = [], set()
        for k in keys:
            rest = k[len(prefix):]
            if delim and delim in rest:
                prefixes.add(prefix + rest.split(delim, 1)[0] + delim)
                continue
            data, gen, mtime = objects[(bucket, k)]
            contents.append(f"<Contents><Key>{escape(k)}</Key><LastModified>{iso(mtime)}</LastModified>"
                            f"<Size>{len(data)}</Size><ETag>\"{hashlib.md5(data).hexdigest()}\"</ETag></Contents>")
        cps = "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in sorted(prefixes))
        xml = (f"<?xml version='1.0' encoding='UTF-8'?><ListBucketResult><Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
               f"<KeyCount>{len(contents)}</KeyCount><IsTruncated>false</IsTruncated>{''.join(contents)}{cps}</ListBucketResult>")
        self.reply(200, xml.encode(), {"Content-Type": "application/xml"})


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
