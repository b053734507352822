"""The mock provider's AWS Bedrock runtime (SPEC §14), served by mock_provider.Handler:

  POST …/model/{modelId}/converse                      Converse: JSON with `usage` (camelCase)
  POST …/model/{modelId}/converse-stream               ConverseStream: an AWS event stream
  POST …/model/{modelId}/invoke                        InvokeModel: Claude's Messages answer (a body with
                                                       `anthropic_version`, `max_tokens`, no `model`), or for
                                                       meta.* models Llama's, usage in the body and in
                                                       `x-amzn-bedrock-*-token-count` headers, as Bedrock does
  POST …/model/{modelId}/invoke-with-response-stream   Claude's stream events, base64 in `chunk` events; the
                                                       last carries `amazon-bedrock-invocationMetrics`

What the real service checks, checked here: every call is signed with Signature V4 by an access key the mock
knows (`mock.bedrock.credentials`), which the mock verifies by re-signing the request with botocore's own
signer (`botocore.auth.SigV4Auth`) over the headers the signature names; the scope's region and service,
x-amz-date within 5 minutes, the session token of temporary credentials. A Bedrock API key
(`Authorization: Bearer`, `mock.bedrock.api_keys`) is accepted instead. Refusals are 403s with the
exception name in `x-amzn-errortype`, as AWS answers. Event-stream frames carry both CRCs (boto3 checks them)
and AWS's `p` padding member in each payload.

Switches in the model id: `mock-error-NNN` (429 ThrottlingException, 400 ValidationException, others
InternalServerException), `mock-drop` (streams: 2 frames, then the connection is cut), `mock-exception`
(streams: 2 frames, then a `throttlingException` exception message). `X-Mock-Usage: {json}` overrides the
usage in Converse's names (`inputTokens`, `outputTokens`, `cacheReadInputTokens`, …).
"""

import base64
import binascii
import calendar
import hmac
import json
import re
import struct
import threading
import time
import urllib.parse

ROUTE = re.compile(r"/model/([^/]+)/(converse|converse-stream|invoke|invoke-with-response-stream)$")
TEXT_WORDS = ["Hello ", "from ", "the ", "mock ", "provider", "."]
EVENT_STREAM = "application/vnd.amazon.eventstream"


class BedrockAuth:
    """What the mock's AWS side knows: access keys (id → (secret, session token)), API keys, its region."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.region = "us-east-1"
        self.credentials = {}
        self.api_keys = set()
        self.verified = []  # (access key id or "bearer", path) per accepted call
        self.refused = []  # reasons
        self._lock = threading.Lock()

    def check(self, rec):
        """None if the request is authentic; else (status, exception name, message)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        def refuse(name, message, status=403):
            with self._lock:
                self.refused.append(message)
            return status, name, message

        auth = rec.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if auth[len("Bearer "):] not in self.api_keys:
                return refuse("UnrecognizedClientException", "The security token included in the request is invalid.")
            with self._lock:
                self.verified.append(("bearer", rec.path))
            return None
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
                         r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})", auth)
        if not m:
            return refuse("MissingAuthenticationTokenException", "Missing Authentication Token")
        key_id, day, region, service, signed, signature = m.groups()
        if key_id not in self.credentials:
            return refuse("UnrecognizedClientException", "The security token included in the request is invalid.")
        if region != self.region or service != "bedrock":
            return refuse("InvalidSignatureException", f"Credential should be scoped to a valid region and service, not '{region}/{service}'.")
        amz_date = rec.headers.get("x-amz-date", "")
        try:
            stamp = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return refuse("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if abs(stamp - time.time()) > 300 or amz_date[:8] != day:
            return refuse("InvalidSignatureException", "Signature expired or not yet current: " + amz_date)
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names:
            return refuse("InvalidSignatureException", "'Host' and 'X-Amz-Date' must be signed.")
        secret, token = self.credentials[key_id]
        if token is not None and (rec.headers.get("x-amz-security-token") != token or "x-amz-security-token" not in names):
            return refuse("UnrecognizedClientException", "The security token included in the request is invalid.")
        if any(rec.headers.get(n) is None for n in names):
            return refuse("InvalidSignatureException", "A signed header is missing from the request.")
        request = AWSRequest(method=rec.method, url="http://" + rec.headers["host"] + rec.path, data=rec.body,
                             headers={n: rec.headers[n] for n in names})
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key_id, secret, token), "bedrock", region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return refuse("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method.")
        with self._lock:
            self.verified.append((key_id, rec.path))
        return None


def frame(headers, payload):
    """One event-stream message: prelude with its CRC, string headers, payload, message CRC."""
    head = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        head += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + head + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event(kind, obj):
    payload = dict(obj, p="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[: 4 + len(kind)])  # AWS pads payloads
    return frame([(":event-type", kind), (":content-type", "application/json"), (":message-type", "event")],
                 json.dumps(payload).encode())


def exception(kind, message):
    return frame([(":exception-type", kind), (":content-type", "application/json"), (":message-type", "exception")],
                 json.dumps({"message": message}).encode())


def _usage(handler):
    usage = {"inputTokens": 12, "outputTokens": 9}
    raw = handler.headers.get("x-mock-usage")
    if raw:
        usage.update(json.loads(raw))
    usage["totalTokens"] = sum(usage.get(k, 0) for k in ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"))
    return usage


def _error(handler, status, name, message):
    handler._send_json(status, {"message": message}, [("x-amzn-errortype", name + ":http://internal.amazon.com/coral/com.amazon.bedrock/")])


def handle(handler, rec, body, route):
    """Answers one Bedrock runtime call on `handler` (a mock_provider.Handler)."""
    refusal = handler.server.mock.bedrock.check(rec)
    if refusal:
        return _error(handler, *refusal)
    model, action = urllib.parse.unquote(route.group(1)), route.group(2)
    try:
        req = json.loads(body)
        assert isinstance(req, dict)
    except (ValueError, AssertionError):
        return _error(handler, 400, "ValidationException", "Malformed input request, please reformat your input and try again.")
    failure = re.search(r"mock-error-(\d{3})", model)
    if failure:
        status = int(failure.group(1))
        name = {429: "ThrottlingException", 400: "ValidationException"}.get(status, "InternalServerException")
        return _error(handler, status, name, f"mock: error {status} as asked")
    cut = "drop" if "mock-drop" in model else None
    if action.startswith("converse"):
        if not isinstance(req.get("messages"), list) or not req["messages"]:
            return _error(handler, 400, "ValidationException", "The model returned the following errors: messages: must not be empty")
        return _converse(handler, req, action == "converse-stream", cut, model)
    if "anthropic." in model:
        if req.get("anthropic_version") != "bedrock-2023-05-31" or "model" in req or not req.get("max_tokens"):
            return _error(handler, 400, "ValidationException",
                          "Malformed input request: anthropic_version bedrock-2023-05-31 and max_tokens are required, model is not allowed")
        return _claude(handler, action == "invoke-with-response-stream", cut, model)
    if action == "invoke":  # Llama's body: usage as its own fields, and in the headers every model gets
        usage = _usage(handler)
        answer = {"generation": "".join(TEXT_WORDS), "prompt_token_count": usage["inputTokens"],
                  "generation_token_count": usage["outputTokens"], "stop_reason": "stop"}
        return handler._send_json(200, answer, _count_headers(usage))
    return _error(handler, 400, "ValidationException", "mock: streams are modelled for Claude only")


def _count_headers(usage):
    return [("x-amzn-bedrock-input-token-count", str(usage["inputTokens"])),
            ("x-amzn-bedrock-output-token-count", str(usage["outputTokens"])),
            ("x-amzn-bedrock-invocation-latency", "42")]


def _converse(handler, req, stream, cut, model):
    usage = _usage(handler)
    if not stream:
        return handler._send_json(200, {
            "output": {"message": {"role": "assistant", "content": [{"text": "".join(TEXT_WORDS)}]}},
            "stopReason": "end_turn", "usage": usage, "metrics": {"latencyMs": 42}})
    events = [event("messageStart", {"role": "assistant"})]
    events += [event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}) for w in TEXT_WORDS]
    events += [event("contentBlockStop", {"contentBlockIndex": 0}), event("messageStop", {"stopReason": "end_turn"}),
               event("metadata", {"usage": usage, "metrics": {"latencyMs": 42}})]
    if "mock-exception" in model:
        events = events[:2] + [exception("throttlingException", "Too many requests, please wait before trying again.")]
    handler._stream(events, 0.0, cut=cut, content_type=EVENT_STREAM)


def _claude(handler, stream, cut, model):
    usage = _usage(handler)
    if not stream:
        answer = {"id": "msg_bdrk_mock", "type": "message", "role": "assistant", "model": "claude-3-5-sonnet-20241022",
                  "content": [{"type": "text", "text": "".join(TEXT_WORDS)}], "stop_reason": "end_turn", "stop_sequence": None,
                  "usage": {"input_tokens": usage["inputTokens"], "output_tokens": usage["outputTokens"]}}
        return handler._send_json(200, answer, _count_headers(usage))
    anthropic_events = [
        {"type": "message_start", "message": {"id": "msg_bdrk_mock", "type": "message", "role": "assistant",
                                              "model": "claude-3-5-sonnet-20241022", "content": [], "stop_reason": None,
                                              "usage": {"input_tokens": usage["inputTokens"], "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    anthropic_events += [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}} for w in TEXT_WORDS]
    anthropic_events += [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": usage["outputTokens"]}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": usage["inputTokens"], "outputTokenCount": usage["outputTokens"], "invocationLatency": 42, "firstByteLatency": 10}},
    ]
    events = [event("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()}) for e in anthropic_events]
    handler._stream(events, 0.0, cut=cut, content_type=EVENT_STREAM)
