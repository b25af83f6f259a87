"""Property tests of the selection options: whatever a user types, the answer is a valid
Selection or a clean UsageError (exit status 2, clear message), never an unhandled exception."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.cli import EXIT_USAGE, build_parser, main
from bot.errors import UsageError
from bot.selection import Selection, build_selection
from bot.sqs_gateway import SqsGateway

ZONES = st.sampled_from(["UTC", "Asia/Seoul", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
# Text that looks like what the options expect, at the edges of their ranges, or anything at all.
DATE_LIKE = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-29", "2026-13-01", "", " ", "now"]),
    st.text(max_size=40),
)
OPTIONAL_DATE = st.none() | DATE_LIKE
FIELDS = (
    st.none()
    | st.sampled_from(["occurredAt", "meta.date", ".", "a..b", " a", "a.0"])
    | st.text(max_size=20)
)


@settings(max_examples=400, deadline=None)
@given(
    zone=ZONES,
    now=INSTANTS,
    yesterday_only=st.booleans(),
    day=OPTIONAL_DATE,
    since=OPTIONAL_DATE,
    until=OPTIONAL_DATE,
    time_field=FIELDS,
    limit=st.none() | st.integers(),
)
@example(
    zone="UTC",
    now=datetime(2026, 11, 25, tzinfo=UTC),
    yesterday_only=False,
    day="9999-12-31",
    since=None,
    until=None,
    time_field=None,
    limit=None,
)
@example(
    zone="Asia/Seoul",
    now=datetime(2026, 11, 25, tzinfo=UTC),
    yesterday_only=False,
    day="0001-01-01",
    since=None,
    until=None,
    time_field=None,
    limit=None,
)
@example(
    zone="UTC",
    now=datetime(2026, 11, 25, tzinfo=UTC),
    yesterday_only=False,
    day=None,
    since="0001-01-01T00:00:00+14:00",
    until=None,
    time_field=None,
    limit=None,
)
def test_build_selection_gives_a_selection_or_a_usage_error(
    zone: str,
    now: datetime,
    yesterday_only: bool,
    day: str | None,
    since: str | None,
    until: str | None,
    time_field: str | None,
    limit: int | None,
) -> None:
    # Given any combination of selection options
    tz = ZoneInfo(zone)
    # When they are validated
    try:
        selection = build_selection(
            tz=tz,
            now=now,
            yesterday_only=yesterday_only,
            day=day,
            since=since,
            until=until,
            time_field=time_field,
            limit=limit,
        )
    except UsageError as exc:
        # Then either a clear refusal...
        assert str(exc).strip()
        return
    # ...or a selection that describes itself and whose window is well ordered
    assert isinstance(selection, Selection)
    assert selection.describe(tz)
    window = selection.window
    if window.start is not None and window.end is not None:
        assert window.start < window.end
    assert selection.limit is None or selection.limit >= 1


OPTION_NAMES = [
    "--yesterday",
    "--date",
    "--since",
    "--until",
    "--time-field",
    "--limit",
    "--to",
    "--dry-run",
    "--force",
    "--workers",
    "--rate",
    "--deadline",
    "--visibility-timeout",
    "--native",
    "--json",
    "--",
]


def _not_help(token: str) -> bool:
    # argparse answers -h/--help (and its unique prefixes) with the help text and exit 0.
    return token != "-h" and not (len(token) >= 3 and "--help".startswith(token))


TOKENS = st.lists(
    st.one_of(st.sampled_from(OPTION_NAMES), DATE_LIKE, st.integers().map(str)).filter(_not_help),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(tokens=TOKENS)
def test_redrive_options_parse_into_a_selection_or_a_usage_error(tokens: list[str]) -> None:
    # Given any sequence of redrive options and values
    argv = ["redrive", "orders-dlq", *tokens]
    # When the CLI's parser and validation read them
    try:
        args = build_parser().parse_args(argv)
        selection = build_selection(
            tz=ZoneInfo("Asia/Seoul"),
            now=datetime(2026, 11, 25, tzinfo=UTC),
            yesterday_only=args.yesterday,
            day=args.date,
            since=args.since,
            until=args.until,
            time_field=args.time_field,
            limit=args.limit,
        )
    except UsageError as exc:
        # Then a refusal that says what is wrong (it may quote the user's own text)
        assert str(exc).strip()
        return
    # ...or a valid selection
    assert isinstance(selection, Selection)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tokens=TOKENS)
@example(tokens=["--date", "9999-12-31"])
@example(tokens=["--until", "9999-12-31T23:59:59-14:00"])
@example(tokens=["\x1b]0;owned\x07", "--date", "2026-01-0\x1b[2J"])
def test_the_cli_answers_any_redrive_options_with_exit_2_and_one_line(
    tokens: list[str], gateway: SqsGateway, engine_env: dict[str, str]
) -> None:
    # Given any options, on a DLQ that does not exist (so nothing can ever move)
    argv = ["redrive", "no-such-dlq", *tokens]
    out, err = io.StringIO(), io.StringIO()
    # When the CLI runs them
    status = main(argv, env=engine_env, gateway=gateway, out=out, err=err)
    # Then it answers with usage status 2 and one error line, never a traceback, and what it
    # echoes of the input cannot drive the terminal (control characters come out escaped)
    assert status == EXIT_USAGE
    assert err.getvalue().startswith("dlq-redrive: error: ")
    line, newline, rest = err.getvalue().partition("\n")
    assert line.isprintable() and newline == "\n" and rest == ""
    assert "Traceback" not in err.getvalue()
    assert out.getvalue() == ""
