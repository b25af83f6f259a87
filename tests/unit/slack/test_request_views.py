"""The request modal's views (bot/slack/request_form.py): what Slack accepts (slack_sdk's View
model and Block Kit's documented limits), what they show (true counts, escaped text), and that a
view's inputs carry the form back as read_form reads it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.redrive_model import RedriveReport, StopReason
from bot.slack.blocks import dry_run_note, notice
from bot.slack.ids import ActionId
from bot.slack.request_form import (
    COUNT_BLOCK,
    MAX_LISTED_DLQS,
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_DAY,
    REQUEST_FIELD_ERROR,
    REQUEST_FIELD_ERROR_LABEL,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_SINCE,
    REQUEST_FIELD_TIME_FIELD,
    REQUEST_FIELD_UNTIL,
    REQUEST_FIELD_WHERE,
    SELECTIONS,
    RequestForm,
    check_form,
    count_line,
    counting_line,
    form_view,
    loading_view,
    problems_line,
    read_form,
    response_errors,
    result_view,
    submitted_view,
)
from infra.local.slack_api import view_problem

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = "<!channel> :tada: *bold* `x` <https://evil.example|Runbook> \x1b[31m\u202e&amp;"
BLANK = RequestForm.blank()
FILLED = {
    "all": replace(BLANK, limit="20"),
    "yesterday": replace(BLANK, selection="yesterday", time_field="occurredAt"),
    "day": replace(BLANK, selection="day", day="2026-11-24", time_field="meta.at"),
    "range": replace(BLANK, selection="range", since="1764543600", until="1764580200"),
    "error": replace(BLANK, selection="error", error="#0123456789ab"),
    "field": replace(BLANK, selection="field", where=("meta.status=500", "attr.kind=a b")),
}


# --- what Slack documents, checked on every view --------------------------------------------------


def _texts(node: Any, key: str) -> list[Any]:
    """Every value under ``key`` anywhere in ``node``."""
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found.extend(_texts(v, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(_texts(item, key))
    return found


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def limit_problems(view: dict[str, Any]) -> list[str]:
    """Block Kit's documented limits (Reference: views, block elements, composition objects),
    those slack_sdk's models leave out included."""
    problems = []
    for key in ("title", "submit", "close"):
        if key in view and _length(view[key]["text"]) > 24:
            problems.append(f"{key} over 24 characters")
    if len(view["blocks"]) > 100:
        problems.append("over 100 blocks")
    if len(view.get("private_metadata", "")) > 3_000:
        problems.append("private_metadata over 3,000 characters")
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    if len(ids) != len(set(ids)) or any(len(i) > 255 for i in ids):
        problems.append("block ids not unique or too long")
    if any(len(a) > 255 for a in _texts(view, "action_id")):
        problems.append("an action_id over 255 characters")
    for placeholder in _texts(view, "placeholder"):
        if _length(placeholder["text"]) > 150:
            problems.append("a placeholder over 150 characters")
    for block in view["blocks"]:
        for key in ("label", "hint"):
            if key in block and _length(block[key]["text"]) > 2_000:
                problems.append(f"a {key} over 2,000 characters")
        if block["type"] == "section" and _length(block["text"]["text"]) > 3_000:
            problems.append("a section over 3,000 characters")
        element = block.get("element") or block.get("accessory") or {}
        options = element.get("options") or []
        groups = element.get("option_groups") or []
        if element.get("type") == "radio_buttons" and len(options) > 10:
            problems.append("a radio group over 10 options")
        if len(options) > 100 or len(groups) > 100:
            problems.append("a select over 100 options or option groups")
        every = [*options, *(o for g in groups for o in g["options"])]
        for group in groups:
            if len(group["options"]) > 100 or _length(group["label"]["text"]) > 75:
                problems.append("an option group over its limits")
        for option in every:
            if _length(option["text"]["text"]) > 75 or len(option["value"]) > 150:
                problems.append(f"an option over its limits: {option}")
            if "description" in option and _length(option["description"]["text"]) > 75:
                problems.append("an option description over 75 characters")
        if "initial_option" in element and element["initial_option"] not in every:
            problems.append("initial_option is not one of the options")
        if "initial_date" in element and not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", element["initial_date"]
        ):
            problems.append("initial_date is not YYYY-MM-DD")
        # "represented as a UNIX timestamp in seconds. This should be in the format of 10 digits"
        when = element.get("initial_date_time")
        if when is not None and not (isinstance(when, int) and len(str(when)) == 10):
            problems.append("initial_date_time is not 10 digits of epoch seconds")
    return problems


def assert_slack_accepts(view: dict[str, Any]) -> None:
    assert view_problem(view) is None, view_problem(view)  # slack_sdk's View and blocks
    assert limit_problems(view) == []
    assert view["callback_id"] == ActionId.REQUEST_MODAL.value


def state_of(view: dict[str, Any]) -> dict[str, Any]:
    """The ``state`` Slack sends for ``view`` when nobody changed its inputs: each input's
    initial value, under its block and action id, in the element's own shape."""
    picked = {
        "initial_option": "selected_option",
        "initial_value": "value",
        "initial_date": "selected_date",
        "initial_date_time": "selected_date_time",
        "initial_conversation": "selected_conversation",
    }
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        shown = {"type": element["type"]}
        for initial, key in picked.items():
            if initial in element:
                shown[key] = element[initial]
        values[block["block_id"]] = {element["action_id"]: shown}
    return {"values": values}


def _view(form: RequestForm, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "dlqs": [("orders-dlq", 12), ("payments-dlq", 0)],
        "form": form,
        "error_groups": [("#0123456789ab", "Timeout after <n> ms"), ("#ba9876543210", "Bad")],
        "count_line": None,
        "default_channel": "C_OPS",
        "private_metadata": "sealed",
        **overrides,
    }
    return form_view(**arguments)


def _inputs(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


# --- the form -----------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("action", ["redrive", "export"])
def test_every_form_is_accepted_and_carries_itself_back(selection: str, action: str) -> None:
    # Given a form filled for one selection kind
    form = replace(FILLED[selection], queue="orders-dlq", action=action, channel="C_OPS")
    if action == "export":
        form = replace(form, channel=None)

    # When it is shown, and Slack sends its state back untouched
    view = _view(form)

    # Then Slack accepts the view, and the state reads back as the same form
    assert_slack_accepts(view)
    assert read_form(state_of(view)) == form


def test_each_selection_shows_only_the_fields_it_needs() -> None:
    shown = {kind: set(_inputs(_view(form))) for kind, form in FILLED.items()}
    common = shown["all"]
    assert shown["yesterday"] - common == {REQUEST_FIELD_TIME_FIELD}
    assert shown["day"] - common == {REQUEST_FIELD_DAY, REQUEST_FIELD_TIME_FIELD}
    assert shown["range"] - common == {
        REQUEST_FIELD_SINCE,
        REQUEST_FIELD_UNTIL,
        REQUEST_FIELD_TIME_FIELD,
    }
    assert shown["error"] - common == {REQUEST_FIELD_ERROR, REQUEST_FIELD_ERROR_LABEL}
    assert shown["field"] - common == {REQUEST_FIELD_WHERE}


def test_a_choice_that_changes_the_form_or_the_count_is_sent_at_once() -> None:
    view = _view(FILLED["range"])
    dispatching = {b["block_id"] for b in view["blocks"] if b.get("dispatch_action")}
    assert {REQUEST_FIELD_QUEUE, REQUEST_FIELD_SELECTION, REQUEST_FIELD_SINCE} <= dispatching
    count = next(b for b in view["blocks"] if b.get("block_id") == COUNT_BLOCK)
    assert count["accessory"]["action_id"] == ActionId.REQUEST_COUNT.value
    assert "Press *Count*" in count["text"]["text"]


def test_a_redrive_asks_where_to_post_the_card_and_an_export_does_not() -> None:
    redrive = _view(replace(BLANK, note="INC-42"))
    channel = next(b for b in redrive["blocks"] if b.get("block_id") == REQUEST_FIELD_CHANNEL)
    assert channel["element"]["type"] == "conversations_select"
    assert channel["element"]["initial_conversation"] == "C_OPS"
    assert redrive["submit"]["text"] == "Ask for approval"
    # No configured or earlier channel: the conversation the modal was opened from
    current = _view(BLANK, default_channel=None)
    element = next(b for b in current["blocks"] if b.get("block_id") == REQUEST_FIELD_CHANNEL)
    assert element["element"]["default_to_current_conversation"] is True
    assert "initial_conversation" not in element["element"]
    export = _view(replace(BLANK, action="export"))
    assert REQUEST_FIELD_CHANNEL not in _inputs(export)
    assert REQUEST_FIELD_NOTE not in _inputs(export)
    assert (export["title"]["text"], export["submit"]["text"]) == ("Export from a DLQ", "Export")


@pytest.mark.parametrize("count", [0, 1, 100, 101, 250, MAX_LISTED_DLQS, MAX_LISTED_DLQS + 1])
def test_any_number_of_dlqs_fits_slacks_limits(count: int) -> None:
    # Given that many watched DLQs, one of them chosen
    dlqs = [(f"dlq-{index:04d}-{'x' * 60}", index * 1_000) for index in range(count)]
    chosen = dlqs[-1][0] if dlqs else None
    view = _view(replace(BLANK, queue=chosen), dlqs=dlqs)

    # Then Slack accepts the form, and the DLQ is offered the way that fits
    assert_slack_accepts(view)
    queue = next(b for b in view["blocks"] if b.get("block_id") == REQUEST_FIELD_QUEUE)
    element = queue.get("element", {})
    if count == 0:
        assert "No DLQ is watched" in queue["text"]["text"]
    elif count <= 100:
        assert len(element["options"]) == count
        assert element["initial_option"]["value"] == chosen
    elif count <= MAX_LISTED_DLQS:
        listed = [o["value"] for g in element["option_groups"] for o in g["options"]]
        assert listed == [name for name, _ in dlqs]  # every DLQ, in the order given
        assert element["initial_option"]["value"] == chosen
    else:
        assert element["type"] == "plain_text_input"
        assert element["initial_value"] == chosen
        assert f"{count:,} DLQs are watched" in queue["hint"]["text"]
    if 0 < count <= MAX_LISTED_DLQS:
        assert read_form(state_of(view)).queue == chosen


def test_the_dlq_select_shows_sqs_approximate_depth_as_about() -> None:
    view = _view(BLANK, dlqs=[("orders-dlq", 18_212)])
    option = view["blocks"][0]["element"]["options"][0]
    assert option == {
        "text": {"type": "plain_text", "text": "orders-dlq (about 18,212)", "emoji": False},
        "value": "orders-dlq",
    }


def test_a_preset_dlq_that_is_not_watched_is_said_not_chosen() -> None:
    view = _view(replace(BLANK, queue="gone-dlq<!here>"))
    assert_slack_accepts(view)
    assert "initial_option" not in view["blocks"][0]["element"]
    warning = view["blocks"][1]["elements"][0]["text"]
    assert "is not a watched DLQ" in warning
    assert "<!here>" not in warning and "&lt;!here&gt;" in warning


def test_error_groups_are_offered_escaped_and_within_limits() -> None:
    # Given more groups than a select takes, one hostile, one whose value cannot be an option's
    groups = [(f"#{index:012x}", f"group {index}") for index in range(150)]
    groups[0] = ("#000000000000", HOSTILE)
    groups[1] = ("x" * 151, "too long a value")
    view = _view(replace(BLANK, selection="error"), error_groups=groups)
    assert_slack_accepts(view)
    select = next(b for b in view["blocks"] if b.get("block_id") == REQUEST_FIELD_ERROR)
    options = select["element"]["options"]
    assert len(options) == 99  # the first 100, less the one whose value is over 150
    hostile = options[0]["text"]
    assert hostile["emoji"] is False  # ":tada:" shows as typed
    assert "\x1b" not in hostile["text"] and "\\x1b" in hostile["text"]
    assert "\u202e" not in hostile["text"]
    assert len(hostile["text"]) <= 75


def test_without_known_groups_the_label_is_typed_and_required() -> None:
    view = _view(replace(BLANK, selection="error"), error_groups=[])
    assert_slack_accepts(view)
    assert REQUEST_FIELD_ERROR not in _inputs(view)
    typed = next(b for b in view["blocks"] if b.get("block_id") == REQUEST_FIELD_ERROR_LABEL)
    assert typed["optional"] is False


def test_values_slack_could_not_show_are_left_out_not_sent() -> None:
    # A forged or stale form: a day that is no date, a time that is no picked instant, a
    # limit that is no number, a note longer than the field takes
    odd = replace(
        BLANK,
        selection="range",
        since="yesterday",
        until="99999999999",  # 11 digits: the year 5138
        limit="lots",
        note="n" * 600,
    )
    view = _view(odd)
    assert_slack_accepts(view)
    for day in ("2026-02-30", "24/11/2026", "2026-11-24T00:00"):
        assert_slack_accepts(_view(replace(BLANK, selection="day", day=day)))


def test_private_metadata_is_carried_as_given() -> None:
    view = _view(BLANK, private_metadata="m" * 3_000)
    assert_slack_accepts(view)
    assert view["private_metadata"] == "m" * 3_000


# --- the count line -----------------------------------------------------------------------------


def _dry(**fields: Any) -> RedriveReport:
    given: dict[str, Any] = {
        "dlq": "orders-dlq",
        "dry_run": True,
        "selection": "2026-11-24 (Asia/Seoul), by sent time",
        "scanned": 15,
        "matched": 12,
        "by_destination": Counter({"orders": 10}),
        "failure_reasons": Counter({"MessageTooLarge": 2}),
        "out_of_window": 3,
        "skipped": 3,
        "remaining": 15,
        **fields,
    }
    return RedriveReport(**given)


def test_a_complete_count_is_exact_and_says_what_the_destinations_take() -> None:
    dry = _dry()
    line = count_line(dry, "redrive")
    assert "*12* message(s) match; *10* would move" in line
    assert "at least" not in line
    assert dry_run_note(dry, "redrive") in line  # why 3 stay and 2 would not move, as the card
    assert "too large for their destination" in line


@pytest.mark.parametrize(
    "fields",
    [
        {"stopped": StopReason.DEADLINE},  # the count ran out of time
        {"remaining": 40},  # SQS counts more than the count saw
        {"blocked_groups": 2},  # FIFO groups it could not see past
    ],
)
def test_a_count_that_could_not_see_everything_says_at_least(fields: dict[str, Any]) -> None:
    line = count_line(_dry(**fields), "redrive")
    assert "*at least 12* message(s) match; *at least 10* would move" in line


def test_an_export_count_says_every_match_would_be_exported() -> None:
    # Given an export's dry run (it archives: no destination counted)
    dry = _dry(by_destination=Counter(), failure_reasons=Counter(), stopped=StopReason.DEADLINE)
    line = count_line(dry, "export")
    assert "*at least 12* message(s) match and would be exported" in line
    assert "at least 12 would be exported" in line  # the card's note, worded for an export
    assert "would move" not in line


def test_the_count_line_escapes_what_it_quotes() -> None:
    dry = _dry(dlq="q<!channel>", selection=f"where a={HOSTILE!r}")
    line = count_line(dry, "redrive")
    assert "<!channel>" not in line and "<https://" not in line
    assert "\x1b" not in line
    assert "<!" not in counting_line("q<!here>")
    assert "<!" not in problems_line({REQUEST_FIELD_WHERE: "--where '<!here>' is not PATH=VALUE"})


def test_the_count_line_fits_its_section() -> None:
    dry = _dry(selection="x" * 5_000, needs_human_reasons=Counter({"r" * 400: 1, "s" * 400: 2}))
    view = _view(BLANK, count_line=count_line(dry, "redrive"))
    assert_slack_accepts(view)
    count = next(b for b in view["blocks"] if b.get("block_id") == COUNT_BLOCK)
    assert count["accessory"]["text"]["text"] == "Count again"


# --- the other views ----------------------------------------------------------------------------


def test_loading_submitted_and_result_views_are_accepted() -> None:
    for view in (
        loading_view("Redrive from a DLQ"),
        loading_view("A title far longer than twenty-four characters"),
        submitted_view("C_OPS"),
        submitted_view("", action="export"),
        result_view(notice(":inbox_tray: The approval card is posted in <#C_OPS>.")),
        result_view({"text": "Done", "blocks": []}),
    ):
        assert_slack_accepts(view)
    assert "<#C_OPS>" in str(submitted_view("C_OPS"))


def test_a_forged_channel_is_never_a_live_mention() -> None:
    text = submitted_view("C1>|<!channel")["blocks"][0]["text"]["text"]
    assert "<!channel>" not in text and "<#C1>" not in text


def test_problems_on_fields_the_view_lacks_go_on_the_selection() -> None:
    # Given a person who switched to "One day" and submitted before the day field showed
    view = _view(BLANK)
    problems = {REQUEST_FIELD_DAY: "Pick a day.", REQUEST_FIELD_QUEUE: "Choose a DLQ."}
    assert response_errors(problems, view) == {
        REQUEST_FIELD_SELECTION: "Pick a day.",
        REQUEST_FIELD_QUEUE: "Choose a DLQ.",
    }
    shown = _view(FILLED["day"])
    assert response_errors(problems, shown) == problems


def test_the_module_loads_no_engine_no_sdk_and_no_selection_rules() -> None:
    # The endpoint loads it on the first modal request: it must stay light to import
    probe = (
        "import sys, bot.slack.request_form\n"
        "heavy = {'boto3', 'botocore', 'bot.engine', 'bot.selection', 'bot.selection_options',"
        " 'argparse', 'slack_sdk', 'slack_bolt', 'bot.slack.blocks', 'bot.redrive_model'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "form",
    [
        BLANK,  # no DLQ
        replace(BLANK, queue="q", selection="day"),
        replace(BLANK, queue="q", selection="day", day="2026-02-30", time_field="a..b"),
        replace(BLANK, queue="q", selection="range"),
        replace(BLANK, queue="q", selection="range", since="1764580200", until="1764543600"),
        replace(BLANK, queue="q", selection="error"),
        replace(BLANK, queue="q", selection="error", error="#0123456789ab", error_label="x"),
        replace(BLANK, queue="q", selection="field", where=("status",)),
        replace(BLANK, queue="q", limit="0", note="n" * 501),
    ],
)
@pytest.mark.parametrize("groups", [[("#0123456789ab", "Timeout")], []])
def test_every_problem_is_on_an_input_the_form_shows(
    form: RequestForm, groups: list[tuple[str, str]]
) -> None:
    # Given the form as shown (with or without known error groups) and what check_form finds
    view = _view(form, error_groups=groups)
    args, problems = check_form(
        form, tz=ZoneInfo("Asia/Seoul"), now=datetime(2026, 12, 2, tzinfo=UTC), error_attribute=None
    )

    # Then each problem names an input of that view (Slack shows errors only on input blocks)
    assert args is None and problems
    assert set(problems) <= set(_inputs(view))
    assert response_errors(problems, view) == problems
