"""One contract for the state table, run against ``StateTable`` on moto's DynamoDB and against
``FakeStateTable``: what the stores rely on (conditions, updates, queries, transactions and the
errors DynamoDB answers) behaves the same in both, so the fake cannot drift from the real one."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from bot.errors import AwsError
from bot.state_table import StateTable, create_state_table
from bot.state_table_api import (
    ConditionCheck,
    ConditionFailedError,
    Put,
    StateTableApi,
    TransactionCanceledError,
    Update,
    Write,
    key,
)
from tests.unit.fake_state_table import FakeStateTable

TABLE = "contract-state"


@pytest.fixture(params=["dynamodb", "fake"])
def table(request: pytest.FixtureRequest) -> StateTableApi:
    if request.param == "fake":
        return FakeStateTable(TABLE)
    request.getfixturevalue("aws")  # a clean moto server
    create_state_table(boto3.client("dynamodb"), TABLE)
    return StateTable(TABLE)


def item(pk: str, sk: str, **attributes: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **attributes}


def n(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


def s(value: str) -> dict[str, str]:
    return {"S": value}


def test_an_item_put_is_read_back_and_a_missing_one_is_none(table: StateTableApi) -> None:
    # Given one item
    table.put(item("A", "1", count=n(3), name_=s("x")), doing="put")
    # When it and an absent one are read
    # Then the item comes back as written, and the absent one as None
    assert table.get(key("A", "1"), doing="get") == item("A", "1", count=n(3), name_=s("x"))
    assert table.get(key("A", "2"), doing="get") is None


def test_a_put_whose_condition_is_false_raises_and_writes_nothing(table: StateTableApi) -> None:
    # Given an item
    table.put(item("A", "1", v=s("first")), doing="put")
    # When the same key is put again only if absent
    with pytest.raises(ConditionFailedError) as refused:
        table.put(item("A", "1", v=s("second")), condition="attribute_not_exists(pk)", doing="p")
    # Then the condition error says what was being done, and the first item stands
    assert refused.value.code == "ConditionalCheckFailedException"
    assert "the state table refused to p" in str(refused.value)
    assert table.get(key("A", "1"), doing="get") == item("A", "1", v=s("first"))


def test_an_update_creates_the_item_and_answers_it_as_it_is_afterwards(
    table: StateTableApi,
) -> None:
    # Given no item
    # When it is updated with SET, if_not_exists and ADD, twice
    expression = "SET #s = :s, opened = if_not_exists(opened, :s) ADD moved :n"
    values = {":s": s("one"), ":n": n(5)}
    first = table.update(
        key("R", "1"), expression, names={"#s": "status"}, values=values, doing="u"
    )
    values = {":s": s("two"), ":n": n(7)}
    second = table.update(
        key("R", "1"), expression, names={"#s": "status"}, values=values, doing="u"
    )
    # Then the first created it, the second added to the count and kept if_not_exists's value
    assert first == item("R", "1", status=s("one"), opened=s("one"), moved=n(5))
    assert second == item("R", "1", status=s("two"), opened=s("one"), moved=n(12))
    # And REMOVE takes an attribute away
    third = table.update(
        key("R", "1"), "REMOVE opened SET moved = moved - :n", values={":n": n(2)}, doing="u"
    )
    assert third == item("R", "1", status=s("two"), moved=n(10))


def test_an_update_whose_condition_is_false_raises_and_writes_nothing(
    table: StateTableApi,
) -> None:
    # Given a run at invocation 2
    table.put(item("RUNS", "r1", invocation=n(2), moved=n(0)), doing="put")
    # When invocation 1 tries to save its progress
    with pytest.raises(ConditionFailedError):
        table.update(
            key("RUNS", "r1"),
            "SET moved = :moved",
            condition="invocation = :expected",
            values={":moved": n(9), ":expected": n(1)},
            doing="save",
        )
    # Then nothing changed
    assert table.get(key("RUNS", "r1"), doing="get") == item(
        "RUNS", "r1", invocation=n(2), moved=n(0)
    )


LEASE_CONDITION = (
    "attribute_not_exists(#pk) OR #ttl < :now_s OR "
    "(#state = :running AND (#until < :now_ms OR #owner = :me))"
)


@pytest.mark.parametrize(
    ("stored", "claims"),
    [
        (None, True),  # no lease yet
        ({"state": s("running"), "until_ms": n(500), "owner": s("b"), "ttl": n(9)}, True),
        ({"state": s("running"), "until_ms": n(5000), "owner": s("a"), "ttl": n(9)}, True),
        ({"state": s("running"), "until_ms": n(5000), "owner": s("b"), "ttl": n(9)}, False),
        ({"state": s("done"), "until_ms": n(0), "owner": s("b"), "ttl": n(9)}, False),
        ({"state": s("done"), "until_ms": n(0), "owner": s("b"), "ttl": n(0)}, True),  # expired
    ],
)
def test_a_condition_with_or_and_parentheses_and_comparisons_decides_as_dynamodb(
    table: StateTableApi, stored: dict[str, Any] | None, claims: bool
) -> None:
    # Given a lease item as stored (or none)
    if stored is not None:
        table.put(item("L", "lease", **stored), doing="put")
    # When owner "a" claims it at 1000 ms (second 1)
    names = {
        "#pk": "pk",
        "#ttl": "ttl",
        "#state": "state",
        "#until": "until_ms",
        "#owner": "owner",
    }
    values = {
        ":now_s": n(1),
        ":running": s("running"),
        ":now_ms": n(1000),
        ":me": s("a"),
    }
    try:
        table.update(
            key("L", "lease"),
            "SET #owner = :me, #state = :running",
            condition=LEASE_CONDITION,
            names=names,
            values=values,
            doing="claim",
        )
        claimed = True
    except ConditionFailedError:
        claimed = False
    # Then it is claimed exactly when nobody else holds it
    assert claimed is claims


def test_in_between_begins_with_not_and_a_missing_attribute(table: StateTableApi) -> None:
    # Given a continuing run
    table.put(item("RUNS", "r1", status_=s("continuing"), n_=n(5)), doing="put")

    def holds(condition: str, **values: Any) -> bool:
        try:
            table.put(
                item("RUNS", "r1", status_=s("continuing"), n_=n(5)),
                condition=condition,
                values=values,
                doing="check",
            )
        except ConditionFailedError:
            return False
        return True

    # Then each operator answers as DynamoDB does
    assert holds("status_ IN (:a, :b)", **{":a": s("running"), ":b": s("continuing")})
    assert not holds("status_ IN (:a)", **{":a": s("running")})
    assert holds("n_ BETWEEN :lo AND :hi", **{":lo": n(5), ":hi": n(10)})
    assert not holds("n_ BETWEEN :lo AND :hi", **{":lo": n(6), ":hi": n(10)})
    assert holds("begins_with(status_, :p)", **{":p": s("cont")})
    assert holds("NOT attribute_exists(absent) AND attribute_exists(sk)")
    # A missing attribute: "<>" is true, every other comparison false
    assert holds("absent <> :v", **{":v": n(1)})
    assert not holds("absent = :v", **{":v": n(1)})
    assert not holds("absent < :v", **{":v": n(1)})
    # Numbers compare by value, not as text
    assert holds("n_ > :v", **{":v": n(10)}) is False
    assert holds("n_ < :v", **{":v": n(10)})


def test_a_query_reads_one_partition_in_sort_key_order(table: StateTableApi) -> None:
    # Given items in two partitions
    for sk in ["EVENT#2", "EVENT#1", "REQUEST", "EVENT#3"]:
        table.put(item("REQUEST#1", sk), doing="put")
    table.put(item("REQUEST#2", "EVENT#9"), doing="put")

    # When the partition is queried in several ways
    def sks(**how: Any) -> list[str]:
        return [i["sk"]["S"] for i in table.query("REQUEST#1", doing="q", **how)]

    # Then only its items come back, in order, filtered and limited as asked
    assert sks() == ["EVENT#1", "EVENT#2", "EVENT#3", "REQUEST"]
    assert sks(sk_prefix="EVENT#") == ["EVENT#1", "EVENT#2", "EVENT#3"]
    assert sks(sk_between=("EVENT#2", "EVENT#3")) == ["EVENT#2", "EVENT#3"]
    assert sks(newest_first=True, limit=2) == ["REQUEST", "EVENT#3"]
    assert table.query("NONE", doing="q") == []


def test_batch_get_answers_the_items_that_exist(table: StateTableApi) -> None:
    # Given two of three items
    table.put(item("REDRIVES#d", "a", redrives=n(1)), doing="put")
    table.put(item("REDRIVES#d", "b", redrives=n(2)), doing="put")
    # When all three are asked for
    got = table.batch_get([key("REDRIVES#d", x) for x in "abc"], doing="read")
    # Then the two come back
    assert sorted(i["sk"]["S"] for i in got) == ["a", "b"]
    # And the same key twice is refused, as DynamoDB refuses it
    with pytest.raises(AwsError) as refused:
        table.batch_get([key("REDRIVES#d", "a"), key("REDRIVES#d", "a")], doing="read")
    assert refused.value.code == "ValidationException"


def test_a_transaction_with_a_false_condition_writes_nothing_and_says_which(
    table: StateTableApi,
) -> None:
    # Given a request already approved
    table.put(item("REQUEST#1", "REQUEST", status_=s("approved")), doing="put")
    # When a second approval and its run are written together
    writes: list[Write] = [
        Put(item("RUNS", "r2", status_=s("running")), condition="attribute_not_exists(pk)"),
        Update(
            key("REQUEST#1", "REQUEST"),
            "SET status_ = :a",
            condition="status_ = :p",
            values={":a": s("approved"), ":p": s("pending")},
        ),
    ]
    with pytest.raises(TransactionCanceledError) as cancelled:
        table.transact(writes, doing="approve")
    # Then it is cancelled with one reason per write, and the run was not written either
    assert cancelled.value.reasons == ("None", "ConditionalCheckFailed")
    assert cancelled.value.condition_failed
    assert table.get(key("RUNS", "r2"), doing="get") is None


def test_a_transaction_whose_conditions_hold_writes_everything(table: StateTableApi) -> None:
    # Given a pending request
    table.put(item("REQUEST#1", "REQUEST", status_=s("pending")), doing="put")
    table.put(item("GUARD", "g", open_=s("yes")), doing="put")
    # When its approval, its run and a check of another item are written together
    table.transact(
        [
            Update(
                key("REQUEST#1", "REQUEST"),
                "SET status_ = :a",
                condition="status_ = :p",
                values={":a": s("approved"), ":p": s("pending")},
            ),
            Put(item("RUNS", "r1", status_=s("running")), condition="attribute_not_exists(pk)"),
            ConditionCheck(key("GUARD", "g"), "open_ = :y", values={":y": s("yes")}),
        ],
        doing="approve",
    )
    # Then both writes happened
    assert table.get(key("REQUEST#1", "REQUEST"), doing="get") == item(
        "REQUEST#1", "REQUEST", status_=s("approved")
    )
    assert table.get(key("RUNS", "r1"), doing="get") == item("RUNS", "r1", status_=s("running"))


def test_a_transaction_may_not_write_one_item_twice(table: StateTableApi) -> None:
    with pytest.raises(AwsError) as refused:
        table.transact(
            [Put(item("A", "1")), Update(key("A", "1"), "SET v = :v", values={":v": n(1)})],
            doing="write",
        )
    assert refused.value.code == "ValidationException"
    assert table.get(key("A", "1"), doing="get") is None


@pytest.mark.parametrize(
    ("expression", "condition", "names", "values"),
    [
        # a value given but not used
        ("SET v = :v", None, {}, {":v": n(1), ":unused": n(2)}),
        # a name given but not used
        ("SET v = :v", None, {"#x": "x"}, {":v": n(1)}),
        # a value used but not given
        ("SET v = :v", None, {}, {}),
        # a reserved word used as a name
        ("SET status = :v", None, {}, {":v": n(1)}),
        # a key attribute updated
        ("SET sk = :v", None, {}, {":v": s("2")}),
        # arithmetic on an attribute the item does not have
        ("SET v = absent + :v", None, {}, {":v": n(1)}),
    ],
)
def test_what_dynamodb_refuses_as_invalid_is_refused(
    table: StateTableApi,
    expression: str,
    condition: str | None,
    names: dict[str, str],
    values: dict[str, Any],
) -> None:
    # Given an item
    table.put(item("A", "1", v=n(0)), doing="put")
    # When an invalid update is sent
    with pytest.raises(AwsError) as refused:
        table.update(
            key("A", "1"), expression, condition=condition, names=names, values=values, doing="u"
        )
    # Then it is refused as a ValidationException and nothing changed
    assert refused.value.code == "ValidationException"
    assert "the state table refused to u" in str(refused.value)
    assert table.get(key("A", "1"), doing="get") == item("A", "1", v=n(0))


def test_an_item_over_400_kb_is_refused(table: StateTableApi) -> None:
    with pytest.raises(AwsError) as refused:
        table.put(item("A", "1", blob={"B": b"x" * (400 * 1024 + 1)}), doing="save")
    assert refused.value.code == "ValidationException"
    assert table.get(key("A", "1"), doing="get") is None
