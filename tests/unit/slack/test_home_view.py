"""The App Home tab's view (bot.slack.home_view): within Slack's limits whatever the data, every
figure the data's and saying what it is, untrusted text inert (pure, no server)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.views import View

from bot.slack.button_values import parse_button_value
from bot.slack.home_model import (
    ErrorGroupFact,
    HomeData,
    HomeDlq,
    PendingApproval,
    RunInProgress,
    ScanFacts,
    TrendPoint,
)
from bot.slack.home_view import MAX_HOME_BLOCKS, home_error_view, home_view
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import MAX_SECTION_TEXT, text_length
from infra.local.slack_api import view_problem

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 2, 3, 0, 12, tzinfo=UTC)  # 12:00:12 in Seoul
SCANNED = datetime(2026, 12, 1, 21, 0, 5, tzinfo=UTC)  # 06:00:05 in Seoul
VIEWER = "U0VIEWER"
HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click here> *bold* `tick` &amp; \x1b[31m"
HOME_IDS = {ActionId.HOME_PEEK.value, ActionId.HOME_REDRIVE.value, ActionId.HOME_EXPORT.value}
# Views.publish answers view_too_large above 250 kB (Reference: views.publish).
MAX_VIEW_BYTES = 250_000


def _scan(name: str, *, complete: bool = True, messages: int = 1_200) -> ScanFacts:
    return ScanFacts(
        dlq=name,
        scanned_at=SCANNED,
        messages=messages,
        complete=complete,
        oldest_sent=NOW - timedelta(days=2, hours=3, minutes=4),
        next_expiry=datetime(2026, 12, 3, 22, 39, 4, tzinfo=UTC),  # 07:39:04 in Seoul
        top_errors=(
            ErrorGroupFact("TimeoutError: upstream", 700),
            ErrorGroupFact("KeyError: 'sku'", 450),
            ErrorGroupFact("ValueError", 50),
        ),
    )


def _trend(depths: list[int], *, last_estimated: bool = True) -> tuple[TrendPoint, ...]:
    first = date(2026, 12, 2) - timedelta(days=len(depths) - 1)
    return tuple(
        TrendPoint(
            first + timedelta(days=i),
            depth,
            exact=not (last_estimated and i == len(depths) - 1),
        )
        for i, depth in enumerate(depths)
    )


def _dlq(index: int, *, depth: int | None = None, name: str | None = None) -> HomeDlq:
    name = name or f"service-{index:03d}-dlq"
    return HomeDlq(
        name=name,
        kind="sqs",
        fifo=False,
        depth=1_000 - index if depth is None else depth,
        in_flight=index % 7,
        retention_s=345_600,
        trend=_trend([10, 12, 15, 11, 30, 28, 1_000 - index]),
        scan=_scan(name),
    )


def _approval(index: int, **changes: Any) -> PendingApproval:
    approval = PendingApproval(
        request_id=f"r-{index:04d}",
        dlq=f"service-{index:03d}-dlq",
        action="redrive",
        matched=1_234,
        count_complete=True,
        selection_text="--yesterday --time-field occurredAt",
        requested_by="U0REQUESTER",
        requested_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        expires_at=datetime(2026, 12, 2, 3, 30, tzinfo=UTC) + timedelta(minutes=index),
        channel="C0CARDS",
        message_ts="1764640800.000100",
        mine=False,
        may_decide=True,
    )
    return replace(approval, **changes)


def _run(index: int, **changes: Any) -> RunInProgress:
    run = RunInProgress(
        run_id=f"run-{index:04d}",
        dlq=f"service-{index:03d}-dlq",
        action="redrive",
        moved=10,
        matched=50,
        started_at=datetime(2026, 12, 2, 2, 55, tzinfo=UTC),
        approved_by="U0APPROVER",
    )
    return replace(run, **changes)


def _data(count: int, **changes: Any) -> HomeData:
    data = HomeData(
        user=VIEWER,
        read_at=NOW,
        dlqs=tuple(_dlq(i) for i in range(count)),
        approvals=(),
        runs=(),
        unread=(),
    )
    return replace(data, **changes)


def _valid(view: dict[str, Any]) -> None:
    """What Slack checks of a published Home tab (slack_sdk's view model, each block as the local
    Slack server checks it), and the limits the models leave out."""
    View(**view).validate_json()
    assert view["type"] == "home"
    assert 1 <= len(view["blocks"]) <= MAX_HOME_BLOCKS
    assert view_problem(view) is None
    for block in view["blocks"]:
        texts = [block.get("text", {}).get("text", "")]
        texts += [e.get("text", "") for e in block.get("elements", []) if "text" in e]
        assert all(text_length(t) <= MAX_SECTION_TEXT for t in texts if isinstance(t, str))
    assert len(json.dumps(view).encode()) < MAX_VIEW_BYTES


def _texts(view: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of the view, top down."""
    texts = []
    for block in view["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        if block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return texts


def _all_text(view: dict[str, Any]) -> str:
    return "\n".join(_texts(view))


def _dlq_buttons(view: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [
        block["elements"]
        for block in view["blocks"]
        if block["type"] == "actions" and {e["action_id"] for e in block["elements"]} == HOME_IDS
    ]


def _shown_and_summarised(view: dict[str, Any]) -> tuple[int, int, int]:
    """(DLQs shown with buttons, DLQs summarised, the summary's total depth)."""
    shown = len(_dlq_buttons(view))
    summary = re.search(
        r"\*…and ([\d,]+) more DLQ\(s\)\* not shown here .*?about ([\d,]+) message\(s\) in all",
        _all_text(view),
    )
    if summary is None:
        return shown, 0, 0
    return shown, int(summary[1].replace(",", "")), int(summary[2].replace(",", ""))


@pytest.mark.parametrize("count", [0, 1, 60, 150, 500])
def test_the_view_is_valid_and_within_slacks_limits_for_any_number_of_dlqs(count: int) -> None:
    # Given that many DLQs, with the most the rest of the tab can hold: approvals, runs, problems
    data = _data(
        count,
        approvals=tuple(_approval(i, selection_text=HOSTILE * 20) for i in range(12)),
        runs=tuple(_run(i) for i in range(12)),
        unread=("sns subscriptions not read: AccessDenied " * 30,),
        problems=("state table unavailable: " + HOSTILE * 40,),
    )
    # When the Home tab is rendered
    view = home_view(data, tz=SEOUL)
    # Then Slack would take it, and every DLQ is either shown with its buttons or summarised
    _valid(view)
    shown, summarised, depth = _shown_and_summarised(view)
    assert shown + summarised == count
    assert depth == sum(d.depth for d in data.dlqs[shown:])
    # Each DLQ shown has its own figures, in the data's order (deepest first)
    sections = [t for t in _texts(view) if t.startswith("*`")]
    for text, dlq in zip(sections, data.dlqs, strict=False):
        assert text.startswith(f"*`{dlq.name}`* (sqs)\n")
        assert f"Depth *about {dlq.depth:,}* · in flight about {dlq.in_flight:,}" in text
    assert len(sections) == shown
    # The Refresh button comes first
    top = view["blocks"][1]
    assert top["accessory"]["action_id"] == ActionId.HOME_REFRESH.value


@pytest.mark.parametrize("count", [60, 150, 500])
def test_dlqs_that_do_not_fit_are_summarised_in_one_block_with_their_count_and_depth(
    count: int,
) -> None:
    # Given more DLQs than 100 blocks can show, deepest first
    data = _data(count)
    # When the tab is rendered
    view = home_view(data, tz=SEOUL)
    # Then the deepest are shown, the others named in one summary with their total depth
    shown, summarised, depth = _shown_and_summarised(view)
    assert shown > 0 and summarised == count - shown
    assert depth == sum(d.depth for d in data.dlqs[shown:])
    assert sum("more DLQ(s)" in text for text in _texts(view)) == 1
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    text = _all_text(view)
    assert f"`{data.dlqs[shown - 1].name}`" in text
    assert data.dlqs[shown].name in text.split("more DLQ(s)")[1]


def test_a_summary_of_hostile_names_keeps_its_figures_within_one_section() -> None:
    # Given 150 DLQs whose names escaping makes five times longer (not SQS names: no buttons)
    dlqs = tuple(_dlq(i, name=f"{i:03d}" + "&" * 77) for i in range(150))
    # When the tab is rendered
    view = home_view(_data(0, dlqs=dlqs), tz=SEOUL)
    # Then it is valid; the summary says how many and their depth, its names cut to fit
    _valid(view)
    summary = next(t for t in _texts(view) if "more DLQ(s)" in t)
    shown = sum(t.startswith("*`") for t in _texts(view))
    assert summary.startswith(f"*…and {150 - shown} more DLQ(s)* not shown here")
    depth = sum(d.depth for d in dlqs[shown:])
    assert f"about {depth:,} message(s) in all; `/dlq-redrive list` lists them all: " in summary
    assert "&amp;" * 77 in summary and summary.endswith("…")


def test_every_figure_of_a_dlq_is_the_datas_and_says_what_it_is() -> None:
    # Given one DLQ: SQS's counts, 7 report days (the last an estimate), a complete scan
    dlq = HomeDlq(
        name="orders-dlq",
        kind="sqs+sns",
        fifo=False,
        depth=1_234,
        in_flight=56,
        retention_s=345_600,
        trend=_trend([10, 12, 15, 11, 30, 2_028, 1_234]),
        scan=_scan("orders-dlq"),
    )
    # When the tab is rendered
    view = home_view(_data(0, dlqs=(dlq,)), tz=SEOUL)
    text = _all_text(view)
    # Then SQS's approximate counts say "about", in the tab's total too
    assert "*1* watched DLQ(s): *about 1,234* message(s), about 56 in flight" in text
    assert "*`orders-dlq`* (sqs+sns)" in text
    assert "Depth *about 1,234* · in flight about 56 · keeps messages 4d 0h" in text
    # The trend has each day's number, the report's estimate marked "about"
    assert (
        "7d `▁▁▁▁▁█▅` 26 Nov 10 · 27 Nov 12 · 28 Nov 15 · 29 Nov 11 · 30 Nov 30 · "
        "1 Dec 2,028 · 2 Dec about 1,234"
    ) in text
    # The scan's figures say when they are from, exact as it read every message
    assert (
        "As of 2026-12-02 06:00 +09:00 scan (read all 1,200): 1,200 message(s) · "
        "oldest 1d 21h old · next expiry 2026-12-04 07:39 +09:00"
    ) in text
    assert (
        "Top errors: `TimeoutError: upstream` ×700 · `KeyError: 'sku'` ×450 · `ValueError` ×50"
    ) in text
    assert "at least" not in text and "at the latest" not in text
    assert "Read 2026-12-02 12:00 +09:00" in text


def test_an_incomplete_scan_gives_bounds() -> None:
    # Given a scan that read 500 messages, not all of them
    dlq = replace(_dlq(0), scan=_scan("service-000-dlq", complete=False, messages=500))
    # When the tab is rendered
    text = _all_text(home_view(_data(0, dlqs=(dlq,)), tz=SEOUL))
    # Then every scan figure is a bound: at least so many, so old; the expiry at the latest,
    # rounded up to the minute (07:39:04 is "at the latest 07:40")
    assert (
        "As of 2026-12-02 06:00 +09:00 scan (read 500, not every message: figures are bounds): "
        "at least 500 message(s) · oldest at least 1d 21h old · "
        "next expiry at the latest 2026-12-04 07:40 +09:00"
    ) in text
    assert (
        "Top errors: `TimeoutError: upstream` at least 700 · `KeyError: 'sku'` at least 450 · "
        "`ValueError` at least 50"
    ) in text
    assert "read all" not in text


def test_an_incomplete_scans_oldest_under_a_minute_is_a_bound_in_seconds() -> None:
    # Given a scan that read part of a DLQ whose oldest read message was 42 seconds old at the
    # scan (the incident drill of issue 14, right after a burst: "oldest at least under 1m old")
    scan = replace(
        _scan("service-000-dlq", complete=False, messages=500),
        oldest_sent=SCANNED - timedelta(seconds=42),
    )
    complete = replace(scan, dlq="service-001-dlq", complete=True)
    dlqs = (replace(_dlq(0), scan=scan), replace(_dlq(1), scan=complete))
    # When the tab is rendered
    text = _all_text(home_view(_data(0, dlqs=dlqs), tz=SEOUL))
    # Then the bound says how old; an exact age keeps the minute's words
    assert "oldest at least 42s old" in text
    assert "at least under" not in text
    assert "oldest under 1m old" in text


def test_a_dlq_without_a_scan_or_trend_says_so_and_an_expiry_gone_by_says_passed() -> None:
    # Given a DLQ never scanned, and one whose scan's next expiry is already past
    fresh = replace(_dlq(0, name="fresh-dlq"), scan=None, trend=(), retention_s=None)
    gone = replace(
        _dlq(1, name="gone-dlq"),
        scan=replace(_scan("gone-dlq"), next_expiry=NOW - timedelta(minutes=5)),
    )
    # When the tab is rendered
    text = _all_text(home_view(_data(0, dlqs=(fresh, gone)), tz=SEOUL))
    # Then
    fresh_text = text.split("`fresh-dlq`")[1].split("`gone-dlq`")[0]
    assert "No daily scan recorded yet." in fresh_text
    assert "7d" not in fresh_text and "keeps messages" not in fresh_text
    assert "next expiry 2026-12-02 11:55 +09:00 (passed since)" in text


def test_the_trend_shows_the_last_seven_days_each_with_its_number() -> None:
    # Given nine report days
    dlq = replace(_dlq(0), trend=_trend([1, 2, 3, 4, 5, 6, 7, 8, 9], last_estimated=False))
    # When the tab is rendered
    text = _all_text(home_view(_data(0, dlqs=(dlq,)), tz=SEOUL))
    # Then only the last seven, as a sparkline of seven and their numbers
    trend = re.search(r"(\d)d `(.+?)` (.*)", text)
    assert trend is not None and trend[1] == "7" and len(trend[2]) == 7
    assert trend[3] == "26 Nov 3 · 27 Nov 4 · 28 Nov 5 · 29 Nov 6 · 30 Nov 7 · 1 Dec 8 · 2 Dec 9"


def test_each_dlq_has_peek_redrive_and_export_buttons_naming_it() -> None:
    # Given three DLQs
    data = _data(3)
    # When the tab is rendered
    view = home_view(data, tz=SEOUL)
    # Then each has Peek, Redrive… and Export…, whose value the endpoint reads back as its name
    rows = _dlq_buttons(view)
    assert len(rows) == 3
    for row, dlq in zip(rows, data.dlqs, strict=True):
        assert [b["text"]["text"] for b in row] == ["Peek", "Redrive…", "Export…"]
        assert [b["action_id"] for b in row] == [
            ActionId.HOME_PEEK.value,
            ActionId.HOME_REDRIVE.value,
            ActionId.HOME_EXPORT.value,
        ]
        for button in row:
            assert json.loads(button["value"]) == {"queue": dlq.name}
            assert parse_button_value(button["action_id"], button["value"]).queue == dlq.name


# The only live markup the tab may hold: the mentions and channel links we put there.
_LIVE = re.compile(r"<[^>]*>")


def test_hostile_names_labels_selections_and_lines_stay_inert() -> None:
    # Given untrusted text everywhere the tab shows text it did not write
    dlq = HomeDlq(
        name=HOSTILE,
        kind=HOSTILE,
        fifo=False,
        depth=3,
        in_flight=0,
        retention_s=None,
        trend=(),
        scan=replace(_scan(HOSTILE), top_errors=(ErrorGroupFact(HOSTILE, 3),)),
    )
    data = _data(
        0,
        dlqs=(dlq,),
        approvals=(
            _approval(0, dlq=HOSTILE, selection_text=HOSTILE, request_id=HOSTILE),
            _approval(1, requested_by="U1><!channel", channel="C1|x><!here"),
        ),
        runs=(_run(0, dlq=HOSTILE, run_id=HOSTILE, approved_by="<!everyone>"),),
        unread=(HOSTILE,),
        problems=(HOSTILE,),
    )
    # When the tab is rendered
    view = home_view(data, tz=SEOUL)
    # Then it is valid, and nothing in it is a live mention, link or broadcast but ours
    _valid(view)
    live = set(_LIVE.findall(json.dumps(view, ensure_ascii=False)))
    assert live == {"<@U0REQUESTER>", "<#C0CARDS>"}
    assert "approved by `&lt;!everyone&gt;`" in _all_text(view)
    text = _all_text(view)
    assert "&lt;!channel&gt;" in text and "\\x1b" in text and "\x1b" not in text
    # A name the endpoint would refuse from a click gets no buttons (they could never work)
    assert _dlq_buttons(view) == []
    assert "(no buttons: not an SQS queue name)" in text


def test_pending_approvals_say_whose_how_many_until_when_and_where() -> None:
    # Given the viewer's own request, one they may approve, and one they can only watch
    own = _approval(1, mine=True, may_decide=False, matched=99, count_complete=False)
    theirs = _approval(2, requested_by="U0OTHER", action="discard")
    watch = _approval(3, requested_by="U0OTHER", may_decide=False)
    # When the tab is rendered
    view = home_view(_data(1, approvals=(watch, own, theirs)), tz=SEOUL)
    texts = _texts(view)
    # Then: how many, those the viewer may decide first, then their own, with who, count, expiry
    # and the card's channel
    start = texts.index("*Pending approvals* (3)")
    first, second, third = texts[start + 1 : start + 4]
    assert first == (
        ":wastebasket: *Discard request* `r-0002`: 1,234 message(s) from `service-002-dlq` "
        "(counted when the request was made) · you may approve\n"
        "`--yesterday --time-field occurredAt` · requested by <@U0OTHER> "
        "2026-12-02 11:00 +09:00 · expires 2026-12-02 12:32 +09:00 · card in <#C0CARDS>"
    )
    assert second.startswith(
        ":inbox_tray: *Redrive request* `r-0001`: up to 99 message(s) from `service-001-dlq` "
        "(counted when the request was made; the count stopped early) · *yours*\n"
    )
    assert "requested by <@U0REQUESTER>" in second and "expires 2026-12-02 12:31 +09:00" in second
    assert "`r-0003`" in third and "*yours*" not in third and "you may approve" not in third


def test_a_pending_approvals_count_says_it_is_what_was_counted_when_the_request_was_made() -> None:
    # Given a request counted complete and one whose count stopped early (the DLQ may have
    # changed since: the card's figure is the request's count, not today's depth)
    complete = _approval(1, matched=1_234)
    partial = _approval(2, matched=99, count_complete=False)
    # When the tab is rendered
    texts = _texts(home_view(_data(0, approvals=(complete, partial)), tz=SEOUL))
    # Then each count says it is what was counted when the request was made
    shown = [t for t in texts if "`r-0001`" in t or "`r-0002`" in t]
    assert len(shown) == 2
    assert (
        "`r-0001`: 1,234 message(s) from `service-001-dlq` (counted when the request was made)"
        in shown[0]
    )
    assert (
        "`r-0002`: up to 99 message(s) from `service-002-dlq` (counted when the request was "
        "made; the count stopped early)" in shown[1]
    )


def test_approvals_and_runs_beyond_five_are_counted() -> None:
    # Given eight pending approvals and seven runs
    data = _data(2, approvals=tuple(_approval(i) for i in range(8)), runs=(_run(0),) * 7)
    # When the tab is rendered
    text = _all_text(home_view(data, tz=SEOUL))
    # Then five of each are shown and the rest counted
    assert "*Pending approvals* (8)" in text and text.count("*Redrive request*") == 5
    assert "…and 3 more pending approval(s), each on its card" in text
    assert "*Runs in progress* (7)" in text and text.count("*Redriving*") == 5
    assert "…and 2 more: `/dlq-redrive status` lists them" in text


def test_runs_in_progress_show_what_they_did_of_at_most_what() -> None:
    # Given a redrive and a discard in progress
    runs = (_run(0), _run(1, action="discard", moved=3, matched=1_500, approved_by=None))
    # When the tab is rendered
    text = _all_text(home_view(_data(0, runs=runs), tz=SEOUL))
    # Then each says how many of at most how many, since when, approved by whom
    assert (
        ":hourglass_flowing_sand: *Redriving* `service-000-dlq`: moved *10* of at most 50 · "
        "started 2026-12-02 11:55 +09:00 · approved by <@U0APPROVER> · run `run-0000`"
    ) in text
    assert "*Discarding* `service-001-dlq`: discarded *3* of at most 1,500 · started" in text


def test_nothing_pending_and_no_dlq_say_so() -> None:
    # Given no DLQ found, and kinds discovery could not read
    data = _data(0, unread=("sns subscriptions not read: AccessDenied (a DLQ only ...)",))
    # When the tab is rendered
    view = home_view(data, tz=SEOUL)
    # Then it says none, and why a DLQ may be missing
    _valid(view)
    text = _all_text(view)
    assert "No watched DLQ found." in text
    assert "*Pending approvals*: none" in text and "*Runs in progress*: none" in text
    assert ":warning: sns subscriptions not read: AccessDenied" in text


def test_problems_are_shown_above_what_could_be_read() -> None:
    # Given a read in which the state table was down
    data = _data(2, problems=("pending approvals not read: state table unavailable",))
    # When the tab is rendered
    texts = _texts(home_view(data, tz=SEOUL))
    # Then the problem comes before the figures, which still show
    problem = texts.index(":warning: pending approvals not read: state table unavailable")
    assert problem < texts.index("*Pending approvals*: none")
    assert any("`service-001-dlq`" in t for t in texts)


def test_the_error_view_says_what_failed_inertly_with_a_refresh_button() -> None:
    # Given a read that failed as a whole, with a message quoting untrusted text
    # When the error view is rendered
    view = home_error_view("could not list queues: " + HOSTILE)
    # Then it is valid, says what failed escaped, and offers Refresh
    _valid(view)
    assert view["blocks"][1]["accessory"]["action_id"] == ActionId.HOME_REFRESH.value
    text = _all_text(view)
    assert ":x: could not list queues: &lt;!channel&gt; &lt;@U0BOSS&gt;" in text
    assert not _LIVE.findall(json.dumps(view))
