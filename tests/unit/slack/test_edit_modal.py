"""The edit modal's pure rules (bot/slack/edit_modal.py): the sealed form, the checks of a
submitted body, the views Slack must accept, and the diff on the approval card."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.body_edits import body_sha256, edit_diff
from bot.slack.edit_modal import (
    FORM_TTL_S,
    MAX_INPUT_CHARS,
    EditForm,
    FormRefusedError,
    body_problem,
    diff_blocks,
    edit_view,
    loading_view,
    read_form,
    too_large_view,
)
from bot.slack.mrkdwn import block_text_length
from bot.slack.protocol import EditSubmitJob, JobRejectedError, JobSigner
from infra.local.slack_api import message_problem, view_problem
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.slack.worker_fakes import fake_state, handle_failure_record, on_failure_record

KEY = b"k" * 32
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OLD = json.dumps({"order": 7, "status": "failed"})
FORM = EditForm(
    queue="orders-dlq",
    message_id="m-1",
    source="orders",
    was_json=True,
    old_sha256=body_sha256(OLD),
    max_bytes=1_000,
    user="U_ALICE",
    channel="C_OPS",
    view_id="V1",
)


def _read(sealed: str, *, at: datetime = NOW, user: str = "U_ALICE", view: str = "V1") -> EditForm:
    return read_form(JobSigner(KEY), sealed, at, user=user, view_id=view)


def test_a_sealed_form_reads_back_for_its_view_and_person() -> None:
    sealed = FORM.seal(JobSigner(KEY), NOW)
    assert len(sealed) < 3_000  # Slack's private_metadata limit
    assert _read(sealed) == FORM


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.replace('"was_json":true', '"was_json":false'), "not one this app opened"),
        (lambda s: s.replace('"max_bytes":1000', '"max_bytes":9999999'), "not one this app"),
        (lambda s: s[:-3] + 'ab"}', "not one this app opened"),
        (lambda s: "not json", "not one this app opened"),
    ],
)
def test_a_changed_form_is_refused(change: object, words: str) -> None:
    sealed = FORM.seal(JobSigner(KEY), NOW)
    with pytest.raises(FormRefusedError, match=words):
        _read(change(sealed))  # type: ignore[operator]


def test_a_form_sealed_with_another_key_an_old_one_or_for_another_is_refused() -> None:
    sealed = FORM.seal(JobSigner(KEY), NOW)
    with pytest.raises(FormRefusedError, match="not one this app"):
        _read(FORM.seal(JobSigner(b"x" * 32), NOW))
    with pytest.raises(FormRefusedError, match="older than 60 minutes"):
        _read(sealed, at=NOW + timedelta(seconds=FORM_TTL_S + 1))
    with pytest.raises(FormRefusedError, match="someone else"):
        _read(sealed, user="U_MALLORY")
    with pytest.raises(FormRefusedError, match="not one this app"):
        _read(sealed, view="V2")  # a form lifted into another modal


def test_a_form_handed_to_the_worker_as_a_job_is_refused() -> None:
    signer = JobSigner(KEY)
    with pytest.raises(JobRejectedError):
        signer.open(json.loads(FORM.seal(signer, NOW)), NOW)
    # even one sealed for no longer than a job lives: no job is named "form"
    short = signer.seal_form({"queue": "orders-dlq"}, NOW, 60)
    with pytest.raises(JobRejectedError, match="unknown job"):
        signer.open(json.loads(short), NOW)


def test_a_form_that_claims_a_longer_life_is_refused() -> None:
    # Sealed validly but for more than FORM_TTL_S: no sealer of ours makes one
    long_lived = JobSigner(KEY).seal_form({"queue": "x"}, NOW, FORM_TTL_S + 60)
    with pytest.raises(FormRefusedError):
        _read(long_lived)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "no empty body"),
        ("{status: retry", "must be JSON too"),
        ("[" * 2_500, "nests too deeply"),
        ("x" * (MAX_INPUT_CHARS + 1), "At most 3,000 characters"),
        ("😀" * 1_501, "At most 3,000 characters"),  # 3,002 UTF-16 units, as Slack counts
        ('"' + "é" * 600 + '"', "1,202 bytes"),  # 601 characters, over max_bytes in UTF-8
        ('{"a": "\x00"}', "U+0000"),
        (OLD, "unchanged"),
    ],
)
def test_a_body_that_may_not_replace_the_old_one_is_refused(body: str, words: str) -> None:
    form = FORM if "bytes" in words else replace(FORM, max_bytes=10_000)
    problem = body_problem(form, body)
    assert problem is not None and words in problem


def test_a_changed_body_within_the_limits_is_accepted() -> None:
    assert body_problem(FORM, json.dumps({"order": 7, "status": "retry"})) is None
    # a text body may become anything SQS takes
    assert body_problem(replace(FORM, was_json=False), "not json at all") is None


def test_the_views_are_ones_slack_accepts() -> None:
    sealed = FORM.seal(JobSigner(KEY), NOW)
    for view in (
        loading_view("orders-dlq", "m-1"),
        edit_view(FORM, sealed, "é" * MAX_INPUT_CHARS),
        too_large_view("orders-dlq", "m-1", 250_000),
    ):
        assert view_problem(view) is None, view


def test_the_local_slack_refuses_what_slack_documents_it_refuses() -> None:
    sealed = FORM.seal(JobSigner(KEY), NOW)
    view = edit_view(FORM, sealed, OLD)
    assert view_problem({**view, "private_metadata": "x" * 3_001}) is not None
    assert view_problem({**view, "title": {"type": "plain_text", "text": "x" * 25}}) is not None
    assert view_problem({**view, "blocks": view["blocks"] * 34}) is not None  # 102 blocks
    no_submit = {k: v for k, v in view.items() if k != "submit"}
    assert view_problem(no_submit) is not None  # an input block needs submit
    field = view["blocks"][-1]
    too_long = {**field, "element": {**field["element"], "initial_value": "x" * 3_001}}
    assert view_problem({**view, "blocks": [*view["blocks"][:-1], too_long]}) is not None


def test_the_diff_is_of_the_pretty_printed_json() -> None:
    new = json.dumps({"order": 7, "status": "retry"})
    diff = edit_diff(OLD, new, was_json=True)
    assert '-  "status": "failed"' in diff.splitlines()
    assert '+  "status": "retry"' in diff.splitlines()
    assert '   "order": 7,' in diff.splitlines()  # context, unchanged


def test_a_long_diff_is_cut_at_a_line_saying_how_many_are_left_out() -> None:
    old = json.dumps({f"k{i}": i for i in range(400)})
    new = json.dumps({f"k{i}": i + 1 for i in range(400)})
    diff = edit_diff(old, new, was_json=True)
    shown, note = diff_blocks(diff)
    text = shown["text"]["text"]
    assert block_text_length([shown]) <= 3_000
    kept = text.removeprefix("*Change*\n```").removesuffix("```").split("\n")
    assert kept == diff.split("\n")[: len(kept)]  # whole lines, from the top
    left = len(diff.split("\n")) - len(kept)
    assert note["elements"][0]["text"] == (
        f"… and {left:,} more line(s) of the diff, not shown (Slack's limit)."
    )
    assert message_problem({"blocks": [shown, note]}) is None


def test_untrusted_text_in_the_diff_is_inert() -> None:
    diff = edit_diff("hello", "<!channel> ```<@U1>``` <https://evil|x>", was_json=False)
    (shown,) = diff_blocks(diff)
    text = shown["text"]["text"]
    assert "<!channel>" not in text and "<@U1>" not in text and "<https" not in text
    assert text.count("```") == 2  # the body's backticks cannot close the fence


def test_a_worker_that_died_on_a_submitted_edit_says_so_in_the_modal() -> None:
    # Given a submitted edit's modal, and Lambda's record of the worker that died on it
    slack = FakeSlackGateway()
    opened = slack.open_view(slack.modals.new_trigger(), loading_view("orders-dlq", "m-1"))
    job = EditSubmitJob("form", "{}", opened.id, "U_ALICE", "T_LOCAL", NOW.isoformat(), "d")
    record = on_failure_record(JobSigner(KEY).seal(job, NOW), "Task timed out after 900 s")

    # When the on-failure handler gets it
    state, _ = fake_state()
    handle_failure_record(record, key=KEY, state=state, slack=slack, at=NOW)

    # Then the modal (the submission has no response_url) says the worker stopped
    shown = json.dumps(slack.modals.views[opened.id]["blocks"])
    assert "The worker stopped before it could answer" in shown
