"""Azure OpenAI (SPEC §14) through the official `openai.AzureOpenAI` client, unchanged: deployment and v1
routes, the `api-key` credential swapped for a Tollgate key and passed through for the client's own, streams
led by Azure's content-filter event, each call priced by the model the answer reports."""

import json

import httpx
import openai
import pytest

from access_helpers import expected_cost, start
from cache_helpers import usage_events
from mock_provider import AZURE_DEPLOYMENTS

AZURE_KEY = "azure-provider-key-5e0d"
API_VERSION = "2024-10-21"
MSG = [{"role": "user", "content": "Say hi"}]


@pytest.fixture
def azure(start_tollgate, mock):
    """A Tollgate whose `azure` provider is the mock's resource; (tg, admin, a Tollgate key of org acme)."""
    tg, admin = start(start_tollgate, TOLLGATE_AZURE_BASE_URL=mock.url, TOLLGATE_AZURE_API_KEY=AZURE_KEY)
    admin.create_org("acme")
    key = admin.create_key("acme", name="azure-app")
    return tg, admin, key


def client(tg, api_key):
    return openai.AzureOpenAI(azure_endpoint=tg.url + "/azure", api_key=api_key, api_version=API_VERSION, max_retries=0)


def test_deployment_chat_with_a_tollgate_key_is_swapped_priced_by_the_answers_model(azure, mock):
    tg, admin, key = azure
    answer = client(tg, key["key"]).chat.completions.create(model="gpt4o-prod", messages=MSG)
    assert answer.choices[0].message.content == "Hello from the mock provider."
    assert answer.model == AZURE_DEPLOYMENTS["gpt4o-prod"] == "gpt-4o-2024-08-06"
    rec = mock.last()
    assert rec.path == f"/openai/deployments/gpt4o-prod/chat/completions?api-version={API_VERSION}"
    # The credential swap: Azure's own header carries the server's key; the Tollgate key never leaves.
    assert rec.headers["api-key"] == AZURE_KEY
    assert key["key"] not in json.dumps(rec.header_list)
    [event] = usage_events(tg, 1)
    assert (event["provider"], event["model"], event["endpoint"], event["status"]) == ("azure", "gpt-4o-2024-08-06", "chat", 200)
    assert (event["input_tokens"], event["output_tokens"]) == (12, 9)
    assert event["cost_usd"] == expected_cost("gpt-4o", 12, 9)  # gpt-4o-2024-08-06 is priced as gpt-4o
    assert event["key_id"] == key["id"] and event["org"] == "acme"


def test_a_stream_with_the_content_filter_event_first_is_relayed_whole_and_metered(azure, mock):
    tg, admin, key = azure
    stream = client(tg, key["key"]).chat.completions.create(model="mini", messages=MSG, stream=True)
    chunks = list(stream)
    # The filter event arrives first, as from Azure; Tollgate's own usage request leaves no chunk behind.
    assert chunks[0].choices == [] and chunks[0].model == ""
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from the mock provider."
    assert all(c.usage is None for c in chunks)
    sent = mock.last().json()
    assert sent["stream_options"] == {"include_usage": True}
    [event] = usage_events(tg, 1)
    assert (event["model"], event["stream"], event["input_tokens"], event["output_tokens"]) == ("gpt-4o-mini-2024-07-18", True, 12, 9)
    assert event["cost_usd"] == expected_cost("gpt-4o-mini", 12, 9)


def test_a_stream_that_asks_for_usage_gets_it(azure, mock):
    tg, admin, key = azure
    usage = {"prompt_tokens": 1000, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 600}}
    stream = client(tg, key["key"]).chat.completions.create(
        model="gpt4o-prod", messages=MSG, stream=True, stream_options={"include_usage": True},
        extra_headers={"X-Mock-Usage": json.dumps(usage)})
    last = list(stream)[-1]
    assert last.usage.prompt_tokens == 1000 and last.usage.completion_tokens == 50
    [event] = usage_events(tg, 1)
    assert (event["input_tokens"], event["cached_input_tokens"], event["output_tokens"]) == (1000, 600, 50)
    assert event["cost_usd"] == expected_cost("gpt-4o", 1000, 50, cached=600)


def test_embeddings_and_the_v1_route(azure, mock):
    tg, admin, key = azure
    emb = client(tg, key["key"]).embeddings.create(model="mini", input=["a", "b"])
    assert len(emb.data) == 2
    # The v1 API: a plain OpenAI client at …/openai/v1, the deployment named as the model, Bearer auth.
    v1 = openai.OpenAI(base_url=tg.url + "/azure/openai/v1", api_key=key["key"], max_retries=0)
    answer = v1.chat.completions.create(model="gpt4o-prod", messages=MSG)
    assert answer.model == "gpt-4o-2024-08-06"
    rec = mock.last()
    assert rec.path == "/openai/v1/chat/completions"
    assert rec.headers["api-key"] == AZURE_KEY and "authorization" not in rec.headers
    events = usage_events(tg, 2)
    assert sorted((e["endpoint"], e["model"]) for e in events) == [
        ("chat", "gpt-4o-2024-08-06"), ("embedding", "gpt-4o-mini-2024-07-18")]


def test_the_clients_own_azure_key_passes_through(azure, mock):
    tg, admin, key = azure
    answer = client(tg, "customer-own-azure-key").chat.completions.create(
        model="gpt4o-prod", messages=MSG, extra_headers={"X-Tollgate-Org": "acme", "X-Tollgate-User": "alice"})
    assert answer.model == "gpt-4o-2024-08-06"
    assert mock.last().headers["api-key"] == "customer-own-azure-key"
    [event] = usage_events(tg, 1)
    assert event["key_id"].startswith("pt_") and event["user"] == "alice"


def test_azures_own_errors_reach_the_client_and_are_recorded(azure, mock):
    tg, admin, key = azure
    with pytest.raises(openai.NotFoundError) as caught:
        client(tg, key["key"]).chat.completions.create(model="no-such-deployment", messages=MSG)
    assert caught.value.body["code"] == "DeploymentNotFound"
    # A request without api-version, as Azure refuses it.
    r = httpx.post(tg.url + "/azure/openai/deployments/gpt4o-prod/chat/completions",
                   headers={"api-key": key["key"]}, json={"messages": MSG}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    events = usage_events(tg, 2)
    assert sorted(e["status"] for e in events) == [400, 404]
    assert all(e["outcome"] == "upstream_error" and e["cost_usd"] == 0 for e in events)
    # The deployment names the model until an answer says otherwise.
    assert {e["model"] for e in events} == {"no-such-deployment", "gpt4o-prod"}


def test_a_tollgate_key_is_refused_a_model_its_allowlist_lacks_by_deployment_name(azure, mock):
    tg, admin, key = azure
    limited = admin.create_key("acme", name="limited", allowed_models=["mini"])
    with pytest.raises(openai.PermissionDeniedError):
        client(tg, limited["key"]).chat.completions.create(model="gpt4o-prod", messages=MSG)
    assert client(tg, limited["key"]).chat.completions.create(model="mini", messages=MSG).model == "gpt-4o-mini-2024-07-18"
    assert len(mock.requests) == 1


def test_azure_without_a_base_url_says_what_to_set(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    with pytest.raises(openai.InternalServerError) as caught:
        client(tg, "any-key").chat.completions.create(model="gpt4o-prod", messages=MSG)
    assert "TOLLGATE_AZURE_BASE_URL" in caught.value.body["message"]
    assert caught.value.body["code"] == "provider_not_configured"
    assert not mock.requests
