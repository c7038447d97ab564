"""A batch from a JSON Lines file (the console's upload): the three line shapes, the form's resource and
endpoint for lines that lack them, and every refusal naming the file's line, not the item's index."""

from __future__ import annotations

import json
import uuid

import pytest

from vmx_app.errors import Invalid
from vmx_app.models.completion_batch import CompletionBatchItem
from vmx_app.services.batch_spec import ResourceIndex, parse_batch
from vmx_app.services.batch_upload import named_by_line, parse_jsonl, result_line

RES = ResourceIndex({"r1": "chat", "r2": "slow"}, {"chat": "r1", "slow": "r2"})
BODY = {"messages": [{"role": "user", "content": "hi"}]}


def _file(*lines: object) -> bytes:
    return ("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n").encode()


def test_three_line_shapes_with_the_forms_choice_for_what_they_lack() -> None:
    data = _file(BODY,
                 {"customId": "a", "resourceName": "slow", "request": BODY, "endpoint": "responses"},
                 "",
                 {"custom_id": "b", "method": "POST", "url": "/v1/messages", "body": {**BODY, "max_tokens": 5}},
                 {"customId": "c", "request": BODY})
    parsed = parse_jsonl(data, resource_id="r1", endpoint="chat")
    assert parsed.lines == [1, 2, 4, 5]  # the blank line is skipped but still counted
    assert parsed.items == [
        {"request": BODY, "endpoint": "chat", "resourceId": "r1"},
        {"customId": "a", "resourceName": "slow", "request": BODY, "endpoint": "responses"},
        {"request": {**BODY, "max_tokens": 5}, "endpoint": "anthropic", "customId": "b", "resourceId": "r1"},
        {"customId": "c", "request": BODY, "resourceId": "r1", "endpoint": "chat"},
    ]
    spec = parse_batch({"items": parsed.items}, RES, max_items=10)
    assert [(i.resource_name, i.endpoint, i.custom_id) for i in spec.items] == [
        ("chat", "chat", None), ("slow", "responses", "a"), ("chat", "anthropic", "b"), ("chat", "chat", "c")]


@pytest.mark.parametrize(("data", "message"), [
    (_file(BODY, "{not json"), "line 2 is not valid JSON"),
    (_file(BODY, [1, 2]), "line 2 must be a JSON object"),
    (_file(BODY, {"custom_id": "x", "url": "/v1/embeddings", "body": BODY}), "line 2.url must be one of"),
    (b"\n\n  \n", "the file holds no requests"),
    (b"\xff\xfe{}", "not UTF-8"),
    (_file({"messages": [{"role": "user", "content": "a\u0000b"}]}), "line 1 holds a NUL character"),
    (_file({"a": json.loads("[" * 70 + "]" * 70)}), "line 1 is nested deeper than"),
])
def test_a_bad_file_is_refused_naming_the_line(data: bytes, message: str) -> None:
    with pytest.raises(Invalid, match=message.replace(".", r"\.")):
        parse_jsonl(data, resource_id="r1")


def test_a_request_body_needs_a_resource_from_the_form() -> None:
    with pytest.raises(Invalid, match="line 1 names no AI resource") as info:
        parse_jsonl(_file(BODY))
    assert info.value.field == "line 1.resourceName"
    assert parse_jsonl(_file({"resourceName": "chat", "request": BODY})).items[0]["resourceName"] == "chat"


def test_batch_spec_refusals_name_the_files_line() -> None:
    parsed = parse_jsonl(_file(BODY, "", "  ", {"resourceName": "chat", "request": {"messages": "hi"}}),
                         resource_id="r1")
    with pytest.raises(Invalid) as info:
        parse_batch({"items": parsed.items}, RES, max_items=10)
    renamed = named_by_line(info.value, parsed.lines)
    assert renamed.message.startswith("line 4, request")
    assert renamed.field is not None and renamed.field.startswith("line 4, request")
    assert str(renamed) == renamed.message
    with pytest.raises(Invalid) as info:
        parse_batch({"items": parse_jsonl(_file({"resourceName": "nope", "request": BODY})).items}, RES, max_items=5)
    assert named_by_line(info.value, [1]).message.startswith("line 1, resourceName: unknown AI resource 'nope'")


def test_an_unknown_endpoint_choice_is_refused() -> None:
    with pytest.raises(Invalid, match="endpoint must be one of"):
        parse_jsonl(_file(BODY), resource_id="r1", endpoint="embeddings")


def test_result_line_has_the_answer_or_the_error() -> None:
    ok = CompletionBatchItem(batch_id=uuid.uuid4(), seq=0, resource_id=uuid.uuid4(), resource_name="chat",
                             custom_id="q-1", status="COMPLETED", status_code=200, result={"choices": []})
    assert result_line(ok) == {"customId": "q-1", "index": 0, "status": "COMPLETED", "statusCode": 200,
                               "response": {"choices": []}}
    failed = CompletionBatchItem(batch_id=ok.batch_id, seq=3, resource_id=ok.resource_id, resource_name="chat",
                                 status="FAILED", status_code=400, error={"error": {"message": "bad"}})
    assert result_line(failed) == {"customId": None, "index": 3, "status": "FAILED", "statusCode": 400,
                                   "error": {"error": {"message": "bad"}}}
