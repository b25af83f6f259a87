"""Attacks on the App Home tab (issue 14): Events API deliveries and Home tab clicks into the
real endpoint (Bolt, every listener and check, the Peek modal opener on the local Slack server),
and the published view's limits and escaping with the worst data a workspace can hold.

The endpoint here is ``bot.slack.app.build_app`` with a recording dispatcher (what it would hand
to the worker) and the Home tab's real ``HomeEndpoint`` talking to the local Slack server, so a
test sees what is acked, what is dispatched, and every connection the ack path opens."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.config import EngineSettings, SlackSettings
from bot.slack.app import build_app
from bot.slack.home_endpoint import HomeEndpoint
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
from bot.slack.mrkdwn import text_length
from bot.slack.protocol import HomeJob, JobSigner, PeekViewJob, job_signing_key
from bot.slack.runtime import SlackEndpoint
from bot.slack.web import SlackGateway
from bot.state import StateStore
from bot.state_model import RunRecord, RunStatus
from bot.state_table import StateTable
from infra.local.scene import create_pair, put_in_dlq
from infra.local.slack_api import MAX_PUBLISHED_VIEW_BYTES, SlackApiServer
from infra.local.slack_events import (
    LOCAL_TEAM,
    event_callback_body,
    home_opened,
    http_event,
    url_verification_body,
    view_action_body,
)
from tests.faults.fault_proxy import FaultProxy
from tests.hostile.recording_endpoint import RecordingDispatcher
from tests.integration.slack.home_world import (
    HOME_VIEW,
    JSON,
    open_home,
    published,
    retry_headers,
)
from tests.integration.slack.slack_harness import (
    APPROVER,
    OUTSIDER,
    SlackHarness,
    harness,
    slack_env,
)
from tests.integration.slack.test_home_data import TABLE, Seen, _reader, _seed, seen
from tests.unit.fake_sqs import FakeSqs
from tests.unit.slack.worker_fakes import peek_world

__all__ = ["harness", "seen", "slack_env"]  # fixtures

SECRET = "home-attack-secret"
USER = "U0ALICE"
MAX_SECTION = 3_000
UNIT_KEY = "unit-test-job-signing-key-32-bytes!!"


class HomeEndpointWorld:
    """The real endpoint with a recording dispatcher; views.open goes to the local Slack."""

    def __init__(self, slack: SlackApiServer, *, enterprise: str | None = None) -> None:
        self.slack = slack
        self.dispatcher = RecordingDispatcher()
        env = {
            "SLACK_BOT_TOKEN": "xoxb-x",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_TEAM_ID": LOCAL_TEAM,
            "TIMEZONE": "UTC",
            **({"SLACK_ENTERPRISE_ID": enterprise} if enterprise else {}),
        }
        views = SlackGateway(WebClient(token="xoxb-x", base_url=slack.api_url))
        app = build_app(
            slack_settings=SlackSettings.from_env(env),
            engine_settings=EngineSettings.from_env(env),
            signing_secret=SECRET,
            client=WebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/"),
            dispatcher=self.dispatcher,
            home=lambda: HomeEndpoint(lambda: views),
            clock=lambda: datetime(2026, 11, 25, tzinfo=UTC),
        )
        self.endpoint = SlackEndpoint(app)

    def send(self, body: str, **options: Any) -> dict[str, Any]:
        return self.endpoint.handle(http_event(body, SECRET, **options), None)

    def open_home(
        self,
        event: dict[str, Any],
        *,
        event_id: str = "Ev0001",
        retry: int | None = None,
        **wrapper: Any,
    ) -> dict[str, Any]:
        body = event_callback_body(event, event_id=event_id, **wrapper)
        return self.send(body, content_type=JSON, headers=retry_headers(retry))

    def peek(self, queue: str) -> dict[str, Any]:
        """Click Peek on ``queue`` in the Home tab, with a trigger the local Slack handed out."""
        trigger = self.slack.state.modals.new_trigger()
        value = json.dumps({"queue": queue})
        return self.send(
            view_action_body(
                ActionId.HOME_PEEK.value, value, user=USER, view=HOME_VIEW, trigger_id=trigger
            )
        )

    def home_jobs(self) -> list[HomeJob]:
        return [job for job in self.dispatcher.jobs if isinstance(job, HomeJob)]


@pytest.fixture
def slack() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server


@pytest.fixture
def world(slack: SlackApiServer) -> HomeEndpointWorld:
    return HomeEndpointWorld(slack)


# --- malformed events ----------------------------------------------------------------------------


def _without_user() -> dict[str, Any]:
    event = home_opened(USER)
    del event["user"]
    return event


MALFORMED_USERS = {
    "no user": _without_user(),
    "null user": {**home_opened(USER), "user": None},
    "empty user": {**home_opened(USER), "user": ""},
    "user object": {**home_opened(USER), "user": {"id": USER}},
    "mention": {**home_opened(USER), "user": "<!channel>"},
    "huge": {**home_opened(USER), "user": "U" + "A" * 100_000},
}


@pytest.mark.parametrize("event", MALFORMED_USERS.values(), ids=MALFORMED_USERS.keys())
def test_an_app_home_opened_without_a_slack_user_id_is_acked_and_hands_nothing_over(
    world: HomeEndpointWorld, event: dict[str, Any]
) -> None:
    # When Slack (signed) delivers an app_home_opened naming no person the tab could be
    # published for
    answer = world.open_home(event)
    # Then it is acknowledged (a retry would be no better) and the worker gets nothing to
    # read AWS and publish for
    assert answer["statusCode"] == 200
    assert world.dispatcher.jobs == []


@pytest.mark.parametrize("tab", [None, "", "HOME", "messages", {"home": 1}])
def test_an_app_home_opened_of_no_home_tab_hands_nothing_over(
    world: HomeEndpointWorld, tab: Any
) -> None:
    event = home_opened(USER)
    if tab is None:
        del event["tab"]
    else:
        event["tab"] = tab
    assert world.open_home(event)["statusCode"] == 200
    assert world.dispatcher.jobs == []


def test_an_app_home_opened_with_huge_fields_dispatches_a_small_job_for_its_user(
    world: HomeEndpointWorld,
) -> None:
    # Given an event carrying the previously published view, 300 KB of it
    view = {"id": "VH1", "type": "home", "blocks": [], "private_metadata": "x" * 300_000}
    answer = world.open_home(home_opened(USER, view=view))
    # Then one job for that person, carrying none of it
    assert answer["statusCode"] == 200
    (job,) = world.home_jobs()
    assert job.user == USER and job.reason == "opened"
    assert len(repr(job)) < 1_000


# --- retries and event ids ------------------------------------------------------------------------


def test_slacks_retries_of_one_event_carry_one_delivery_key_whatever_their_signatures(
    world: HomeEndpointWorld,
) -> None:
    # When Slack delivers one event and then retries it twice (new timestamp/signature each)
    for retry in (None, 1, 2):
        assert world.open_home(home_opened(USER), event_id="Ev0R", retry=retry)["statusCode"] == 200
    jobs = world.home_jobs()
    # Then the worker is handed three copies of one delivery: it runs one
    assert len(jobs) == 3
    assert len({job.delivery for job in jobs}) == 1


def test_an_event_id_reused_for_another_person_is_not_taken_for_a_retry(
    world: HomeEndpointWorld,
) -> None:
    # Slack: event_id is "a unique identifier for this specific event". A copy naming another
    # person is not a retry of the first: dropping it would leave that person's tab unpublished.
    world.open_home(home_opened(USER), event_id="Ev0SAME")
    world.open_home(home_opened("U0BOB"), event_id="Ev0SAME")
    first, second = world.home_jobs()
    assert (first.user, second.user) == (USER, "U0BOB")
    assert first.delivery != second.delivery


def test_an_event_id_reused_in_another_team_is_refused_there(world: HomeEndpointWorld) -> None:
    world.open_home(home_opened(USER), event_id="Ev0TEAM", team="T_OTHER")
    assert world.dispatcher.jobs == []


# --- another workspace or enterprise --------------------------------------------------------------


def test_events_of_another_enterprise_or_none_are_refused_when_one_is_installed(
    slack: SlackApiServer,
) -> None:
    world = HomeEndpointWorld(slack, enterprise="E0OURS")
    # An event of our team but another enterprise, and one naming no enterprise at all
    assert world.open_home(home_opened(USER), enterprise="E0EVIL")["statusCode"] == 200
    assert world.open_home(home_opened(USER), event_id="Ev2")["statusCode"] == 200
    assert world.dispatcher.jobs == []
    # while our own enterprise's is taken
    world.open_home(home_opened(USER), event_id="Ev3", enterprise="E0OURS")
    assert [job.user for job in world.home_jobs()] == [USER]


def test_url_verification_with_a_forged_signature_gets_no_challenge_back(
    world: HomeEndpointWorld,
) -> None:
    body = url_verification_body("CHALLENGE-abc")
    answer = world.send(body, content_type=JSON, signature="v0=" + "1" * 64)
    assert answer["statusCode"] == 401
    assert "CHALLENGE-abc" not in str(answer.get("body"))


def test_a_stale_retry_of_an_event_is_refused(world: HomeEndpointWorld) -> None:
    # A retry carries its own timestamp: an old copy replayed later is refused as any stale one
    body = event_callback_body(home_opened(USER), event_id="Ev0OLD")
    answer = world.send(
        body,
        content_type=JSON,
        timestamp=1_700_000_000,
        headers=retry_headers(3),
    )
    assert answer["statusCode"] == 401
    assert world.dispatcher.jobs == []


# --- the ack path's network -----------------------------------------------------------------------


class Connections:
    """Every TCP connection the process opens, by port."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ports: list[int] = []
        real = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple):
                self.ports.append(int(address[1]))
            return real(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)


def _slack_port(slack: SlackApiServer) -> int:
    match = re.search(r":(\d+)/", slack.api_url)
    assert match
    return int(match.group(1))


def test_opening_the_tab_and_refresh_make_no_network_call_on_the_ack_path(
    world: HomeEndpointWorld, slack: SlackApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = Connections(monkeypatch)
    world.open_home(home_opened(USER))
    click = view_action_body(ActionId.HOME_REFRESH.value, "", user=USER, view=HOME_VIEW)
    assert world.send(click)["statusCode"] == 200
    assert [job.reason for job in world.home_jobs()] == ["opened", "refresh"]
    assert connections.ports == []
    assert slack.state.calls == []


def test_peek_calls_views_open_alone_on_the_ack_path(
    world: HomeEndpointWorld, slack: SlackApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = Connections(monkeypatch)
    assert world.peek("orders-dlq")["statusCode"] == 200
    assert [call.method for call in slack.state.calls] == ["views.open"]
    assert set(connections.ports) == {_slack_port(slack)}
    (job,) = world.dispatcher.jobs
    assert isinstance(job, PeekViewJob) and job.queue == "orders-dlq"


HOSTILE_QUEUES = [
    "orders-dlq<!channel>",
    "<@U0BOSS>",
    "`x`",
    "<https://evil.example|orders-dlq>",
    "a" * 81,
    "",
    "orders dlq",
]


@pytest.mark.parametrize("queue", HOSTILE_QUEUES)
def test_a_peek_on_a_name_that_is_no_queue_name_runs_nothing_and_says_so_plainly(
    world: HomeEndpointWorld, slack: SlackApiServer, queue: str
) -> None:
    assert world.peek(queue)["statusCode"] == 200
    assert world.dispatcher.jobs == []
    (opened,) = [call for call in slack.state.calls if call.method == "views.open"]
    shown = json.dumps(opened.body["view"])
    for live in ("<!channel>", "<@U0BOSS>", "<https://"):
        assert live not in shown


def test_a_peek_on_the_longest_queue_name_opens_its_modal(
    world: HomeEndpointWorld, slack: SlackApiServer
) -> None:
    name = "q" * 75 + ".fifo"  # SQS: at most 80 characters, a FIFO's ending in .fifo
    world.peek(name)
    slack.state.assert_no_refusals()
    (job,) = world.dispatcher.jobs
    assert isinstance(job, PeekViewJob) and job.queue == name


# --- the published view with the worst a workspace holds ------------------------------------------

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Seoul")
# Untrusted texts: live mentions and links, code ends, entities, emoji and wide characters
# (6 bytes each once JSON-escaped: what makes a view heavy), control characters.
HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click> ``` &amp; \u202e 😈漢字\x00"


def _hostile(length: int) -> str:
    return (HOSTILE * (length // len(HOSTILE) + 1))[:length]


def _dlq(index: int) -> HomeDlq:
    name = f"{'d' * 70}-{index:04d}"[-80:]
    trend = tuple(
        TrendPoint(
            day=date(2026, 11, 17) + timedelta(days=d), depth=d * 1_000_003, exact=d % 2 == 0
        )
        for d in range(7)
    )
    scan = ScanFacts(
        dlq=name,
        scanned_at=NOW - timedelta(hours=3),
        messages=123_456_789,
        complete=index % 2 == 0,
        oldest_sent=NOW - timedelta(days=13),
        next_expiry=NOW + timedelta(days=1),
        top_errors=tuple(ErrorGroupFact(_hostile(400), 999_999_999) for _ in range(5)),
    )
    return HomeDlq(
        name=name,
        kind="standard",
        fifo=False,
        depth=10_000_000 - index,
        in_flight=120_000,
        retention_s=1_209_600,
        trend=trend,
        scan=scan,
    )


def _approval(index: int) -> PendingApproval:
    return PendingApproval(
        request_id=f"r{index:031d}",
        dlq=_hostile(200),
        action="redrive",
        matched=1_000_000,
        count_complete=False,
        selection_text=_hostile(5_000),
        requested_by="<!here>",
        requested_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        channel="<#C1|general> <!everyone>",
        message_ts=None,
        mine=True,
        may_decide=True,
    )


def _run(index: int) -> RunInProgress:
    return RunInProgress(
        run_id=_hostile(200),
        dlq=_hostile(200),
        action="redrive",
        moved=5,
        matched=10,
        started_at=NOW,
        approved_by="<@U0BOSS|boss>",
    )


def _worst(dlqs: int) -> HomeData:
    return HomeData(
        user=USER,
        read_at=NOW,
        dlqs=tuple(_dlq(i) for i in range(dlqs)),
        approvals=tuple(_approval(i) for i in range(200)),
        runs=tuple(_run(i) for i in range(200)),
        unread=tuple(_hostile(2_000) for _ in range(30)),
        problems=tuple(_hostile(2_000) for _ in range(30)),
    )


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


LIVE = re.compile(r"<[!@#]|<https?:|<mailto:|\x00|\u202e")


@pytest.mark.parametrize("dlqs", [0, 1, 47, 48, 500])
def test_the_fullest_home_tab_stays_within_every_limit_slack_sets(dlqs: int) -> None:
    view = home_view(_worst(dlqs), tz=TZ)
    # Slack's limits: 100 blocks, 3,000 characters a section, 250 KB a published view
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    View(**view).validate_json()
    for text in _texts(view["blocks"]):
        assert text_length(text) <= MAX_SECTION
    assert len(json.dumps(view).encode()) <= MAX_PUBLISHED_VIEW_BYTES
    # and nothing untrusted is live: no mention, no link, no control character
    for text in _texts(view["blocks"]):
        assert not LIVE.search(text), text[:200]


@pytest.mark.parametrize("dlqs", [49, 60, 500])
def test_dlqs_not_shown_are_counted_with_their_exact_total_depth(dlqs: int) -> None:
    data = _worst(dlqs)
    view = home_view(data, tz=TZ)
    shown = {
        json.loads(e["value"])["queue"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.HOME_PEEK.value
    }
    rest = [d for d in data.dlqs if d.name not in shown]
    assert rest, "the worst data must not all fit"
    summary = next(t for t in _texts(view["blocks"]) if "more DLQ(s)" in t)
    assert f"*…and {len(rest):,} more DLQ(s)*" in summary
    assert f"about {sum(d.depth for d in rest):,} message(s) in all" in summary


def test_the_error_view_escapes_a_hostile_problem() -> None:
    view = home_error_view(_hostile(10_000))
    View(**view).validate_json()
    for text in _texts(view["blocks"]):
        assert not LIVE.search(text)
        assert text_length(text) <= MAX_SECTION


# --- runs in progress beyond the runs looked at ------------------------------------------------


def test_runs_in_progress_are_never_said_none_beyond_the_runs_looked_at(
    sqs: Any, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given a redrive still running (orders-dlq, r-3-approved) and, since it started, 25 other
    # runs that finished: the latest 25 runs are all finished ones
    _seed(sqs)
    store = StateStore(StateTable(TABLE))
    for n in range(25):
        at = datetime.now(UTC) - timedelta(minutes=20 - n / 2)
        store.start_run(
            RunRecord(f"r-9-done-{n:02d}", "orders-dlq", "U_ALICE", "U_BOB", RunStatus.DONE, at, at)
        )
    proxy, _ = seen
    # When Bob opens his Home tab
    data = _reader(proxy.endpoint).read("U_BOB")
    text = json.dumps(home_view(data, tz=TZ)["blocks"])
    # Then the running one is not said not to exist: either shown, or the tab says how many
    # runs it looked at
    assert '*Runs in progress*: none"' not in text
    assert "r-3-approved" in text or "latest 25 runs" in text


@pytest.mark.parametrize("error", ["expired_trigger_id", "exchanged_trigger_id", "internal_error"])
def test_a_peek_modal_slack_would_not_open_is_not_tried_again_with_the_same_trigger(
    world: HomeEndpointWorld, slack: SlackApiServer, error: str
) -> None:
    # Given Slack refusing to open the peek modal (the click's trigger spent or too old)
    slack.state.refuse("views.open", error)
    # When Peek is clicked
    assert world.peek("orders-dlq")["statusCode"] == 200
    # Then the ack path asked Slack once: a trigger that opened nothing opens nothing more (a
    # second try would only add its wait to an ack due within 3 seconds), and nothing runs
    assert [call.method for call in slack.state.calls] == ["views.open"]
    assert world.dispatcher.jobs == []


# --- the peek modal when the peek fails unexpectedly -------------------------------------------


class BrokenReceiveSqs(FakeSqs):
    """SQS whose ReceiveMessage answers something the gateway did not expect (a bug's stand-in:
    any failure that is not one of ours)."""

    def receive(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected answer with secret-ish detail")


def test_a_peek_that_fails_unexpectedly_says_so_in_the_modal_not_reading_for_ever() -> None:
    # Given the worker on a DLQ whose receive fails unexpectedly, and the loading modal open
    worker, slack, job = peek_world(UNIT_KEY, BrokenReceiveSqs())
    # When the worker runs the peek job (an approver's: she may read bodies)
    signer = JobSigner(job_signing_key(UNIT_KEY))
    answer = worker.handle(signer.seal(job, datetime.now(UTC)), None)
    # Then the failure is logged as a job failure, and the modal no longer says "Reading…":
    # it names the kind of failure, not its details
    assert answer["ok"] is False
    shown = json.dumps(slack.modals.views[job.view_id]["blocks"])
    assert "Reading messages" not in shown
    assert "RuntimeError" in shown and "secret-ish" not in shown


# --- what a pending approval's selection quotes, shown to anyone who opens the tab ------------


@pytest.mark.parametrize(
    ("flags", "quoted"),
    [
        ("--where order=3", "order="),  # a body field's value, typed by a viewer
        ("--error 'card of Jane Doe declined'", "Jane Doe"),  # an error group's label
    ],
)
def test_a_pending_selection_quoting_bodies_is_not_shown_to_who_may_not_read_them(
    harness: SlackHarness, flags: str, quoted: str
) -> None:
    # Given Lambda async-invocation failures in orders-dlq (their error: "card of Jane Doe
    # declined"), and Alice (an approver: she may select by body) asking for a redrive whose
    # selection quotes what the messages hold; its card is in the ops channel
    pair = create_pair(harness.sqs, "orders")
    failed = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in (
            ("RequestID", "req-1"),
            ("ErrorCode", "200"),
            ("ErrorMessage", "card of Jane Doe declined"),
        )
    }
    put_in_dlq(harness.sqs, pair, [json.dumps({"order": 3})] * 2, attributes=failed)
    ack = harness.command(f"redrive orders-dlq {flags}")
    assert ack["statusCode"] == 200, ack
    harness.settle()
    assert harness.calls("chat.postMessage"), harness.responses()
    # When an approver and someone who may not read bodies open their Home tabs
    open_home(harness, APPROVER, event_id="Ev0APP")
    open_home(harness, OUTSIDER, event_id="Ev0OUT")
    harness.settle()
    # Then the approver sees what the request selects; the other sees the request, not what
    # it quotes (the tab reaches the whole workspace; the card, its channel only)
    assert quoted in json.dumps(published(harness, APPROVER)["blocks"])
    outsider = json.dumps(published(harness, OUTSIDER)["blocks"])
    assert "*Pending approvals* (1)" in outsider
    assert quoted not in outsider


# --- what the ack path of the tab's events loads -----------------------------------------------

_ACK_PATH_PROBE = """
import json, sys
from datetime import UTC, datetime
from slack_sdk import WebClient
from bot.config import EngineSettings, SlackSettings
from bot.slack.app import build_app
from bot.slack.runtime import SlackEndpoint
from infra.local.slack_events import (
    LOCAL_TEAM, event_callback_body, home_opened, http_event, view_action_body,
)
before = set(sys.modules)
jobs = []
class Dispatcher:
    def dispatch(self, job):
        jobs.append(job)
env = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SLACK_TEAM_ID": LOCAL_TEAM,
       "TIMEZONE": "UTC"}
app = build_app(
    slack_settings=SlackSettings.from_env(env),
    engine_settings=EngineSettings.from_env(env),
    signing_secret="s",
    client=WebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/"),
    dispatcher=Dispatcher(),
    home=lambda: (_ for _ in ()).throw(AssertionError("home endpoint made")),
    requests=lambda: (_ for _ in ()).throw(AssertionError("request endpoint made")),
)
endpoint = SlackEndpoint(app)
opened = event_callback_body(home_opened("U0ALICE"), event_id="Ev1")
click = view_action_body("dlq_redrive.home_refresh", "", user="U0ALICE", view={"id": "V1"})
answers = [
    endpoint.handle(http_event(opened, "s", content_type="application/json"), None),
    endpoint.handle(http_event(click, "s"), None),
]
print(json.dumps({
    "status": [a["statusCode"] for a in answers],
    "jobs": [type(j).__name__ for j in jobs],
    "loaded": sorted(m for m in set(sys.modules) - before if m.startswith("bot")),
}))
"""


def test_opening_the_tab_and_refresh_load_none_of_the_home_or_request_modules() -> None:
    # In a fresh interpreter: the endpoint built, then an app_home_opened and a Refresh click
    done = subprocess.run(
        [sys.executable, "-c", _ACK_PATH_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"] == [200, 200]
    assert seen["jobs"] == ["HomeJob", "HomeJob"]
    # Nothing of the tab's reading, drawing or peeking, nor the request modal, nor the engine
    heavy = {
        "bot.slack.home",
        "bot.slack.home_data",
        "bot.slack.home_view",
        "bot.slack.home_model",
        "bot.slack.home_endpoint",
        "bot.slack.peek_modal",
        "bot.slack.request_endpoint",
        "bot.slack.request_form",
        "bot.slack.request_modal_jobs",
        "bot.engine",
        "bot.catalog",
        "bot.state",
        "bot.sqs_gateway",
    }
    assert heavy.isdisjoint(seen["loaded"]), seen["loaded"]


# --- the last scan's figures are as of the scan ------------------------------------------------


def test_the_oldest_age_said_as_of_the_scan_is_its_age_at_the_scan() -> None:
    # Given a scan at 06:00 UTC whose oldest message was then 1d 6h old, and the tab read at
    # 18:00 (the message may have been redriven since: the scan cannot tell)
    scanned = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    scan = ScanFacts(
        dlq="orders-dlq",
        scanned_at=scanned,
        messages=3,
        complete=True,
        oldest_sent=scanned - timedelta(hours=30),
        next_expiry=None,
        top_errors=(),
    )
    dlq = HomeDlq("orders-dlq", "sqs", False, 3, 0, None, (), scan)
    data = HomeData(
        user=USER,
        read_at=scanned + timedelta(hours=12),
        dlqs=(dlq,),
        approvals=(),
        runs=(),
        unread=(),
    )
    text = json.dumps(home_view(data, tz=ZoneInfo("UTC"))["blocks"])
    # Then "as of 06:00 scan ... oldest" is the age it had at 06:00 (what the report said)
    assert "As of 2026-11-25 06:00" in text
    assert "oldest 1d 6h old" in text


def test_a_trend_with_days_missing_draws_them_missing_not_side_by_side() -> None:
    # Given snapshots on three of the last seven report days (the report did not run on the
    # others): 18 Nov 2, 21 Nov 10, 24 Nov 3
    days = (date(2026, 11, 18), date(2026, 11, 21), date(2026, 11, 24))
    trend = tuple(TrendPoint(d, n, True) for d, n in zip(days, (2, 10, 3), strict=True))
    dlq = HomeDlq("orders-dlq", "sqs", False, 3, 0, None, trend, None)
    data = HomeData(user=USER, read_at=NOW, dlqs=(dlq,), approvals=(), runs=(), unread=())
    text = json.dumps(home_view(data, tz=ZoneInfo("UTC"))["blocks"], ensure_ascii=False)
    # Then the sparkline spans the seven days, the missing ones marked, and says so
    assert "7d `▂··█··▃`" in text
    assert "18 Nov 2 · 21 Nov 10 · 24 Nov 3" in text
