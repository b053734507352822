"""SPEC §15: `TOLLGATE_LOG_FORMAT=json` writes one JSON object per line, every line about a request carries
its `request_id`, and no credential reaches the log."""

import json
import subprocess

import httpx

from conftest import BINARY, free_port

PROVIDER_KEY = "sk-provider-never-logged-71c3"


def test_json_logs_are_one_object_per_line_with_the_request_id(start_tollgate):
    closed = free_port()  # nothing listens there: the request fails upstream and is logged
    tg = start_tollgate(TOLLGATE_LOG_FORMAT="json", TOLLGATE_OPENAI_BASE_URL=f"http://127.0.0.1:{closed}",
                        TOLLGATE_OPENAI_API_KEY=PROVIDER_KEY)
    r = httpx.post(tg.url + "/openai/v1/chat/completions", timeout=10,
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "secret prompt text"}]},
                   headers={"Authorization": "Bearer sk-client-own-key-55"})
    assert r.status_code == 502
    request_id = r.headers["x-tollgate-request-id"]
    assert tg.stop() == 0
    text = tg.logs()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(lines) >= 3 and len(lines) == len([line for line in text.splitlines() if line.strip()])
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
        assert line["time"].endswith("Z") and line["level"] in ("trace", "debug", "info", "notice", "warning", "error", "critical")
    # The startup says where it listens, as in text form.
    assert any(str(tg.port) in json.dumps(line) for line in lines if line["level"] == "info")
    about_request = [line for line in lines if line.get("request_id") == request_id]
    assert about_request and any(line["level"] == "warning" for line in about_request), lines
    for secret in (PROVIDER_KEY, "sk-client-own-key-55", "secret prompt text"):
        assert secret not in text


def test_an_unknown_log_format_is_refused_at_start(tmp_path):
    result = subprocess.run([BINARY, "serve"], env={"TOLLGATE_LOG_FORMAT": "xml", "TOLLGATE_DB": str(tmp_path / "t.db"),
                                                    "TOLLGATE_LISTEN": f"127.0.0.1:{free_port()}"},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "TOLLGATE_LOG_FORMAT must be text or json" in result.stderr
