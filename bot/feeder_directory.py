"""``FeederDirectory`` on AWS: every configured kind's feeders, each kind read in its own thread.

No boto3 here: it takes the gateways' discovery calls (``bot.sns_gateway``,
``bot.events_gateway``, ``bot.lambda_gateway``; each makes its client on first use). A kind that
cannot be read (AccessDenied, throttled, unreachable) goes to ``FeederScan.unread`` with AWS's
code and words, and so do the items of a kind it could not read one by one: the scan never
raises, and "no feeder found" is never said of what was not read.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from bot.errors import AwsError
from bot.feeder_discovery import FeederRead
from bot.feeders import Feeder, FeederScan, Kind

# The order the kinds are read and reported in (SQS sources are the catalog's, not a feeder).
FEEDER_KINDS = (Kind.SNS, Kind.EVENTS, Kind.LAMBDA)


class SubscriptionFeeders(Protocol):
    def subscription_feeders(self) -> FeederRead: ...


class TargetFeeders(Protocol):
    def target_feeders(self) -> FeederRead: ...


class FunctionFeeders(Protocol):
    def function_feeders(self) -> FeederRead: ...


class FeederDirectoryGateway:
    """Reads only the kinds in ``kinds`` (``EngineSettings.dlq_kinds``), through
    ``bot.sns_gateway.SnsGateway``, ``bot.events_gateway.EventsGateway`` and
    ``bot.lambda_gateway.LambdaRedriveGateway`` (None for a kind not configured)."""

    def __init__(
        self,
        sns: SubscriptionFeeders | None,
        events: TargetFeeders | None,
        lambda_: FunctionFeeders | None,
        kinds: frozenset[Kind],
    ) -> None:
        readers: dict[Kind, Callable[[], FeederRead] | None] = {
            Kind.SNS: sns.subscription_feeders if sns is not None else None,
            Kind.EVENTS: events.target_feeders if events is not None else None,
            Kind.LAMBDA: lambda_.function_feeders if lambda_ is not None else None,
        }
        self.readers = {
            kind: read
            for kind in FEEDER_KINDS
            if kind in kinds and (read := readers[kind]) is not None
        }

    def feeders(self) -> FeederScan:
        kinds = list(self.readers)
        if not kinds:
            return FeederScan(())
        with ThreadPoolExecutor(len(kinds), thread_name_prefix="feeder-kinds") as pool:
            results = list(pool.map(self._read, kinds))
        feeders: list[Feeder] = []
        unread: list[tuple[Kind, str]] = []
        for kind, (read, refused) in zip(kinds, results, strict=True):
            if read is None:
                unread.append((kind, refused or "not read"))
                continue
            feeders.extend(read.feeders)
            unread.extend((kind, gap) for gap in read.gaps())
        return FeederScan(tuple(feeders), tuple(unread))

    def _read(self, kind: Kind) -> tuple[FeederRead | None, str | None]:
        try:
            return self.readers[kind](), None
        except AwsError as exc:
            # "AccessDenied: AWS refused listing subscriptions: User ... is not authorized": the
            # code first (what the surfaces group by), not repeated inside the words.
            return None, f"{exc.code}: {str(exc).replace(f': {exc.code}: ', ': ', 1)}"
