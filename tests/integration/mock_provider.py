"""A mock LLM provider: a real HTTP/1.1 server on 127.0.0.1 speaking the OpenAI, Anthropic and
Gemini wire formats (JSON and SSE streams), used as Tollgate's upstream in the integration tests.

Any path prefix before `/v1` or `/v1beta` is accepted (to test base URLs with a prefix).

Behaviour is chosen by the requested model name:
  mock-slow       streams 5 content chunks, 150 ms apart
  mock-long       streams 100 chunks, 100 ms apart (abort tests); records a client disconnect
  mock-hang       sends nothing until the client goes away (timeout tests)
  mock-drop       streams 2 chunks, then closes the socket without the terminating chunk
  mock-error-429  answers 429 with the provider's error body and header `x-mock-error: yes`
  anything else   answers at once (streams: 3 chunks)

Usage numbers: defaults below, overridable per request with the `X-Mock-Usage` header holding
JSON in the provider's own usage field names.
"""

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_USAGE = {
    "openai": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    "responses": {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21},
    "anthropic": {"input_tokens": 12, "output_tokens": 9},
    "gemini": {"promptTokenCount": 12, "candidatesTokenCount": 9, "totalTokenCount": 21},
}
WORDS = ["Hello", " from", " the", " mock", " provider", "."]


class Record:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # lower-cased names
        self.body = body
        self.sent = b""  # body bytes sent (de-chunked)
        self.completed = False
        self.disconnected = False

    def json(self):
        return json.loads(self.body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- plumbing -------------------------------------------------------------------------
    def _record(self, body):
        rec = Record(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.records.append(rec)
        return rec

    def _send_json(self, rec, status, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-mock-request", "1")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        rec.sent = data
        rec.completed = True

    def _start_stream(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, rec, data: bytes):
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            rec.sent += data
            return True
        except (BrokenPipeError, ConnectionResetError, OSError):
            rec.disconnected = True
            return False

    def _end_stream(self, rec):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            rec.completed = True
        except OSError:
            rec.disconnected = True

    def _events(self, rec, events, spacing):
        """Sends SSE events; returns False if the client went away."""
        for i, ev in enumerate(events):
            if i and spacing:
                time.sleep(spacing)
            if not self._chunk(rec, ev):
                return False
        return True

    def _wait_for_disconnect(self, rec, limit=30):
        deadline = time.time() + limit
        self.connection.settimeout(0.1)
        while time.time() < deadline:
            try:
                if self.connection.recv(1, socket.MSG_PEEK) == b"":
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        rec.disconnected = True
        self.close_connection = True

    # -- dispatch -------------------------------------------------------------------------
    def do_GET(self):
        rec = self._record(b"")
        self._send_json(rec, 200, {"object": "list", "data": [{"id": "mock-model", "object": "model"}]})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = self._record(body)
        path = self.path.split("?")[0]
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            return self._send_json(rec, 400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
        override = json.loads(self.headers.get("x-mock-usage") or "null")
        if path.endswith("/v1/messages"):
            return self._anthropic(rec, req, override)
        if ":generateContent" in path or ":streamGenerateContent" in path:
            model = path.split("/models/")[-1].split(":")[0]
            return self._gemini(rec, req, model, ":streamGenerateContent" in path, override)
        if path.endswith("/v1/responses"):
            return self._responses(rec, req, override)
        if path.endswith("/v1/embeddings"):
            usage = override or {"prompt_tokens": 8, "total_tokens": 8}
            return self._send_json(rec, 200, {"object": "list", "model": req.get("model"), "usage": usage,
                                              "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}]})
        if path.endswith("/v1/chat/completions") or path.endswith("/v1/completions"):
            return self._openai(rec, req, override, chat=path.endswith("/chat/completions"))
        self._send_json(rec, 404, {"error": {"message": f"mock: no route {path}", "type": "invalid_request_error"}})

    # -- behaviours shared by formats -------------------------------------------------------
    def _plan(self, model):
        """(number of content chunks, spacing seconds)."""
        if model == "mock-slow":
            return 5, 0.15
        if model == "mock-long":
            return 100, 0.1
        return 3, 0.0

    def _special(self, rec, model, error_body):
        if model == "mock-hang":
            self._wait_for_disconnect(rec)
            return True
        if model == "mock-error-429":
            self._send_json(rec, 429, error_body, [("x-mock-error", "yes"), ("retry-after", "1")])
            return True
        return False

    def _drop(self):
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    # -- OpenAI ---------------------------------------------------------------------------------
    def _openai(self, rec, req, override, chat):
        model = req.get("model", "gpt-4o-mini")
        err = {"error": {"message": "Rate limit reached (mock)", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
        if self._special(rec, model, err):
            return
        usage = override or DEFAULT_USAGE["openai"]
        text = "".join(WORDS)
        if not req.get("stream"):
            choice = {"index": 0, "finish_reason": "stop", "logprobs": None}
            if chat:
                choice["message"] = {"role": "assistant", "content": text, "refusal": None}
                obj = "chat.completion"
            else:
                choice["text"] = text
                obj = "text_completion"
            return self._send_json(rec, 200, {"id": "chatcmpl-mock", "object": obj, "created": 1700000000,
                                              "model": model, "choices": [choice], "usage": usage})
        n, spacing = self._plan(model)
        obj = "chat.completion.chunk" if chat else "text_completion"
        events = []
        for i in range(n):
            piece = WORDS[i % len(WORDS)]
            if chat:
                choice = {"index": 0, "delta": {"content": piece} if i else {"role": "assistant", "content": piece}, "finish_reason": None}
            else:
                choice = {"index": 0, "text": piece, "finish_reason": None}
            events.append({"id": "chatcmpl-mock", "object": obj, "created": 1700000000, "model": model, "choices": [choice]})
        last = {"index": 0, "delta": {}, "finish_reason": "stop"} if chat else {"index": 0, "text": "", "finish_reason": "stop"}
        events.append({"id": "chatcmpl-mock", "object": obj, "created": 1700000000, "model": model, "choices": [last]})
        if (req.get("stream_options") or {}).get("include_usage"):
            events.append({"id": "chatcmpl-mock", "object": obj, "created": 1700000000, "model": model, "choices": [], "usage": usage})
        payloads = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]
        self._stream(rec, model, payloads, spacing)

    def _stream(self, rec, model, payloads, spacing):
        self._start_stream()
        if model == "mock-drop":
            self._events(rec, payloads[:2], spacing)
            return self._drop()
        if self._events(rec, payloads, spacing):
            self._end_stream(rec)
        else:
            self.close_connection = True

    def _responses(self, rec, req, override):
        model = req.get("model", "gpt-4o-mini")
        usage = dict(override or DEFAULT_USAGE["responses"])
        usage.setdefault("input_tokens_details", {"cached_tokens": 0})
        usage.setdefault("output_tokens_details", {"reasoning_tokens": 0})
        text = "".join(WORDS)
        msg = {"id": "msg_mock", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": text, "annotations": []}]}
        resp = {"id": "resp_mock", "object": "response", "created_at": 1700000000, "model": model, "status": "completed",
                "output": [msg], "usage": usage, "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
        if not req.get("stream"):
            return self._send_json(rec, 200, resp)
        created = dict(resp, status="in_progress", output=[], usage=None)
        empty_msg = dict(msg, status="in_progress", content=[])
        part = {"type": "output_text", "text": "", "annotations": []}
        where = {"item_id": "msg_mock", "output_index": 0, "content_index": 0}
        events = [("response.created", {"type": "response.created", "response": created}),
                  ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": empty_msg}),
                  ("response.content_part.added", dict(where, type="response.content_part.added", part=part))]
        for w in WORDS:
            events.append(("response.output_text.delta", dict(where, type="response.output_text.delta", delta=w, logprobs=[])))
        events += [("response.output_text.done", dict(where, type="response.output_text.done", text=text, logprobs=[])),
                   ("response.content_part.done", dict(where, type="response.content_part.done", part=msg["content"][0])),
                   ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": msg}),
                   ("response.completed", {"type": "response.completed", "response": resp})]
        for i, (_, data) in enumerate(events):
            data["sequence_number"] = i
        payloads = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
        self._stream(rec, model, payloads, 0)

    # -- Anthropic ------------------------------------------------------------------------------
    def _anthropic(self, rec, req, override):
        model = req.get("model", "claude-sonnet-4-5")
        err = {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited (mock)"}}
        if self._special(rec, model, err):
            return
        usage = dict(DEFAULT_USAGE["anthropic"])
        usage.update(override or {})
        text = "".join(WORDS)
        if not req.get("stream"):
            return self._send_json(rec, 200, {"id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                                              "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                                              "stop_sequence": None, "usage": usage})
        n, spacing = self._plan(model)
        start_usage = {k: v for k, v in usage.items() if k != "output_tokens"}
        start_usage["output_tokens"] = 1
        events = [("message_start", {"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant",
                                                                          "model": model, "content": [], "stop_reason": None,
                                                                          "stop_sequence": None, "usage": start_usage}}),
                  ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})]
        for i in range(n):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": WORDS[i % len(WORDS)]}}))
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": usage["output_tokens"]}}),
                   ("message_stop", {"type": "message_stop"})]
        payloads = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
        self._stream(rec, model, payloads, spacing)

    # -- Gemini ---------------------------------------------------------------------------------
    def _gemini(self, rec, req, model, stream, override):
        err = {"error": {"code": 429, "message": "Resource exhausted (mock)", "status": "RESOURCE_EXHAUSTED"}}
        if self._special(rec, model, err):
            return
        usage = override or DEFAULT_USAGE["gemini"]

        def chunk(text, final):
            cand = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
            if final:
                cand["finishReason"] = "STOP"
            out = {"candidates": [cand], "modelVersion": model, "responseId": "mock"}
            if final:
                out["usageMetadata"] = usage
            return out

        if not stream:
            return self._send_json(rec, 200, chunk("".join(WORDS), True))
        n, spacing = self._plan(model)
        payloads = [b"data: " + json.dumps(chunk(WORDS[i % len(WORDS)], i == n - 1)).encode() + b"\r\n\r\n" for i in range(n)]
        self._stream(rec, model, payloads, spacing)


class MockProvider:
    """Runs the mock in a background thread of the test process."""

    def __init__(self, port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.records = []
        self.server.lock = threading.Lock()
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def requests(self):
        with self.server.lock:
            return list(self.server.records)

    def reset(self):
        with self.server.lock:
            self.server.records.clear()

    def last(self):
        reqs = self.requests
        assert reqs, "the mock received no request"
        return reqs[-1]

    def wait_for(self, predicate, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    mock = MockProvider(port).start()
    print(f"mock provider on {mock.url}", flush=True)
    try:
        mock.thread.join()
    except KeyboardInterrupt:
        mock.stop()
