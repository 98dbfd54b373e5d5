"""Hostile envelopes: ``parse`` turns every malformed body into PoisonMessage and never raises anything else."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers.support import envelope, send
from torium_api import queues
from torium_api.workers import consumer, runner

GOOD_ID = str(uuid.uuid4())
MALFORMED = [
    "not json", "", "null", "1", '"a string"', "[1]", "{}", json.dumps({"type": "x", "payload": {}}),
    json.dumps({"id": 1, "type": "x", "payload": {}}),  # uuid.UUID(1) raised AttributeError before
    json.dumps({"id": None, "type": "x", "payload": {}}),
    json.dumps({"id": ["a"], "type": "x", "payload": {}}),
    json.dumps({"id": {"hex": "a"}, "type": "x", "payload": {}}),
    json.dumps({"id": "not-a-uuid", "type": "x", "payload": {}}),
    json.dumps({"id": GOOD_ID, "type": 5, "payload": {}}),
    json.dumps({"id": GOOD_ID, "type": "", "payload": {}}),
    json.dumps({"id": GOOD_ID, "type": "x" * 101, "payload": {}}),  # longer than processed_messages.type
    json.dumps({"id": GOOD_ID, "type": "x", "payload": []}),
    json.dumps({"id": GOOD_ID, "type": "x"}),
    "[" * 100_000 + "]" * 100_000,  # RecursionError inside json
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"id": "' + GOOD_ID + '", "type": "x", "payload": {}} trailing',
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_every_malformed_envelope_is_poison(body):
    with pytest.raises(consumer.PoisonMessage):
        consumer.parse(body)


@pytest.mark.parametrize("body", [None, 5, b"{}"])
def test_a_body_that_is_not_text_is_poison(body):
    with pytest.raises(consumer.PoisonMessage):
        consumer.parse(body)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=20)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "type", "payload", "occurred_at", "x"]), JSON) | JSON)
def test_parse_accepts_a_well_formed_envelope_and_rejects_the_rest_as_poison(document):
    try:
        parsed = consumer.parse(json.dumps(document))
    except consumer.PoisonMessage:
        return
    assert isinstance(parsed["type"], str) and isinstance(parsed["payload"], dict)
    assert str(uuid.UUID(parsed["id"])) == parsed["id"]


def test_a_well_formed_envelope_parses_with_its_id_normalised():
    upper = str(uuid.uuid4()).upper()
    parsed = consumer.parse(json.dumps({"id": upper, "type": "a.b", "payload": {"k": 1}}))
    assert parsed["id"] == upper.lower() and parsed["payload"] == {"k": 1}


def test_receive_asks_for_the_message_group_so_fifo_groups_run_in_parallel_lanes(app, sqs):
    for group in ("order:1", "order:2", "order:1", "order:3", "order:2"):
        send(app, sqs, envelope(), queue=queues.ORDERS, group=group)
    with app.app_context():
        messages = consumer.receive(queues.ORDERS, wait_seconds=0)
    assert [m["Attributes"]["MessageGroupId"] for m in messages] == ["order:1", "order:2", "order:1", "order:3",
                                                                     "order:2"]
    lanes = runner._lanes(queues.ORDERS, messages)
    assert sorted(len(lane) for lane in lanes) == [1, 2, 2]
    for lane in lanes:  # each lane is one group, in the order received
        assert len({m["Attributes"]["MessageGroupId"] for m in lane}) == 1
