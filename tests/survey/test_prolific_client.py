"""The Prolific client against the fake server: wire format, what is retried, what is not."""

from __future__ import annotations

import socket

import pytest

from survey.prolific import client as api

from .fake_prolific import FakeProlific


@pytest.fixture
def fake():
    server = FakeProlific().start()
    yield server
    server.stop()


def make_client(fake, **kwargs) -> api.ProlificClient:
    waits: list[float] = []
    client = api.ProlificClient(
        token=fake.token, base_url=f"{fake.url}/api/v1", sleep=waits.append, **kwargs
    )
    client.waits = waits
    return client


def draft(**overrides) -> dict:
    return {
        "name": "Values",
        "description": "Rate responses",
        "external_study_url": "https://vp.example/s/x/?PROLIFIC_PID={{%PROLIFIC_PID%}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
        "completion_codes": [
            {"code": "C1", "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]}
        ],
        "estimated_completion_time": 20,
        "reward": 300,
        "total_available_places": 5,
        **overrides,
    }


def test_token_header_and_a_wrong_token_is_refused_at_once(fake):
    with make_client(fake) as client:
        assert client.create_study(draft())["status"] == "UNPUBLISHED"
    with api.ProlificClient(token="wrong", base_url=f"{fake.url}/api/v1") as bad:
        with pytest.raises(api.ProlificError) as refused:
            bad.get_study("x")
    assert refused.value.status == 401 and not isinstance(refused.value, api.TemporaryError)


def test_429_is_retried_after_the_wait_prolific_asks_for(fake):
    with make_client(fake) as client:
        study = client.create_study(draft())
        fake.fail("POST", "/transition/", status=429, times=2, retry_after="7")
        assert client.transition_study(study["id"], "PUBLISH")["status"] == "ACTIVE"
        assert client.waits == [7.0, 7.0]
        assert [e.status for e in client.exchanges[-3:]] == [429, 429, 200]


def test_5xx_is_retried_for_repeatable_calls_with_backoff(fake):
    with make_client(fake, backoff_seconds=0.5) as client:
        study = client.create_study(draft())
        fake.fail("GET", "/submissions/", status=503, times=2)
        assert client.list_submissions(study["id"]) == []
        assert client.waits == [0.5, 1.0]


def test_temporary_errors_give_up_after_the_attempts(fake):
    with make_client(fake, attempts=3) as client:
        study = client.create_study(draft())
        fake.fail("GET", "/submissions/", status=502, times=5)
        with pytest.raises(api.TemporaryError):
            client.list_submissions(study["id"])
        assert len(client.waits) == 2


def test_a_400_is_not_retried_and_keeps_prolifics_answer(fake):
    with make_client(fake) as client:
        with pytest.raises(api.ProlificError) as refused:
            client.create_study(draft(external_study_url="https://vp.example/s/x/"))
    assert refused.value.status == 400 and "URL parameters" in str(refused.value.body)
    assert len(fake.requests) == 1


def test_pay_is_never_sent_twice_after_a_server_error_or_a_lost_answer(fake):
    with make_client(fake) as client:
        study = client.create_study(draft())
        sid = fake.add_submission(study_id=study["id"], participant_id="PID1")
        bulk = client.set_up_bonuses(study["id"], f"{sid},1.50")
        fake.fail("POST", "/pay/", after_work=True, drop=True)
        with pytest.raises(api.OutcomeUnknown):
            client.pay_bonuses(bulk["id"])
        fake.fail("POST", "/pay/", status=500, after_work=True)
        with pytest.raises(api.OutcomeUnknown):
            client.pay_bonuses(bulk["id"])
    assert fake.payments[bulk["id"]] == 2  # each call reached Prolific once, none repeated
    assert client.waits == []


def test_pay_is_retried_on_429_because_nothing_was_paid(fake):
    with make_client(fake) as client:
        study = client.create_study(draft())
        sid = fake.add_submission(study_id=study["id"], participant_id="PID1")
        bulk = client.set_up_bonuses(study["id"], f"{sid},2.00")
        fake.fail("POST", "/pay/", status=429, retry_after="1")
        client.pay_bonuses(bulk["id"])
    assert fake.payments[bulk["id"]] == 1


def test_listing_follows_the_pagination_links(fake):
    with make_client(fake) as client:
        study = client.create_study(draft())
        ids = {fake.add_submission(study_id=study["id"], participant_id=f"P{n}") for n in range(5)}
        assert {s["id"] for s in client.list_submissions(study["id"])} == ids
    gets = [path for method, path, _ in fake.requests if method == "GET"]
    assert len(gets) == 3  # pages of two


def test_a_connection_that_cannot_open_is_retried_even_for_pay():
    """Nothing listens at first (the request never left): the pay call is sent again once
    Prolific is up, and pays once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeProlific()
    _, study = fake.create_study(draft())
    sid = fake.add_submission(study_id=study["id"], participant_id="PID1")
    _, bulk = fake.set_up_bonuses({"study_id": study["id"], "csv_bonuses": f"{sid},1.00"})
    waits: list[float] = []

    def prolific_comes_up(seconds: float) -> None:  # the client's back-off before its retry
        waits.append(seconds)
        fake.start(port=port)

    client = api.ProlificClient(
        token=fake.token, base_url=f"http://127.0.0.1:{port}/api/v1", sleep=prolific_comes_up
    )
    try:
        assert "processed asynchronously" in client.pay_bonuses(bulk["id"])
    finally:
        client.close()
        fake.stop()
    assert len(waits) == 1 and fake.payments == {bulk["id"]: 1}
    assert [e.status for e in client.exchanges] == [None, 202]
    assert client.exchanges[0].answer is None  # never reached Prolific


def test_a_submission_lists_the_bonuses_paid_on_it_once_prolific_processed_them(fake):
    fake.settle_later = True
    with make_client(fake) as client:
        study = client.create_study(draft())
        sid = fake.add_submission(study_id=study["id"], participant_id="PID1")
        bulk = client.set_up_bonuses(study["id"], f"{sid},1.50")
        assert client.get_submission(sid)["bonus_payments"] == []
        client.pay_bonuses(bulk["id"])
        assert client.get_submission(sid)["bonus_payments"] == []  # paid, not processed yet
        fake.settle()
        assert client.get_submission(sid)["bonus_payments"] == [150]
        fake.fail("GET", f"/submissions/{sid}/", status=503)
        assert client.get_submission(sid)["bonus_payments"] == [150]  # a read is retried
