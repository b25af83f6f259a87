"""The one module that calls EventBridge: discovery of the rule targets that dead-letter into a
queue. Nothing here puts events: a redrive delivers to the target that failed, never PutEvents
(it would match every rule on the bus again).

boto3 finds a local server through ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_EVENTS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import aws_client
from bot.aws_errors import aws_error, describe_client_error
from bot.feeder_discovery import FeederRead, in_scope, target_feeder
from bot.feeders import Feeder

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

DISCOVERY_THREADS = 8
# A rule deleted between ListRules and ListTargetsByRule.
_GONE = frozenset({"ResourceNotFoundException"})


class EventsGateway:
    """EventBridge on boto3; the client is made on first use unless one is given. ``buses``,
    ``rules``: the globs of the buses and rules whose targets are read
    (``EngineSettings.event_buses``, ``event_rules``)."""

    def __init__(
        self,
        client: EventBridgeClient | None = None,
        *,
        buses: Sequence[str] = (),
        rules: Sequence[str] = (),
    ) -> None:
        self._client = client
        self.buses = tuple(buses)
        self.rules = tuple(rules)

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            self._client = aws_client("events", max_pool_connections=DISCOVERY_THREADS)
        return self._client

    def target_feeders(self) -> FeederRead:
        """Every rule target with a DeadLetterConfig into a queue, on every event bus
        (ListEventBuses, ListRules per bus, then ListTargetsByRule per rule in 8 threads).
        AwsError if the buses or a bus's rules cannot be listed; a rule whose targets cannot be
        read is kept in ``failed`` with AWS's code."""
        client = self.client
        rules: list[tuple[str, str, str]] = []  # (bus, rule name, rule ARN)
        try:
            for bus in self._bus_names():
                if not in_scope(bus, self.buses):
                    continue
                for page in client.get_paginator("list_rules").paginate(EventBusName=bus):
                    rules.extend(
                        (bus, r["Name"], r["Arn"])
                        for r in page.get("Rules", [])
                        if in_scope(r["Name"], self.rules)
                    )
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("EventBridge", "listing event buses and rules", exc) from exc
        with ThreadPoolExecutor(DISCOVERY_THREADS, thread_name_prefix="events-discovery") as pool:
            read = list(pool.map(self._targets, rules))
        feeders = tuple(f for found, _ in read for f in found)
        failed = tuple(
            (f"{bus}/{name}", code)
            for (bus, name, _), (_, code) in zip(rules, read, strict=True)
            if code
        )
        return FeederRead(feeders, examined=len(rules), noun="rules", failed=failed)

    def _bus_names(self) -> list[str]:
        # ListEventBuses has no paginator in botocore: follow NextToken by hand.
        names: list[str] = []
        request: dict[str, Any] = {}
        while True:
            page = self.client.list_event_buses(**request)
            names.extend(bus["Name"] for bus in page.get("EventBuses", []) if bus.get("Name"))
            token = page.get("NextToken")
            if not token:
                return names
            request = {"NextToken": token}

    def _targets(self, rule: tuple[str, str, str]) -> tuple[list[Feeder], str | None]:
        """(the rule's feeders, None) or ([], AWS's code) when its targets could not be read."""
        bus, name, arn = rule
        found: list[Feeder] = []
        try:
            for page in self.client.get_paginator("list_targets_by_rule").paginate(
                Rule=name, EventBusName=bus
            ):
                for target in page.get("Targets", []):
                    feeder = target_feeder(bus, name, arn, dict(target))
                    if feeder is not None:
                        found.append(feeder)
        except (ClientError, BotoCoreError) as exc:
            code, _ = describe_client_error(exc)
            return [], None if code in _GONE else code
        return found, None
