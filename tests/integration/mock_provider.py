"""A mock LLM provider: a real HTTP/1.1 server on 127.0.0.1 that speaks the OpenAI, Anthropic and
Gemini wire formats (JSON answers and SSE streams) closely enough for the official SDKs to parse it.
The integration tests run it in a thread of the pytest process as Tollgate's upstream; it can also
run on its own:  python3 mock_provider.py --port 9000

Routes (any path prefix before /v1 or /v1beta is accepted, so base URLs with a prefix can be tested):
  POST …/v1/chat/completions   OpenAI chat, JSON or SSE (`data: {…}` … `data: [DONE]`)
  POST …/v1/completions        OpenAI legacy completions, JSON or SSE
  POST …/v1/embeddings         OpenAI embeddings, JSON
  POST …/v1/responses          OpenAI Responses API, JSON or SSE with `event:` lines
  POST …/v1/messages           Anthropic Messages, JSON or SSE
  POST …/models/M:generateContent, …/models/M:streamGenerateContent?alt=sse   Gemini (v1beta or v1)
  GET  …/v1/models             an OpenAI-style model list (an unmetered route)
  any  …/mock/echo             answers 200 with JSON describing the request it got (unmetered checks)
  POST …/openai/deployments/D/{chat/completions,completions,embeddings}?api-version=V, and
  POST …/openai/v1/{chat/completions,completions,embeddings,responses}   Azure OpenAI: checks what
                               Azure checks (an `api-key` or bearer credential, 401; `api-version` on
                               deployment routes, 400; the deployment exists, 404 DeploymentNotFound:
                               see AZURE_DEPLOYMENTS) and answers as OpenAI with the deployment's model
                               (`gpt-4o-2024-08-06`), streams led by Azure's content-filter chunk (no
                               choices, `"model": ""`)
  POST …/oauth2/token          Google's OAuth token endpoint for service accounts (JWT-bearer grant):
                               verifies the RS256 assertion with `mock.vertex.public_key` and its claims
                               (iss, aud = this URL, scope, iat/exp), answers an access token
  POST …/publishers/google/models/M:{generateContent,streamGenerateContent}   Vertex AI Gemini, and
  POST …/publishers/anthropic/models/M:{rawPredict,streamRawPredict}          Vertex AI Anthropic:
                               a bearer token the mock issued (or listed in `mock.vertex.tokens`) is
                               required (401 UNAUTHENTICATED), Anthropic bodies need an `anthropic_version`
                               and no `model` (400); answers as Gemini / Anthropic
  POST …/model/{modelId}/{converse,converse-stream,invoke,invoke-with-response-stream}   AWS Bedrock:
                               see mock_bedrock.py (Signature V4 verified with botocore's signer)
  anything else                404 in OpenAI's error shape

Behaviour switches, chosen by the requested model name (the body's `model`, Gemini's path model):
  mock-slow        streams 6 content chunks, 150 ms apart (non-streaming: answers after 150 ms)
  mock-long        streams 100 content chunks, 100 ms apart (10 s; abort tests). The record notes
                   whether the client went away before the end (`disconnected`).
  mock-hang        reads the request and sends nothing until the client goes away (at most 60 s)
  mock-stall       streams: headers and the first 2 events, then silence until the client goes away
                   (idle-timeout tests; at most 60 s)
  mock-drop        streams: headers and the first 2 events, then closes the socket without the
                   terminating chunk; non-streaming: headers with a Content-Length and half the body,
                   then closes
  mock-cut-head    sends the status line and one header line, then closes the socket inside the
                   header block (a provider that dies mid-answer, before its body)
  mock-error-NNN   answers status NNN (e.g. mock-error-429, mock-error-400) with the provider's own
                   error body and the custom header `x-mock-error: NNN` (429 adds `retry-after: 1`)
  mock-bad-json    answers 200 `application/json` whose body is broken JSON (cut inside an object, a
                   NUL byte), streaming requests too
  mock-gzip        the usual answer, but `content-encoding: gzip` whatever the request accepted;
                   streams are one gzip stream over the chunked body, flushed (Z_SYNC_FLUSH) after
                   each event so every event arrives on time. `sent` holds the decoded bytes, `raw`
                   the compressed ones
  mock-bad-sse     streams with malformed events mixed in: after the first event, an event whose data
                   is cut-off JSON, a line that is no SSE field, and data that is not UTF-8; the valid
                   events follow and the stream ends with its usual terminator. OpenAI chat and
                   completions also leave out the usage chunk (even when include_usage asked for it)
  mock-truncated   streams: the first 3 events, then half of the 4th, then the terminating chunk (a
                   clean HTTP end in the middle of an SSE event: no [DONE], no usage); non-streaming:
                   the first half of the JSON body with a Content-Length saying just that
  mock-endless     streams content events 50 ms apart until the client goes away (at most 60 s: it
                   then ends normally); non-streaming: answers at once
  mock-huge        OpenAI chat / completions: an answer whose text is `X-Mock-Bytes` bytes (default
                   40 MiB) of "x": non-streaming as one JSON document, streaming as 64 KiB content
                   events then the usual finish (and usage chunk when asked). Its record keeps no
                   body (`sent` and `raw` stay empty; `sent_len` counts the bytes)
  anything else    answers at once; streams have 6 content chunks, one word each
Request headers `X-Mock-Chunks: N` and `X-Mock-Interval-Ms: MS` override the chunk count and spacing.
`X-Mock-Mode: SWITCH` applies a switch above (e.g. `mock-hang`, `mock-error-500`) whatever the model is,
so a priced model (which makes Tollgate reserve budget) can meet every fault; the answers still name
the requested model. `X-Mock-Delay-Ms: MS` waits MS before the response head, on any route and model,
watching the socket meanwhile (a client that leaves ends the record as `disconnected`).

Content: every answer's text is "Hello from the mock provider." (streams: one word per chunk,
cycling for longer streams, so a 6-chunk stream adds up to exactly that text). `model` in every
answer is the requested model.

Usage (deterministic). Defaults per format:
  OpenAI chat/completions  prompt_tokens 12, completion_tokens 9, total_tokens 21,
                           prompt_tokens_details.cached_tokens 0, completion_tokens_details.reasoning_tokens 0
  OpenAI embeddings        prompt_tokens 8, total_tokens 8
  OpenAI responses         input_tokens 12, output_tokens 9, total_tokens 21,
                           input_tokens_details.cached_tokens 0, output_tokens_details.reasoning_tokens 0
  Anthropic                input_tokens 12, output_tokens 9, cache_creation_input_tokens 0,
                           cache_read_input_tokens 0
  Gemini                   promptTokenCount 12, candidatesTokenCount 9, totalTokenCount 21
                           (cachedContentTokenCount / thoughtsTokenCount only when given, as Gemini omits zeros)
The request header `X-Mock-Usage: {json}` overrides them, in the provider's own field names: its
keys replace the defaults' keys (shallow merge); the total (`total_tokens` / `totalTokenCount`) is
recomputed from the parts unless the header gives it. `X-Mock-Usage: null` leaves usage out entirely.

Where usage appears in streams, as the providers do it:
  OpenAI chat/completions  only with `stream_options.include_usage: true`: every chunk then carries
                           `"usage": null` and a last chunk before [DONE] has `"choices": []` and the usage
  OpenAI responses         `response.completed` → response.usage
  Anthropic                `message_start` → message.usage (input, cache read/write, output_tokens 1);
                           `message_delta` → usage.output_tokens (the final output count)
  Gemini                   every chunk has usageMetadata; intermediate ones only the prompt side
                           (total = prompt), the last one the full figures (events end with CRLF CRLF)

Recording: every request becomes a `Record` (method, path with query, headers, raw body bytes,
the response status and headers, `sent` = the response body bytes as the client decodes them,
`sent_len` = how many, `raw` = every byte written to the socket for it, `completed` / `disconnected`,
and `disconnected_at` = the monotonic time the mock noticed the client had gone, or None). Test API:
`mock.requests`, `mock.reset()`, `mock.last(...)`, `mock.find(...)`, `mock.wait_for(...)`.
"""

import argparse
import collections
import gzip
import json
import re
import select
import signal
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mock_bedrock

TEXT = "Hello from the mock provider."
WORDS = ["Hello", " from", " the", " mock", " provider", "."]
CREATED = 1700000000
MAX_WAIT = 60.0  # the longest mock-hang / mock-stall waits for the client to go away
HUGE_DEFAULT = 40 << 20  # mock-huge: answer text bytes unless X-Mock-Bytes says otherwise
HUGE_EVENT = 64 << 10  # mock-huge: text bytes per stream event
# mock-bad-json's body: an object cut short, with a NUL byte in it
BAD_JSON = b'{"id":"chatcmpl-mock","object":"chat.completion","choices":[{"index":0,"message":{"content":"Hel\x00'
# mock-bad-sse's malformed events: cut-off JSON, a line that is no SSE field, data that is not UTF-8
BAD_SSE = [b'data: {"id":"chatcmpl-mock","choices":[{"delta":{"content":"br\n\n',
           b"this line is no SSE field\n\n",
           b"data: \xff\xfe\x00 not utf-8\n\n"]

DEFAULT_USAGE = {
    "openai": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21,
               "prompt_tokens_details": {"cached_tokens": 0},
               "completion_tokens_details": {"reasoning_tokens": 0}},
    "embeddings": {"prompt_tokens": 8, "total_tokens": 8},
    "responses": {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    "anthropic": {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 9},
    "gemini": {"promptTokenCount": 12, "candidatesTokenCount": 9, "totalTokenCount": 21},
}

_TOTALS = {
    "openai": ("total_tokens", ("prompt_tokens", "completion_tokens")),
    "embeddings": ("total_tokens", ("prompt_tokens",)),
    "responses": ("total_tokens", ("input_tokens", "output_tokens")),
    "gemini": ("totalTokenCount", ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
                                   "toolUsePromptTokenCount")),
}

_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                          404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                          500: "api_error", 529: "overloaded_error"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
# Azure OpenAI: the deployments of the mock resource, each with the model it runs (answers name it).
AZURE_DEPLOYMENTS = {"gpt4o-prod": "gpt-4o-2024-08-06", "mini": "gpt-4o-mini-2024-07-18"}
# The first event of every Azure chat stream: the prompt's content-filter results, no choices, no model.
AZURE_FILTER_CHUNK = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                      "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
_VERTEX_ROUTE = re.compile(r"/projects/[^/]+/locations/[^/]+/publishers/(google|anthropic)/models/[^/:]+:(\w+)$")
_AZURE_ROUTE = re.compile(r"(?:^|/)openai/(?:deployments/([^/]+)|v1)/(chat/completions|completions|embeddings|responses)$")
_OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                       404: "invalid_request_error", 429: "rate_limit_error", 500: "server_error"}


def usage_for(fmt, override=None):
    """The usage object for format `fmt` with an X-Mock-Usage override applied (None: no usage)."""
    if override is _NO_USAGE:
        return None
    usage = json.loads(json.dumps(DEFAULT_USAGE[fmt]))
    if override:
        usage.update(override)
        total = _TOTALS.get(fmt)
        if total and total[0] not in override:
            usage[total[0]] = sum(int(usage.get(k) or 0) for k in total[1])
    return usage


_NO_USAGE = object()


def error_body(fmt, status, message):
    if fmt == "anthropic":
        return {"type": "error", "error": {"type": _ANTHROPIC_ERROR_TYPES.get(status, "api_error"), "message": message},
                "request_id": "req_mock"}
    if fmt == "gemini":
        return {"error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}
    return {"error": {"message": message, "type": _OPENAI_ERROR_TYPES.get(status, "server_error"), "param": None,
                      "code": "mock_error_%d" % status}}


def sse(data, event=None, eol=b"\n"):
    line = b"data: " + json.dumps(data, separators=(",", ":")).encode()
    if event:
        line = b"event: " + event.encode() + eol + line
    return line + eol + eol


class Record:
    """One request the mock received, and what it answered."""

    def __init__(self, method, path, header_list, body):
        self.method = method
        self.path = path  # with the query string
        self.header_list = header_list  # [(name, value)] as received
        self.headers = {}  # lower-cased name → value (repeated headers joined with ", ")
        for k, v in header_list:
            k = k.lower()
            self.headers[k] = self.headers[k] + ", " + v if k in self.headers else v
        self.body = body  # raw request body bytes (de-chunked if it came chunked)
        self.received_at = time.monotonic()
        self.status = None
        self.response_headers = []
        self.sent = b""  # response body bytes as the client decodes them (chunk framing removed)
        self.sent_len = 0  # how many body bytes were sent (also for mock-huge, which keeps no body)
        self.keep_bodies = True  # False: `sent` and `raw` are not kept (mock-huge)
        self.raw = b""  # every byte written to the socket for this response
        self.chunk_times = []  # monotonic time of each body chunk written
        self.completed = False  # the whole response was written, terminating chunk included
        self.disconnected = False  # the client went away before the response ended
        self.disconnected_at = None  # monotonic time the mock noticed that
        self.dropped = False  # the mock cut the connection on purpose (mock-drop)
        self.ended_at = None
        self.client = None
        self.index = 0  # 1 for the first request the mock received, and so on
        self.done = threading.Event()

    @property
    def path_only(self):
        return self.path.split("?", 1)[0]

    @property
    def model(self):
        m = re.search(r"/models/([^/:?]+):", self.path)
        if m:
            return m.group(1)
        try:
            return json.loads(self.body).get("model")
        except (ValueError, AttributeError):
            return None

    def json(self):
        return json.loads(self.body)

    def sent_json(self):
        return json.loads(self.sent)

    def wait_done(self, timeout=10.0):
        """Waits until the response ended one way or another; True if it did in time."""
        return self.done.wait(timeout)

    def _finish(self, completed=False, disconnected=False, dropped=False):
        if self.done.is_set():
            return
        self.completed = self.completed or completed
        self.disconnected = self.disconnected or disconnected
        self.dropped = self.dropped or dropped
        self.ended_at = time.monotonic()
        if self.disconnected:
            self.disconnected_at = self.ended_at
        self.done.set()

    def __repr__(self):
        state = "completed" if self.completed else "disconnected" if self.disconnected else \
            "dropped" if self.dropped else "open"
        return f"<Record {self.method} {self.path} model={self.model!r} status={self.status} {state}>"


class _Tee:
    """The handler's wfile: writes go to the socket and into the current record's `raw`."""

    def __init__(self, raw):
        self._raw = raw
        self.record = None

    def write(self, data):
        if self.record is not None and self.record.keep_bodies:
            self.record.raw += bytes(data)
        return self._raw.write(data)

    def flush(self):
        return self._raw.flush()

    def __getattr__(self, name):
        return getattr(self._raw, name)


class ClientGone(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-provider/1"
    sys_version = ""
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.wfile = _Tee(self.wfile)

    # -- request side ---------------------------------------------------------------------
    def _read_body(self):
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        body = self._read_body()
        rec = Record(self.command, self.path, list(self.headers.items()), body)
        rec.client = self.client_address  # (host, port) of the connection it came on
        self.server.mock._add(rec)
        self.wfile.record = rec
        self.rec = rec
        try:
            self._dispatch(rec, body)
        except ClientGone:
            rec._finish(disconnected=True)
            self.close_connection = True
        except OSError:  # broken pipe, connection reset: the client went away
            rec._finish(disconnected=True)
            self.close_connection = True
        finally:
            if not rec.done.is_set():  # e.g. an exception in the mock itself
                rec._finish()
            self.wfile.record = None

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # -- response plumbing ----------------------------------------------------------------
    def _head(self, status, headers):
        self.rec.status = status
        self.send_response(status)
        hs = [("x-request-id", "mock-req-%d" % self.rec.index)] + list(headers)
        for k, v in hs:
            self.send_header(k, v)
        self.rec.response_headers = hs
        self.end_headers()

    def _send_json(self, status, obj, extra_headers=(), delay=0.0):
        if delay and not self._sleep(delay):
            raise ClientGone
        data = json.dumps(obj).encode()
        self._send_bytes(status, data, extra_headers)

    def _send_bytes(self, status, data, extra_headers=()):
        """A whole body with a Content-Length (gzip-encoded under mock-gzip)."""
        wire = data
        headers = [("content-type", "application/json")]
        if getattr(self, "gzip", False):
            wire = gzip.compress(data)
            headers.append(("content-encoding", "gzip"))
        self._head(status, headers + [("content-length", str(len(wire)))] + list(extra_headers))
        # The record is updated before the last write, so a test that has its answer sees it complete.
        if self.rec.keep_bodies:
            self.rec.sent = data
        self.rec.sent_len = len(data)
        self.rec.chunk_times.append(time.monotonic())
        self._last_write(wire)

    def _client_gone(self):
        """True if the peer has closed its side (EOF readable) or reset the connection."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _sleep(self, seconds):
        """Sleeps while watching the socket; False as soon as the client goes away."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            try:
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            except (OSError, ValueError):
                return False
            if readable and self._client_gone():
                return False
            if readable:  # data (e.g. a pipelined request): not a disconnect; just wait
                time.sleep(min(left, 0.05))

    def _wait_until_gone(self, limit=MAX_WAIT):
        """mock-hang / mock-stall: nothing more is sent; returns when the client goes away."""
        if self._sleep(limit):
            # nobody hung up within the limit: give up and close, leaving the record neither
            # completed nor disconnected
            self.rec._finish()
        else:
            self.rec._finish(disconnected=True)
        self.close_connection = True

    def _stream(self, events, interval, cut=None, content_type="text/event-stream"):
        """Sends `events` (bytes) as chunks `interval` apart. cut='drop' closes the socket after 2
        events without the terminating chunk; cut='stall' goes silent after 2 events."""
        compressor = zlib.compressobj(wbits=31) if getattr(self, "gzip", False) else None
        headers = [("content-type", content_type), ("cache-control", "no-cache")]
        if compressor:
            headers.append(("content-encoding", "gzip"))
        self._head(200, headers + [("transfer-encoding", "chunked")])
        if cut == "truncate":
            events = list(events[:3]) + [events[3][: len(events[3]) // 2]] if len(events) > 3 else events
        limit = 2 if cut in ("drop", "stall") else len(events)
        for i, ev in enumerate(events[:limit]):
            if i and interval and not self._sleep(interval):
                raise ClientGone
            if self._client_gone():
                raise ClientGone
            if self.rec.keep_bodies:
                self.rec.sent += ev
            self.rec.sent_len += len(ev)
            self.rec.chunk_times.append(time.monotonic())
            wire = compressor.compress(ev) + compressor.flush(zlib.Z_SYNC_FLUSH) if compressor else ev
            self.wfile.write(b"%x\r\n%s\r\n" % (len(wire), wire))
            self.wfile.flush()
        if cut == "drop":
            return self._drop()
        if cut == "stall":
            return self._wait_until_gone()
        if compressor:
            tail = compressor.flush()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        self._last_write(b"0\r\n\r\n")

    def _last_write(self, data):
        """Writes the response's last bytes; the record says `completed` unless the write fails."""
        self.rec.completed = True
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.rec.completed = False
            raise
        self.rec._finish(completed=True)

    def _drop(self):
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.rec._finish(dropped=True)
        self.close_connection = True

    # -- dispatch -------------------------------------------------------------------------
    def _dispatch(self, rec, body):
        self.mode, self.gzip, self.azure = "", False, False  # per request: a kept-alive connection reuses the handler
        path = rec.path_only
        if path.endswith("/mock/echo"):
            return self._send_json(200, {"method": rec.method, "path": rec.path, "headers": rec.header_list,
                                         "body": body.decode("utf-8", "replace")})
        if self.command == "GET" and path.endswith("/v1/models"):
            return self._send_json(200, {"object": "list", "data": [
                {"id": "gpt-4o-mini", "object": "model", "created": CREATED, "owned_by": "mock"}]})
        if self.command == "POST" and path.endswith("/oauth2/token"):
            return self._vertex_token(rec, body)
        bedrock = mock_bedrock.ROUTE.search(path) if self.command == "POST" else None
        if bedrock:
            return mock_bedrock.handle(self, rec, body, bedrock)
        vertex = _VERTEX_ROUTE.search(path) if self.command == "POST" else None
        if vertex and self._vertex_refused(rec, body, vertex):
            return
        fmt = self._format(path)
        azure = _AZURE_ROUTE.search(path) if self.command == "POST" else None
        if azure:
            if self._azure_refused(rec, body, azure):
                return
            fmt = {"chat/completions": "chat", "completions": "completions", "embeddings": "embeddings",
                   "responses": "responses"}[azure.group(2)]
        error_fmt = {"anthropic": "anthropic", "gemini": "gemini"}.get(fmt, "openai")
        if fmt is None or self.command != "POST":
            return self._send_json(404, error_body("openai", 404, f"mock: no route {self.command} {path}"))
        try:
            req = json.loads(body) if body else {}
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError:
            return self._send_json(400, error_body(error_fmt, 400, "mock: the body is not a JSON object"))
        raw_usage = self.headers.get("x-mock-usage")
        override = None
        if raw_usage is not None:
            override = json.loads(raw_usage)
            if override is None:
                override = _NO_USAGE
        model = rec.model if fmt == "gemini" or vertex else self.azure or req.get("model")
        stream = bool(req.get("stream")) if fmt != "gemini" else ":streamGenerateContent" in path
        if vertex and fmt == "anthropic":
            stream = path.endswith(":streamRawPredict")
        # The switch: X-Mock-Mode if given, else the model name.
        mode = self.headers.get("x-mock-mode") or model or ""
        self.mode = mode
        self.gzip = mode == "mock-gzip"
        if mode == "mock-huge":
            rec.keep_bodies = False
        delay_ms = self.headers.get("x-mock-delay-ms")
        if delay_ms and not self._sleep(int(delay_ms) / 1000.0):
            raise ClientGone
        plan = self._plan(mode)
        m = re.fullmatch(r"mock-error-(\d{3})", mode)
        if m:
            status = int(m.group(1))
            extra = [("x-mock-error", str(status))] + ([("retry-after", "1")] if status == 429 else [])
            return self._send_json(status, error_body(error_fmt, status, f"mock: error {status} as asked"), extra)
        if mode == "mock-bad-json":
            return self._send_bytes(200, BAD_JSON)
        if mode == "mock-hang":
            return self._wait_until_gone()
        if mode == "mock-cut-head":
            self.rec.status = 200
            self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
            return self._drop()
        getattr(self, "_" + fmt)(req, model, stream, override, plan, path)

    def _azure_refused(self, rec, body, route):
        """Azure OpenAI's checks: True once it answered an error; else `self.azure` is the deployment's model."""
        deployment = route.group(1)
        query = rec.path.split("?", 1)[1] if "?" in rec.path else ""
        if not (rec.headers.get("api-key") or rec.headers.get("authorization", "").startswith("Bearer ")):
            self._send_json(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}})
            return True
        if deployment is not None and not re.search(r"(?:^|&)api-version=[^&]+", query):
            self._send_json(400, {"error": {"code": "MissingApiVersionParameter", "message": "The api-version query parameter (?api-version=) is required for all requests."}})
            return True
        if deployment is None:
            try:
                deployment = json.loads(body).get("model")
            except (ValueError, AttributeError):
                deployment = None
        if deployment not in AZURE_DEPLOYMENTS:
            self._send_json(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}})
            return True
        self.azure = AZURE_DEPLOYMENTS[deployment]
        return False

    def _vertex_token(self, rec, body):
        """Google's token endpoint: an RS256 JWT-bearer assertion signed by the service account's key."""
        vertex = self.server.mock.vertex
        form = dict(p.split("=", 1) for p in body.decode().split("&") if "=" in p)
        def refuse(reason):
            vertex.refused.append(reason)
            return self._send_json(400, {"error": "invalid_grant", "error_description": reason})
        if form.get("grant_type") != "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer":
            return refuse("unsupported grant_type")
        if vertex.refuse_all:
            return refuse("Invalid JWT Signature.")
        try:
            claims = vertex.verify(form.get("assertion", ""), "http://%s:%d%s" % (self.server.server_address[0], self.server.server_address[1], rec.path_only))
        except ValueError as e:
            return refuse(str(e))
        token = "ya29.mock-%d" % (len(vertex.issued) + 1)
        vertex.issued.append((token, claims))
        vertex.tokens.add(token)
        return self._send_json(200, {"access_token": token, "expires_in": vertex.expires_in, "token_type": "Bearer"})

    def _vertex_refused(self, rec, body, route):
        """Vertex AI's checks: True once it answered an error."""
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] not in self.server.mock.vertex.tokens:
            self._send_json(401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})
            return True
        if route.group(1) == "anthropic":
            try:
                req = json.loads(body)
            except ValueError:
                req = {}
            if not req.get("anthropic_version") or "model" in req:
                self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic_version is required and model belongs in the path"}})
                return True
        return False

    @staticmethod
    def _format(path):
        if re.search(r"/publishers/anthropic/models/[^/]+:(rawPredict|streamRawPredict)$", path):
            return "anthropic"
        if re.search(r"/models/[^/]+:(generateContent|streamGenerateContent)$", path):
            return "gemini"
        for suffix, fmt in (("/v1/chat/completions", "chat"), ("/v1/completions", "completions"),
                            ("/v1/embeddings", "embeddings"), ("/v1/responses", "responses"),
                            ("/v1/messages", "anthropic")):
            if path.endswith(suffix):
                return fmt
        return None

    def _plan(self, model):
        """(content chunks, seconds between chunks, cut) for a stream."""
        n, interval, cut = 6, 0.0, None
        if model == "mock-slow":
            n, interval = 6, 0.15
        elif model == "mock-long":
            n, interval = 100, 0.1
        elif model == "mock-drop":
            cut = "drop"
        elif model == "mock-stall":
            cut = "stall"
        elif model == "mock-truncated":
            cut = "truncate"
        elif model == "mock-endless":
            interval = 0.05
            if self.headers.get("x-mock-interval-ms"):
                interval = int(self.headers["x-mock-interval-ms"]) / 1000.0
            n = max(1, int(MAX_WAIT / max(interval, 0.001)))
            return n, interval, cut
        if self.headers.get("x-mock-chunks"):
            n = int(self.headers["x-mock-chunks"])
        if self.headers.get("x-mock-interval-ms"):
            interval = int(self.headers["x-mock-interval-ms"]) / 1000.0
        return n, interval, cut

    def _malformed(self, payloads):
        """mock-bad-sse: malformed events after the first one; otherwise `payloads` as they are."""
        if self.mode != "mock-bad-sse" or not payloads:
            return payloads
        return payloads[:1] + BAD_SSE + payloads[1:]

    def _json_or_cut(self, obj, plan, model):
        """A non-streaming answer, honouring mock-slow (delay) and mock-drop / mock-stall."""
        _, interval, cut = plan
        if cut == "truncate":
            data = json.dumps(obj).encode()
            return self._send_bytes(200, data[: len(data) // 2])
        if cut == "drop":
            data = json.dumps(obj).encode()
            self._head(200, [("content-type", "application/json"), ("content-length", str(len(data)))])
            self.wfile.write(data[: len(data) // 2])
            self.rec.sent = data[: len(data) // 2]
            return self._drop()
        if cut == "stall":
            return self._wait_until_gone()
        return self._send_json(200, obj, delay=interval if self.mode == "mock-slow" else 0.0)

    # -- OpenAI -----------------------------------------------------------------------------
    def _chat(self, req, model, stream, override, plan, path, chat=True):
        usage = usage_for("openai", override)
        obj = "chat.completion" if chat else "text_completion"
        ident = "chatcmpl-mock" if chat else "cmpl-mock"
        huge = int(self.headers.get("x-mock-bytes") or HUGE_DEFAULT) if self.mode == "mock-huge" else None
        if not stream:
            text = "x" * huge if huge is not None else TEXT
            if chat:
                choice = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None,
                                                  "annotations": []},
                          "logprobs": None, "finish_reason": "stop"}
            else:
                choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
            out = {"id": ident, "object": obj, "created": CREATED, "model": model, "choices": [choice]}
            if usage is not None:
                out["usage"] = usage
            out["system_fingerprint"] = "fp_mock"
            return self._json_or_cut(out, plan, model)
        n, interval, cut = plan
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        chunk_obj = "chat.completion.chunk" if chat else "text_completion"

        def chunk(choices, **extra):
            c = {"id": ident, "object": chunk_obj, "created": CREATED, "model": model,
                 "system_fingerprint": "fp_mock", "choices": choices}
            if include_usage:
                c["usage"] = None
            c.update(extra)
            return c

        events = []
        words = [WORDS[i % len(WORDS)] for i in range(n)]
        if huge is not None:
            words = ["x" * min(HUGE_EVENT, huge - i) for i in range(0, huge, HUGE_EVENT)]
        for i, word in enumerate(words):
            if chat:
                delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
            else:
                choice = {"index": 0, "text": word, "logprobs": None, "finish_reason": None}
            events.append(chunk([choice]))
        last = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"} if chat else \
            {"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}
        events.append(chunk([last]))
        if include_usage and usage is not None and self.mode != "mock-bad-sse":
            events.append(chunk([], usage=usage))
        if self.azure and chat:
            events.insert(0, AZURE_FILTER_CHUNK)
        payloads = [sse(e) for e in events] + [b"data: [DONE]\n\n"]
        self._stream(self._malformed(payloads), interval, cut)

    def _completions(self, req, model, stream, override, plan, path):
        return self._chat(req, model, stream, override, plan, path, chat=False)

    def _embeddings(self, req, model, stream, override, plan, path):
        inputs = req.get("input")
        count = len(inputs) if isinstance(inputs, list) and inputs and not isinstance(inputs[0], int) else 1
        out = {"object": "list", "model": model,
               "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(count)]}
        usage = usage_for("embeddings", override)
        if usage is not None:
            out["usage"] = usage
        return self._json_or_cut(out, plan, model)

    def _responses(self, req, model, stream, override, plan, path):
        usage = usage_for("responses", override)
        msg = {"id": "msg_mock", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": TEXT, "annotations": [], "logprobs": []}]}
        resp = {"id": "resp_mock", "object": "response", "created_at": CREATED, "model": model,
                "status": "completed", "error": None, "incomplete_details": None, "output": [msg],
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "usage": usage}
        if not stream:
            return self._json_or_cut(resp, plan, model)
        n, interval, cut = plan
        created = dict(resp, status="in_progress", output=[], usage=None)
        empty_msg = dict(msg, status="in_progress", content=[])
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        where = {"item_id": "msg_mock", "output_index": 0, "content_index": 0}
        words = [WORDS[i % len(WORDS)] for i in range(n)]
        text = "".join(words)
        done_msg = dict(msg, content=[dict(msg["content"][0], text=text)])
        final = dict(resp, output=[done_msg])
        events = [("response.created", {"type": "response.created", "response": created}),
                  ("response.in_progress", {"type": "response.in_progress", "response": created}),
                  ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                                  "item": empty_msg}),
                  ("response.content_part.added", dict(where, type="response.content_part.added", part=part))]
        for w in words:
            events.append(("response.output_text.delta",
                           dict(where, type="response.output_text.delta", delta=w, logprobs=[])))
        events += [("response.output_text.done", dict(where, type="response.output_text.done", text=text, logprobs=[])),
                   ("response.content_part.done", dict(where, type="response.content_part.done",
                                                       part=done_msg["content"][0])),
                   ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                                  "item": done_msg}),
                   ("response.completed", {"type": "response.completed", "response": final})]
        for i, (_, data) in enumerate(events):
            data["sequence_number"] = i
        self._stream(self._malformed([sse(data, event=name) for name, data in events]), interval, cut)

    # -- Anthropic ----------------------------------------------------------------------------
    def _anthropic(self, req, model, stream, override, plan, path):
        usage = usage_for("anthropic", override)
        if not stream:
            out = {"id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                   "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                   "stop_sequence": None}
            if usage is not None:
                out["usage"] = usage
            return self._json_or_cut(out, plan, model)
        n, interval, cut = plan
        message = {"id": "msg_mock", "type": "message", "role": "assistant", "model": model, "content": [],
                   "stop_reason": None, "stop_sequence": None}
        if usage is not None:
            message["usage"] = dict({k: v for k, v in usage.items() if k != "output_tokens"}, output_tokens=1)
        events = [("message_start", {"type": "message_start", "message": message}),
                  ("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}),
                  ("ping", {"type": "ping"})]
        for i in range(n):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": WORDS[i % len(WORDS)]}}))
        delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
        if usage is not None:
            delta["usage"] = {"output_tokens": usage.get("output_tokens", 0)}
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", delta),
                   ("message_stop", {"type": "message_stop"})]
        self._stream(self._malformed([sse(data, event=name) for name, data in events]), interval, cut)

    # -- Gemini ---------------------------------------------------------------------------------
    def _gemini(self, req, model, stream, override, plan, path):
        usage = usage_for("gemini", override)

        def answer(text, final, partial_usage=False):
            cand = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
            if final:
                cand["finishReason"] = "STOP"
            out = {"candidates": [cand]}
            if usage is not None:
                if partial_usage:
                    u = {k: v for k, v in usage.items() if k in ("promptTokenCount", "cachedContentTokenCount")}
                    u["totalTokenCount"] = usage.get("promptTokenCount", 0)
                    out["usageMetadata"] = u
                else:
                    out["usageMetadata"] = usage
            out["modelVersion"] = model
            out["responseId"] = "mock-response"
            return out

        if not stream:
            return self._json_or_cut(answer(TEXT, True), plan, model)
        n, interval, cut = plan
        chunks = [answer(WORDS[i % len(WORDS)], i == n - 1, partial_usage=i < n - 1) for i in range(n)]
        if "alt=sse" not in self.path:
            # Without alt=sse Gemini streams one JSON array, element by element.
            parts = [(b"[" if i == 0 else b",\r\n") + json.dumps(c).encode() for i, c in enumerate(chunks)] + [b"]"]
            return self._stream(parts, interval, cut, content_type="application/json")
        payloads = [sse(c, eol=b"\r\n") for c in chunks]
        self._stream(self._malformed(payloads), interval, cut)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client (Tollgate cancelling a transfer) that resets the connection while the handler
        # reads the next request line is expected in the fault tests: not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class VertexAuth:
    """What the mock's Google side knows: the service account's public key, the tokens it issued."""

    SCOPE = "https://www.googleapis.com/auth/cloud-platform"

    def __init__(self):
        self.reset()

    def reset(self):
        self.public_key = None  # a `cryptography` RSA public key
        self.client_email = None
        self.key_id = None
        self.tokens = set()
        self.issued = []  # (token, claims)
        self.refused = []
        self.refuse_all = False
        self.expires_in = 3599

    def verify(self, assertion, audience):
        """The claims of a valid assertion; ValueError saying what is wrong otherwise."""
        import base64
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(part):
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        parts = assertion.split(".")
        if len(parts) != 3 or self.public_key is None:
            raise ValueError("malformed assertion")
        header, claims = json.loads(b64(parts[0])), json.loads(b64(parts[1]))
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            raise ValueError("bad header %r" % header)
        try:
            self.public_key.verify(b64(parts[2]), (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != self.client_email or claims.get("aud") != audience or claims.get("scope") != self.SCOPE:
            raise ValueError("bad claims %r" % claims)
        if not (claims["iat"] - 60 <= now <= claims["exp"] + 60) or claims["exp"] - claims["iat"] > 3600:
            raise ValueError("bad times %r" % claims)
        return claims


class MockProvider:
    """The mock as an object of the test process: start() serves in a background thread."""

    def __init__(self, port=0, host="127.0.0.1", max_records=None):
        self.vertex = VertexAuth()
        self.bedrock = mock_bedrock.BedrockAuth()
        self.server = _Server((host, port), Handler)
        self.server.mock = self
        self._records = collections.deque(maxlen=max_records)
        self._lock = threading.Lock()
        self._count = 0
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True, name="mock-provider")

    def _add(self, rec):
        with self._lock:
            self._count += 1
            rec.index = self._count
            self._records.append(rec)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def requests(self):
        """Every request recorded since the last reset(), oldest first."""
        with self._lock:
            return list(self._records)

    @property
    def total(self):
        """How many requests arrived since the mock started (reset() does not change it)."""
        return self._count

    def reset(self):
        with self._lock:
            self._records.clear()
        self.vertex.reset()
        self.bedrock.reset()

    @staticmethod
    def _matches(rec, path=None, model=None, method=None):
        return ((path is None or path in rec.path) and (model is None or rec.model == model)
                and (method is None or rec.method == method))

    def find(self, path=None, model=None, method=None):
        """Records matching all the given criteria (`path` is a substring of the path with query)."""
        return [r for r in self.requests if self._matches(r, path, model, method)]

    def last(self, path=None, model=None, method=None):
        found = self.find(path, model, method)
        assert found, f"the mock received no request matching path={path!r} model={model!r}; got {self.requests}"
        return found[-1]

    def wait_for(self, condition=None, timeout=5.0, path=None, model=None, method=None):
        """With a callable: waits until condition() is truthy and returns its value (False on timeout).
        Otherwise waits until a request matching path/model/method has been recorded and returns the
        latest such Record (None on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            if condition is not None:
                value = condition()
                if value:
                    return value
            else:
                found = self.find(path, model, method)
                if found:
                    return found[-1]
            if time.monotonic() >= deadline:
                return False if condition is not None else None
            time.sleep(0.01)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Mock OpenAI / Anthropic / Gemini provider on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one, printed)")
    parser.add_argument("--max-records", type=int, default=1000, help="requests kept in memory")
    args = parser.parse_args(argv)
    mock = MockProvider(args.port, max_records=args.max_records)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    mock.start()
    print(f"mock provider listening on {mock.url}", flush=True)
    while not stop.wait(0.2):
        pass
    mock.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
