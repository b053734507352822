"""HTTP/1.x as third-party clients speak it (issue 12): `Expect: 100-continue` answered at once,
and HTTP/1.0 clients answered in HTTP/1.0 — never chunked, the connection closed at the end."""

import json
import socket
import subprocess
import time

import httpx


MSG = [{"role": "user", "content": "hello"}]


def read_until_closed(s, deadline=10.0):
    s.settimeout(deadline)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def test_expect_100_continue_is_answered_before_the_body(tollgate, mock):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}).encode()
    head = ["POST /openai/v1/chat/completions HTTP/1.1", f"Host: 127.0.0.1:{tollgate.port}", "Connection: close",
            f"Content-Length: {len(body)}", "Content-Type: application/json", "Authorization: Bearer sk-test",
            "Expect: 100-continue"]
    with socket.create_connection(("127.0.0.1", tollgate.port), timeout=10) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        s.settimeout(0.5)  # curl waits 1 s for the 100 before sending the body anyway
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        s.sendall(body)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    rec = mock.find(path="/chat/completions")[0]
    assert "expect" not in {k.lower() for k in rec.headers}, "Expect is hop-by-hop: the provider gets a whole body"
    assert len(rec.body) == len(body)


def test_curl_with_a_large_body_does_not_wait(tollgate, mock):
    """curl sends Expect: 100-continue for bodies over 1 MiB and waits a second for the 100."""
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "y" * (3 << 20)}]})
    started = time.monotonic()
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer sk-test",
         "-H", "Content-Type: application/json", "--data-binary", "@-",
         f"{tollgate.url}/openai/v1/chat/completions"],
        input=body.encode(), capture_output=True, timeout=30)
    elapsed = time.monotonic() - started
    assert out.stdout == b"200", out
    assert elapsed < 0.9, f"curl waited {elapsed:.2f} s for a 100 Continue"


def test_http10_stream_is_not_chunked_and_the_connection_closes(tollgate, mock):
    body = json.dumps({"model": "gpt-4o-mini", "messages": MSG, "stream": True}).encode()
    head = ["POST /openai/v1/chat/completions HTTP/1.0", f"Host: 127.0.0.1:{tollgate.port}",
            f"Content-Length: {len(body)}", "Content-Type: application/json", "Authorization: Bearer sk-test",
            "Expect: 100-continue"]
    with socket.create_connection(("127.0.0.1", tollgate.port), timeout=10) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = read_until_closed(s)  # returns only because Tollgate closes the connection
    head_bytes, _, payload = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.0 200"), lines[0]
    fields = {k.strip().lower(): v.strip().lower() for k, v in (line.split(":", 1) for line in lines[1:])}
    assert "transfer-encoding" not in fields, fields
    assert fields.get("connection") == "close"
    assert b"100 Continue" not in data, "HTTP/1.0 clients get no interim answers"
    events = [line for line in payload.split(b"\n") if line.startswith(b"data: ")]
    assert events[-1] == b"data: [DONE]", payload[-200:]
    assert all(b"\r\n" not in e for e in events)
    # the stream reached the client whole: the content chunks parse as JSON, no chunk-size lines in between
    assert all(json.loads(e[6:]) for e in events[:-1])


def test_http10_json_answer_then_closed(tollgate, mock):
    body = json.dumps({"model": "gpt-4o-mini", "messages": MSG}).encode()
    head = ["POST /openai/v1/chat/completions HTTP/1.0", f"Content-Length: {len(body)}",
            "Content-Type: application/json", "Authorization: Bearer sk-test"]
    with socket.create_connection(("127.0.0.1", tollgate.port), timeout=10) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = read_until_closed(s)
    head_bytes, _, payload = data.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.0 200")
    assert json.loads(payload)["choices"][0]["message"]["content"]
    # and HTTP/1.1 keep-alive is untouched: two requests on one connection
    with httpx.Client() as client:
        for _ in range(2):
            r = client.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG},
                            headers={"Authorization": "Bearer sk-test"})
            assert r.status_code == 200 and r.http_version == "HTTP/1.1"
