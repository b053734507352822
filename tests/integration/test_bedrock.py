"""AWS Bedrock (SPEC §14) through boto3's `bedrock-runtime` client, unchanged but for `endpoint_url`: Converse,
ConverseStream, InvokeModel and InvokeModelWithResponseStream. The client signs with a Tollgate key as its access
key id; Tollgate discards that signature and signs anew with its own AWS credentials, which the mock verifies with
botocore's own signer. Every call is recorded with the exact tokens and cost the answer or the stream reports."""

import json
from decimal import Decimal

import boto3
import botocore.config
import httpx
import pytest
from botocore.exceptions import ClientError, EventStreamError

from access_helpers import expected_cost, start
from cache_helpers import usage_events

AWS_KEY_ID, AWS_SECRET = "AKIATOLLGATE0000MOCK", "tollgate/secret+key/EXAMPLE0000000000000000"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
CLAUDE_35 = "anthropic.claude-3-5-sonnet-20241022-v2:0"
TEXT = "Hello from the mock provider."
CONVERSE_MSG = [{"role": "user", "content": [{"text": "Say hi"}]}]
CLAUDE_BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                          "messages": [{"role": "user", "content": "Say hi"}]})


def bedrock_env(mock, **extra):
    return {"TOLLGATE_BEDROCK_BASE_URL": mock.url, "TOLLGATE_BEDROCK_REGION": "us-east-1",
            "TOLLGATE_BEDROCK_ACCESS_KEY_ID": AWS_KEY_ID, "TOLLGATE_BEDROCK_SECRET_ACCESS_KEY": AWS_SECRET, **extra}


@pytest.fixture
def bedrock(start_tollgate, mock):
    """A Tollgate whose `bedrock` provider is the mock, signing with an access key the mock knows; (tg, admin, key)."""
    mock.bedrock.credentials[AWS_KEY_ID] = (AWS_SECRET, None)
    tg, admin = start(start_tollgate, **bedrock_env(mock))
    admin.create_org("acme")
    return tg, admin, admin.create_key("acme", name="bedrock-app")


def client(tg, access_key_id, secret="not-used-by-tollgate", **kw):
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=tg.url + "/bedrock",
                        aws_access_key_id=access_key_id, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}), **kw)


def usage_header(**usage):
    def add(params, **_):
        params["headers"]["X-Mock-Usage"] = json.dumps(usage)
    return add


def test_converse_with_a_tollgate_key_is_signed_by_tollgate(bedrock, mock):
    tg, admin, key = bedrock
    answer = client(tg, key["key"]).converse(modelId=CLAUDE_37, messages=CONVERSE_MSG, inferenceConfig={"maxTokens": 100})
    assert answer["output"]["message"]["content"][0]["text"] == TEXT
    assert answer["usage"] == {"inputTokens": 12, "outputTokens": 9, "totalTokens": 21}
    rec = mock.last(path="/converse")
    assert rec.path == "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"
    assert mock.bedrock.verified == [(AWS_KEY_ID, rec.path)]
    assert rec.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
    assert key["key"] not in json.dumps(rec.header_list)
    [event] = usage_events(tg, 1)
    assert (event["provider"], event["endpoint"], event["model"], event["status"], event["stream"]) == (
        "bedrock", "chat", CLAUDE_37, 200, 0)
    assert (event["input_tokens"], event["output_tokens"], event["usage_source"]) == (12, 9, "provider")
    # Claude 3.7 Sonnet at Anthropic's list price, which Bedrock charges too: $3 / $15 per 1M.
    assert Decimal(answer["ResponseMetadata"]["HTTPHeaders"]["x-tollgate-cost-usd"]) == expected_cost("claude-3-7-sonnet", 12, 9)


def test_converse_stream_is_relayed_frame_for_frame_and_metered(bedrock, mock):
    tg, admin, key = bedrock
    bedrock_client = client(tg, key["key"])
    bedrock_client.meta.events.register("before-call.bedrock-runtime.ConverseStream",
                                        usage_header(inputTokens=300, cacheReadInputTokens=1000, outputTokens=40))
    answer = bedrock_client.converse_stream(modelId=CLAUDE_37, messages=CONVERSE_MSG)
    events = list(answer["stream"])
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e) == TEXT
    assert events[-1]["metadata"]["usage"]["cacheReadInputTokens"] == 1000
    [event] = usage_events(tg, 1)
    assert (event["stream"], event["input_tokens"], event["cached_input_tokens"], event["output_tokens"]) == (1, 1300, 1000, 40)
    assert event["usage_source"] == "provider"
    assert Decimal(event["cost_usd"]) == expected_cost("claude-3-7-sonnet", 1300, 40, cached=1000)


def test_invoke_model_on_claude_stream_and_not(bedrock, mock):
    tg, admin, key = bedrock
    bedrock_client = client(tg, key["key"])
    answer = bedrock_client.invoke_model(modelId=CLAUDE_35, body=CLAUDE_BODY)
    assert json.loads(answer["body"].read())["content"][0]["text"] == TEXT
    streamed = bedrock_client.invoke_model_with_response_stream(modelId=CLAUDE_35, body=CLAUDE_BODY)
    chunks = [json.loads(e["chunk"]["bytes"]) for e in streamed["body"]]
    assert "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta") == TEXT
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 9
    assert mock.last().path.endswith("/invoke-with-response-stream")
    events = usage_events(tg, 2)
    assert sorted(e["stream"] for e in events) == [0, 1]
    for event in events:
        assert (event["endpoint"], event["model"], event["input_tokens"], event["output_tokens"], event["usage_source"]) == (
            "messages", "claude-3-5-sonnet-20241022", 12, 9, "provider")
        assert Decimal(event["cost_usd"]) == expected_cost("claude-3-5-sonnet", 12, 9)


def test_invoke_model_on_other_vendors_reads_the_token_count_headers(bedrock, mock):
    tg, admin, key = bedrock
    bedrock_client = client(tg, key["key"])
    bedrock_client.meta.events.register("before-call.bedrock-runtime.InvokeModel", usage_header(inputTokens=55, outputTokens=21))
    answer = bedrock_client.invoke_model(modelId="meta.llama3-1-70b-instruct-v1:0", body=json.dumps({"prompt": "Say hi", "max_gen_len": 64}))
    assert json.loads(answer["body"].read())["generation"] == TEXT
    [event] = usage_events(tg, 1)
    assert (event["model"], event["input_tokens"], event["output_tokens"], event["usage_source"]) == (
        "meta.llama3-1-70b-instruct-v1:0", 55, 21, "provider")


def test_temporary_credentials_sign_the_session_token(start_tollgate, mock):
    mock.bedrock.credentials[AWS_KEY_ID] = (AWS_SECRET, "session-token-from-sts")
    tg, admin = start(start_tollgate, **bedrock_env(mock, TOLLGATE_BEDROCK_SESSION_TOKEN="session-token-from-sts"))
    admin.create_org("acme")
    key = admin.create_key("acme")
    client(tg, key["key"]).converse(modelId=CLAUDE_37, messages=CONVERSE_MSG)
    rec = mock.last(path="/converse")
    assert rec.headers["x-amz-security-token"] == "session-token-from-sts"
    assert "x-amz-security-token" in rec.headers["authorization"]
    assert len(mock.bedrock.verified) == 1


def test_a_wrong_secret_is_refused_by_the_signature_check(start_tollgate, mock):
    """The mock's verification is real: Tollgate signing with another secret gets AWS's signature error."""
    mock.bedrock.credentials[AWS_KEY_ID] = (AWS_SECRET, None)
    tg, admin = start(start_tollgate, **bedrock_env(mock, TOLLGATE_BEDROCK_SECRET_ACCESS_KEY="not-the-secret"))
    admin.create_org("acme")
    key = admin.create_key("acme")
    with pytest.raises(ClientError) as err:
        client(tg, key["key"]).converse(modelId=CLAUDE_37, messages=CONVERSE_MSG)
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert mock.bedrock.refused and not mock.bedrock.verified
    [event] = usage_events(tg, 1)
    assert (event["outcome"], event["status"]) == ("upstream_error", 403)


def test_tollgates_refusals_raise_boto3s_typed_exceptions(bedrock, mock):
    tg, admin, key = bedrock
    unknown = client(tg, "tg_" + "x" * 32)
    with pytest.raises(unknown.exceptions.AccessDeniedException) as err:
        unknown.converse(modelId=CLAUDE_37, messages=CONVERSE_MSG)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert err.value.response["Error"]["Message"].startswith("Unknown Tollgate key")
    admin.create_budget(scope="key", scope_id=key["id"], limit_usd=Decimal("0.000001"), period="total")
    known = client(tg, key["key"])
    with pytest.raises(known.exceptions.ServiceQuotaExceededException) as err:
        known.converse(modelId=CLAUDE_37, messages=CONVERSE_MSG, inferenceConfig={"maxTokens": 100})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    raw = httpx.post(tg.url + "/bedrock/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse",
                     headers={"Authorization": "Bearer " + key["key"]}, json={"messages": CONVERSE_MSG})
    assert raw.json()["code"] == "budget_exceeded" and raw.headers["x-should-retry"] == "false"
    assert not mock.find(path="/converse"), "nothing reached the provider"


def test_provider_errors_pass_through_and_are_recorded(bedrock, mock):
    tg, admin, key = bedrock
    bedrock_client = client(tg, key["key"])
    with pytest.raises(bedrock_client.exceptions.ThrottlingException):
        bedrock_client.converse(modelId="anthropic.mock-error-429", messages=CONVERSE_MSG)
    [event] = usage_events(tg, 1)
    assert (event["outcome"], event["status"], event["error"]) == ("upstream_error", 429, "mock: error 429 as asked")


def test_cut_and_failed_streams_are_still_recorded(bedrock, mock):
    tg, admin, key = bedrock
    bedrock_client = client(tg, key["key"])
    with pytest.raises(Exception):
        for _ in bedrock_client.converse_stream(modelId="anthropic.claude-mock-drop", messages=CONVERSE_MSG)["stream"]:
            pass
    with pytest.raises(EventStreamError) as err:
        for _ in bedrock_client.converse_stream(modelId="anthropic.claude-mock-exception", messages=CONVERSE_MSG)["stream"]:
            pass
    assert err.value.response["Error"]["Code"] == "throttlingException"
    events = {e["model"]: e for e in usage_events(tg, 2)}
    dropped, failed = events["anthropic.claude-mock-drop"], events["anthropic.claude-mock-exception"]
    assert (dropped["outcome"], dropped["usage_source"]) == ("upstream_dropped", "estimated")
    assert dropped["output_tokens"] == 2  # "Hello " seen before the cut: 6 characters, one token per 4
    assert (failed["outcome"], failed["usage_source"]) == ("upstream_error", "estimated")
    assert "throttlingException" in failed["error"]
    assert tg.stop() == 0
    logs = tg.logs()
    assert logs.strip() and AWS_SECRET not in logs and key["key"] not in logs and "Signature=" not in logs


def test_without_a_region_bedrock_says_what_to_set(tollgate):
    r = httpx.post(tollgate.url + "/bedrock/model/m/converse", headers={"Authorization": "Bearer tg_" + "x" * 32}, json={})
    assert r.status_code == 500
    assert r.headers["x-amzn-errortype"] == "InternalServerException"
    assert "TOLLGATE_BEDROCK_REGION" in r.json()["message"]


def test_a_bedrock_api_key_is_sent_as_a_bearer_token(start_tollgate, mock):
    """TOLLGATE_BEDROCK_API_KEY instead of access keys: Tollgate sends it as a bearer token (Bedrock API keys)."""
    mock.bedrock.api_keys.add("ABSK-bedrock-api-key")
    tg, admin = start(start_tollgate, TOLLGATE_BEDROCK_BASE_URL=mock.url, TOLLGATE_BEDROCK_REGION="us-east-1",
                      TOLLGATE_BEDROCK_API_KEY="ABSK-bedrock-api-key")
    admin.create_org("acme")
    key = admin.create_key("acme")
    answer = client(tg, key["key"]).converse(modelId=CLAUDE_37, messages=CONVERSE_MSG)
    assert answer["output"]["message"]["content"][0]["text"] == TEXT
    rec = mock.last(path="/converse")
    assert rec.headers["authorization"] == "Bearer ABSK-bedrock-api-key" and "x-amz-date" not in rec.headers
    assert mock.bedrock.verified == [("bearer", rec.path)]
