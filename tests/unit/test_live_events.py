"""How the API reads the live events the jobs_state triggers NOTIFY (notify/hub.py)."""

from __future__ import annotations

import json

from dymunim.notify.hub import events_of


def test_columns_become_one_event_each_with_consecutive_ids() -> None:
    payload = json.dumps({"first_id": 7000, "job_id": [3, 4], "status": ["running", "succeeded"],
                          "from": ["queued", "running"], "attempt": [1, 1], "at": ["t1", "t2"]})
    assert events_of(payload) == [
        {"event_id": 7000, "job_id": 3, "status": "running", "from": "queued", "attempt": 1, "at": "t1"},
        {"event_id": 7001, "job_id": 4, "status": "succeeded", "from": "running", "attempt": 1, "at": "t2"},
    ]


def test_what_cannot_be_read_is_none_not_an_error() -> None:
    assert events_of("not json") is None
    assert events_of("3") is None
    assert events_of('[{"event_id": 5, "job_id": 3}]') is None, "not the triggers' form"
    ragged = {"first_id": 1, "job_id": [1, 2], "status": ["queued"], "from": [None, None], "attempt": [0, 0],
              "at": ["t", "t"]}
    assert events_of(json.dumps(ragged)) is None, "columns of different lengths"
    assert events_of(json.dumps({"first_id": 1, "job_id": [1]})) is None, "a missing column"
