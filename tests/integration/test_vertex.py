"""Google Vertex AI (SPEC §14) through the official clients, unchanged: `google-genai` in Vertex mode and
`anthropic.AnthropicVertex`, with Tollgate keys exchanged for a service account's access token (an RS256 JWT
the mock verifies with the account's public key) or the client's own token passed through."""

import json
import threading
from decimal import Decimal

import anthropic
import google.oauth2.credentials
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai
from google.genai import types as genai_types

from access_helpers import expected_cost, start
from cache_helpers import usage_events

PROJECT, REGION = "proj-42", "us-central1"
MSG = [{"role": "user", "content": "Say hi"}]


@pytest.fixture
def vertex(start_tollgate, mock, tmp_path):
    """A Tollgate whose `vertex` provider is the mock, with a service account the mock knows; (tg, admin, key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = {"type": "service_account", "project_id": PROJECT, "private_key_id": "kid-1",
               "private_key": pem.decode(), "client_email": "tollgate@proj-42.iam.gserviceaccount.com",
               "token_uri": mock.url + "/oauth2/token"}
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(account))
    mock.vertex.public_key, mock.vertex.client_email, mock.vertex.key_id = key.public_key(), account["client_email"], "kid-1"
    tg, admin = start(start_tollgate, TOLLGATE_VERTEX_BASE_URL=mock.url, TOLLGATE_VERTEX_CREDENTIALS=str(path))
    admin.create_org("acme")
    return tg, admin, admin.create_key("acme", name="vertex-app")


def gemini_client(tg, token):
    credentials = google.oauth2.credentials.Credentials(token=token)
    return genai.Client(vertexai=True, project=PROJECT, location=REGION, credentials=credentials,
                        http_options=genai_types.HttpOptions(base_url=tg.url + "/vertex"))


def claude_client(tg, token):
    return anthropic.AnthropicVertex(region="us-east5", project_id=PROJECT, access_token=token,
                                     base_url=tg.url + "/vertex/v1", max_retries=0)


def test_gemini_on_vertex_with_a_tollgate_key_uses_the_service_accounts_token(vertex, mock):
    tg, admin, key = vertex
    client = gemini_client(tg, key["key"])  # kept: the client closes its connections when collected
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say hi")
    assert answer.text == "Hello from the mock provider."
    rec = mock.last(model="gemini-2.5-flash")
    assert f"/projects/{PROJECT}/locations/{REGION}/publishers/google/models/gemini-2.5-flash:generateContent" in rec.path
    [(token, claims)] = mock.vertex.issued
    assert rec.headers["authorization"] == "Bearer " + token
    assert key["key"] not in json.dumps(rec.header_list)
    assert claims["iss"] == "tollgate@proj-42.iam.gserviceaccount.com"
    [event] = usage_events(tg, 1)
    assert (event["provider"], event["model"], event["endpoint"], event["status"]) == ("vertex", "gemini-2.5-flash", "generate", 200)
    assert event["cost_usd"] == expected_cost("gemini-2.5-flash", 12, 9)


def test_gemini_streams_on_vertex_are_metered(vertex, mock):
    tg, admin, key = vertex
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 40, "thoughtsTokenCount": 60}
    client = gemini_client(tg, key["key"])
    chunks = list(client.models.generate_content_stream(
        model="gemini-2.5-pro", contents="Say hi",
        config=genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(headers={"X-Mock-Usage": json.dumps(usage)}))))
    assert "".join(c.text or "" for c in chunks) == "Hello from the mock provider."
    [event] = usage_events(tg, 1)
    assert (event["stream"], event["input_tokens"], event["output_tokens"], event["reasoning_tokens"]) == (True, 1000, 100, 60)
    assert event["cost_usd"] == expected_cost("gemini-2.5-pro", 1000, 100)


def test_claude_on_vertex_raw_predict_stream_and_not(vertex, mock):
    tg, admin, key = vertex
    client = claude_client(tg, key["key"])
    message = client.messages.create(model="claude-sonnet-4-5@20250929", max_tokens=100, messages=MSG)
    assert message.content[0].text == "Hello from the mock provider."
    rec = mock.last()
    assert rec.path.endswith("/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
    assert rec.json()["anthropic_version"] and "model" not in rec.json()
    with client.messages.stream(model="claude-sonnet-4-5@20250929", max_tokens=100, messages=MSG) as stream:
        assert "".join(stream.text_stream) == "Hello from the mock provider."
    assert mock.last().path.endswith(":streamRawPredict")
    events = usage_events(tg, 2)
    assert sorted(e["stream"] for e in events) == [False, True]
    for event in events:
        assert (event["provider"], event["endpoint"], event["model"]) == ("vertex", "messages", "claude-sonnet-4-5@20250929")
        # Priced as claude-sonnet-4-5 (Vertex's @date form): $3 / $15 per 1M.
        assert event["cost_usd"] == expected_cost("claude-sonnet-4-5", 12, 9)
    assert len(mock.vertex.issued) == 1, "one token serves every request until it nears expiry"


def test_concurrent_first_requests_share_one_token_exchange(vertex, mock):
    tg, admin, key = vertex
    results = []

    def call():
        r = httpx.post(tg.url + f"/vertex/v1/projects/{PROJECT}/locations/{REGION}/publishers/google/models/gemini-2.5-flash:generateContent",
                       headers={"Authorization": "Bearer " + key["key"]}, json={"contents": [{"parts": [{"text": "hi"}]}]}, timeout=10)
        results.append(r.status_code)
    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 12
    assert len(mock.vertex.issued) == 1 and not mock.vertex.refused


def test_the_clients_own_google_token_passes_through(vertex, mock):
    tg, admin, key = vertex
    mock.vertex.tokens.add("ya29.client-own")
    client = gemini_client(tg, "ya29.client-own")
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert answer.text == "Hello from the mock provider."
    assert mock.last().headers["authorization"] == "Bearer ya29.client-own"
    assert not mock.vertex.issued
    [event] = usage_events(tg, 1)
    assert event["key_id"].startswith("pt_")


def test_a_refused_service_account_is_a_clear_502_recorded_once(vertex, mock):
    tg, admin, key = vertex
    mock.vertex.refuse_all = True
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude_client(tg, key["key"]).messages.create(model="claude-sonnet-4-5@20250929", max_tokens=10, messages=MSG)
    assert caught.value.status_code == 502
    assert "TOLLGATE_VERTEX_CREDENTIALS" in caught.value.message and "Invalid JWT Signature" in caught.value.message
    # Google's error shape on Gemini routes; a second request within 5 s is answered without asking again.
    r = httpx.post(tg.url + f"/vertex/v1/projects/{PROJECT}/locations/{REGION}/publishers/google/models/gemini-2.5-flash:generateContent",
                   headers={"Authorization": "Bearer " + key["key"]}, json={"contents": []}, timeout=10)
    assert r.status_code == 502 and r.json()["error"]["status"] == "UNAVAILABLE"
    assert len(mock.vertex.refused) == 1
    assert not mock.find(path="/publishers/")
    events = usage_events(tg, 2)
    assert all(e["outcome"] == "upstream_unavailable" and e["cost_usd"] == 0 for e in events)
