"""A hand-written in-memory state table with ``StateTableApi``'s methods, for tests without a
server. tests/integration/test_state_table_contract.py runs the same tests against it and against
``bot.state_table.StateTable`` on moto, so it cannot drift from the real one.

It follows DynamoDB's documented semantics for what the stores use, the unpleasant ones included
(quoted from the DynamoDB Developer Guide and API Reference where they matter):

- expressions are parsed and evaluated, not pattern-matched: comparisons (``= <> < <= > >=``),
  ``BETWEEN``, ``IN``, ``AND`` / ``OR`` / ``NOT``, parentheses, ``attribute_exists``,
  ``attribute_not_exists``, ``begins_with``, ``contains``, ``size``; updates with ``SET`` (``+``,
  ``-``, ``if_not_exists``, ``list_append``), ``REMOVE``, ``ADD``, ``DELETE``; top-level attribute
  names only (the stores use no nested paths: the fake refuses them rather than guess);
- a false condition raises ``ConditionFailedError`` and writes nothing;
- "TransactWriteItems is a synchronous write operation that groups up to 100 action requests ...
  The actions are completed atomically so that either all of them succeed, or all of them fail"
  (API Reference, TransactWriteItems); a false condition cancels it with one reason per action:
  "If a condition in one of the condition expressions is not met", the reasons read ``None`` for
  the others and ``ConditionalCheckFailed`` for the false ones; "you can't target the same item
  with multiple operations within the same transaction" (a ValidationException);
- ValidationException, as DynamoDB answers, for an expression value or name that is not used
  ("Value provided in ExpressionAttributeValues unused in expressions"), one that is not given,
  a reserved word used as a name ("Attribute name is a reserved keyword"), an update of a key
  attribute ("Cannot update attribute pk. This attribute is part of the key"), arithmetic on a
  missing attribute or a non-number, ADD to something that is neither a number nor a set, an item
  over 400 KB ("The maximum item size in DynamoDB is 400 KB, which includes both attribute name
  binary length (UTF-8 length) and attribute value lengths"), duplicate keys in one BatchGetItem;
- "UpdateItem: Edits an existing item's attributes, or adds a new item to the table if it does not
  already exist";
- TTL deletes nothing here: "Items that are past their expiration, but have not yet been deleted
  can still be updated" and DynamoDB deletes them "typically within a few days", so a reader must
  treat an expired item as absent itself (the unpleasant case: it is always still there);
- a comparison with a missing attribute is false, except ``<>``, which is true (as DynamoDB and
  moto answer); values of different types are never equal and never ordered.

Faults: ``fail_call(operation)`` returning an error code makes that call fail with it (the table
unavailable, throttled); ``unprocessed`` keys a BatchGetItem never returns (throttling past
the gateway's retries).
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

from bot.errors import AwsError
from bot.state_schema import PARTITION_KEY, SORT_KEY
from bot.state_table_api import (
    ConditionCheck,
    ConditionFailedError,
    Item,
    Key,
    Names,
    Put,
    TransactionCanceledError,
    Update,
    Values,
    Write,
)

MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACT_ACTIONS = 100
# DynamoDB's reserved words (Developer Guide, "Reserved words in DynamoDB"), as moto ships them.
RESERVED = frozenset(word.upper() for word in ReservedKeywords.get_reserved_keywords())

_TOKEN = re.compile(r"\s*(?:(<>|<=|>=|[=<>(),+\-\[\].])|([#:]?[A-Za-z0-9_]+))")
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}


def _validation(message: str) -> AwsError:
    return AwsError(message, code="ValidationException")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _validation(f"Invalid expression: syntax error near {text[position:]!r}")
        out.append(match.group(1) or match.group(2))
        position = match.end()
    return out


@dataclass
class _Context:
    """The names and values of one request, and which of them its expressions used."""

    names: Mapping[str, str]
    values: Mapping[str, Any]
    used_names: set[str]
    used_values: set[str]

    def name(self, token: str) -> str:
        if token.startswith("#"):
            if token not in self.names:
                raise _validation(
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {token}"
                )
            self.used_names.add(token)
            return self.names[token]
        if token.upper() in RESERVED:
            raise _validation(f"Attribute name is a reserved keyword; reserved keyword: {token}")
        return token

    def value(self, token: str) -> Any:
        if token not in self.values:
            raise _validation(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {token}"
            )
        self.used_values.add(token)
        return self.values[token]

    def check_all_used(self) -> None:
        for kind, given, used in (
            ("Names", self.names, self.used_names),
            ("Values", self.values, self.used_values),
        ):
            unused = sorted(set(given) - used)
            if unused:
                raise _validation(
                    f"Value provided in ExpressionAttribute{kind} unused in expressions: "
                    f"keys: {{{', '.join(unused)}}}"
                )


class _Parser:
    """Recursive descent over one expression's tokens, evaluating against ``item`` as it goes."""

    def __init__(self, text: str, context: _Context) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.context = context

    def peek(self, offset: int = 0) -> str | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.upper() in words

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise _validation(f"Invalid expression: expected {expected or 'more'}, got {token}")
        self.at += 1
        return token

    def done(self) -> None:
        if self.peek() is not None:
            raise _validation(f"Invalid expression: unexpected {self.peek()}")

    # --- operands -----------------------------------------------------------------------------

    def path(self) -> str:
        token = self.take()
        if token.startswith(":") or not re.fullmatch(r"#?[A-Za-z0-9_]+", token):
            raise _validation(f"Invalid expression: {token} is not an attribute name")
        if self.peek() in (".", "["):
            raise NotImplementedError("the fake state table reads top-level attributes only")
        return self.context.name(token)

    def operand(self, item: Item) -> Any:
        """An attribute's value (None: missing), an expression value, or ``size(path)``."""
        token = self.peek()
        if token is not None and token.startswith(":"):
            return self.context.value(self.take())
        if token is not None and token.lower() == "size" and self.peek(1) == "(":
            self.take()
            self.take("(")
            value = item.get(self.path())
            self.take(")")
            return None if value is None else {"N": str(_size(value))}
        return item.get(self.path())

    # --- conditions ---------------------------------------------------------------------------

    def condition(self, item: Item) -> bool:
        result = self._and(item)
        while self.keyword("OR"):
            self.take()
            right = self._and(item)
            result = result or right
        return result

    def _and(self, item: Item) -> bool:
        result = self._not(item)
        while self.keyword("AND"):
            self.take()
            right = self._not(item)
            result = result and right
        return result

    def _not(self, item: Item) -> bool:
        if self.keyword("NOT"):
            self.take()
            return not self._not(item)
        return self._primary(item)

    def _primary(self, item: Item) -> bool:
        if self.peek() == "(":
            self.take()
            result = self.condition(item)
            self.take(")")
            return result
        token = (self.peek() or "").lower()
        if self.peek(1) == "(" and token in _FUNCTIONS:
            self.take()
            self.take("(")
            result = _FUNCTIONS[token](self, item)
            self.take(")")
            return result
        left = self.operand(item)
        if self.keyword("BETWEEN"):
            self.take()
            low = self.operand(item)
            self.take("AND")
            high = self.operand(item)
            return _compare(left, ">=", low) and _compare(left, "<=", high)
        if self.keyword("IN"):
            self.take()
            self.take("(")
            options = [self.operand(item)]
            while self.peek() == ",":
                self.take()
                options.append(self.operand(item))
            self.take(")")
            return any(_compare(left, "=", option) for option in options)
        comparator = self.take()
        if comparator not in _COMPARATORS:
            raise _validation(f"Invalid expression: unexpected {comparator}")
        return _compare(left, comparator, self.operand(item))

    # --- updates ------------------------------------------------------------------------------

    def update(self, item: Item) -> Item:
        """The item after the update expression (``item`` itself is not changed)."""
        before, after = item, copy.deepcopy(item)
        clauses: set[str] = set()
        touched: set[str] = set()
        while self.peek() is not None:
            clause = self.take().upper()
            if clause not in ("SET", "REMOVE", "ADD", "DELETE") or clause in clauses:
                raise _validation(f"Invalid UpdateExpression: unexpected {clause}")
            clauses.add(clause)
            while True:
                name = self.path()
                if name in (PARTITION_KEY, SORT_KEY):
                    raise _validation(
                        "One or more parameter values were invalid: Cannot update attribute "
                        f"{name}. This attribute is part of the key"
                    )
                if name in touched:
                    raise _validation("Invalid UpdateExpression: Two document paths overlap")
                touched.add(name)
                self._action(clause, name, before, after)
                if self.peek() != ",":
                    break
                self.take()
        return after

    def _action(self, clause: str, name: str, before: Item, after: Item) -> None:
        if clause == "REMOVE":
            after.pop(name, None)
        elif clause == "SET":
            self.take("=")
            after[name] = self._set_value(before)
        elif clause == "ADD":
            after[name] = _add(before.get(name), self.context.value(self.take()))
        else:  # DELETE: elements out of a set; a set left empty is removed
            remaining = _delete(before.get(name), self.context.value(self.take()))
            if remaining is None:
                after.pop(name, None)
            else:
                after[name] = remaining

    def _set_value(self, item: Item) -> Any:
        left = self._set_operand(item)
        if self.peek() in ("+", "-"):
            sign = self.take()
            right = self._set_operand(item)
            if left is None or right is None:
                raise _validation(
                    "The provided expression refers to an attribute that does not exist in the item"
                )
            if "N" not in left or "N" not in right:
                raise _validation("An operand in the update expression has an incorrect data type")
            a, b = Decimal(left["N"]), Decimal(right["N"])
            return {"N": _number(a + b if sign == "+" else a - b)}
        if left is None:
            raise _validation(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return left

    def _set_operand(self, item: Item) -> Any:
        token = (self.peek() or "").lower()
        if token == "if_not_exists" and self.peek(1) == "(":
            self.take()
            self.take("(")
            current = item.get(self.path())
            self.take(",")
            fallback = self._set_operand(item)
            self.take(")")
            return current if current is not None else fallback
        if token == "list_append" and self.peek(1) == "(":
            self.take()
            self.take("(")
            first = self._set_operand(item)
            self.take(",")
            second = self._set_operand(item)
            self.take(")")
            if first is None or second is None or "L" not in first or "L" not in second:
                raise _validation("An operand in the update expression has an incorrect data type")
            return {"L": first["L"] + second["L"]}
        return self.operand(item)


def _attribute_exists(parser: _Parser, item: Item) -> bool:
    return parser.path() in item


def _attribute_not_exists(parser: _Parser, item: Item) -> bool:
    return parser.path() not in item


def _begins_with(parser: _Parser, item: Item) -> bool:
    value = item.get(parser.path())
    parser.take(",")
    prefix = parser.operand(item)
    if value is None or prefix is None:
        return False
    for kind in ("S", "B"):
        if kind in value and kind in prefix:
            return bool(value[kind].startswith(prefix[kind]))
    return False


def _contains(parser: _Parser, item: Item) -> bool:
    value = item.get(parser.path())
    parser.take(",")
    wanted = parser.operand(item)
    if value is None or wanted is None:
        return False
    if "S" in value and "S" in wanted:
        return bool(wanted["S"] in value["S"])
    for kind, member in (("SS", "S"), ("NS", "N"), ("BS", "B")):
        if kind in value and member in wanted:
            return wanted[member] in value[kind]
    if "L" in value:
        return any(_compare(element, "=", wanted) for element in value["L"])
    return False


_FUNCTIONS: dict[str, Callable[[_Parser, Item], bool]] = {
    "attribute_exists": _attribute_exists,
    "attribute_not_exists": _attribute_not_exists,
    "begins_with": _begins_with,
    "contains": _contains,
}


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _sortable(value: Any) -> tuple[str, Any] | None:
    """(type, comparable) of a scalar, or None for a document or set (not ordered)."""
    if "N" in value:
        return "N", Decimal(value["N"])
    if "S" in value:
        return "S", value["S"].encode("utf-8")  # DynamoDB orders strings by their UTF-8 bytes
    if "B" in value:
        return "B", bytes(value["B"])
    return None


def _compare(left: Any, comparator: str, right: Any) -> bool:
    if left is None or right is None:
        return comparator == "<>"
    if comparator in ("=", "<>"):
        equal = _canonical(left) == _canonical(right)
        return equal if comparator == "=" else not equal
    a, b = _sortable(left), _sortable(right)
    if a is None or b is None or a[0] != b[0]:
        return False
    ordered: dict[str, bool] = {
        "<": a[1] < b[1],
        "<=": a[1] <= b[1],
        ">": a[1] > b[1],
        ">=": a[1] >= b[1],
    }
    return ordered[comparator]


def _canonical(value: Any) -> Any:
    """A value in a form where equal attribute values are equal (numbers by value, sets
    unordered)."""
    (kind, inner), *_ = value.items()
    if kind == "N":
        return kind, Decimal(inner)
    if kind in ("SS", "BS"):
        return kind, frozenset(inner)
    if kind == "NS":
        return kind, frozenset(Decimal(n) for n in inner)
    if kind == "M":
        return kind, tuple(sorted((k, _canonical(v)) for k, v in inner.items()))
    if kind == "L":
        return kind, tuple(_canonical(v) for v in inner)
    return kind, inner


def _add(current: Any, change: Any) -> Any:
    if "N" in change:
        if current is None:
            return dict(change)
        if "N" not in current:
            raise _validation("An operand in the update expression has an incorrect data type")
        return {"N": _number(Decimal(current["N"]) + Decimal(change["N"]))}
    for kind in ("SS", "NS", "BS"):
        if kind in change:
            if current is None:
                return {kind: list(change[kind])}
            if kind not in current:
                raise _validation("An operand in the update expression has an incorrect data type")
            return {kind: current[kind] + [v for v in change[kind] if v not in current[kind]]}
    raise _validation(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD"
    )


def _delete(current: Any, change: Any) -> Any:
    for kind in ("SS", "NS", "BS"):
        if kind in change:
            if current is None:
                return None
            left = [v for v in current.get(kind, []) if v not in change[kind]]
            return {kind: left} if left else None
    raise _validation(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator: DELETE"
    )


def _size(value: Any) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind in ("B", "SS", "NS", "BS", "L", "M"):
        return len(inner)
    return len(str(inner))


def _value_bytes(value: Any) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "B":
        return len(inner)
    if kind == "N":
        return len(inner)  # an estimate: DynamoDB stores about one byte per two digits
    if kind in ("SS", "NS"):
        return sum(len(str(v).encode("utf-8")) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _value_bytes(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in inner)
    return 1  # BOOL, NULL


def _item_key(item_or_key: Mapping[str, Any]) -> tuple[str, str]:
    try:
        return item_or_key[PARTITION_KEY]["S"], item_or_key[SORT_KEY]["S"]
    except (KeyError, TypeError):
        raise _validation(
            "One or more parameter values were invalid: Missing the key pk or sk in the item"
        ) from None


class FakeStateTable:
    """``StateTableApi`` in memory. ``items`` maps (pk, sk) to the item."""

    def __init__(self, name: str = "state") -> None:
        self.name = name
        self.items: dict[tuple[str, str], Item] = {}
        self.calls: list[str] = []
        self.fail_call: Callable[[str], str | None] = lambda operation: None
        self.unprocessed: set[tuple[str, str]] = set()
        self._lock = threading.RLock()  # the daily job writes snapshots from several threads

    # --- the gateway's methods ---

    def get(self, key: Key, *, doing: str) -> Item | None:
        with self._call("get", doing):
            found = self.items.get(_item_key(key))
            return copy.deepcopy(found)

    def put(
        self,
        item: Item,
        *,
        doing: str,
        condition: str | None = None,
        names: Names | None = None,
        values: Values | None = None,
    ) -> None:
        with self._call("put", doing):
            new = self._checked_put(Put(item, condition, names or {}, values or {}), doing)
            self.items[_item_key(item)] = new

    def update(
        self,
        key: Key,
        expression: str,
        *,
        doing: str,
        condition: str | None = None,
        names: Names | None = None,
        values: Values | None = None,
    ) -> Item:
        with self._call("update", doing):
            write = Update(key, expression, condition, names or {}, values or {})
            new = self._checked_update(write, doing)
            self.items[_item_key(key)] = new
            return copy.deepcopy(new)

    def query(
        self,
        pk: str,
        *,
        doing: str,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        with self._call("query", doing):
            chosen = [
                (sk.encode("utf-8"), item)
                for (p, sk), item in self.items.items()
                if p == pk
                and (sk_prefix is None or sk.startswith(sk_prefix))
                and (sk_between is None or sk_between[0] <= sk <= sk_between[1])
            ]
            chosen.sort(key=lambda pair: pair[0], reverse=newest_first)
            found = [copy.deepcopy(item) for _, item in chosen]
            return found if limit is None else found[:limit]

    def batch_get(self, keys: Sequence[Key], *, doing: str) -> list[Item]:
        with self._call("batch_get", doing):
            wanted = [_item_key(k) for k in keys]
            if len(set(wanted)) != len(wanted):
                raise _validation("Provided list of item keys contains duplicates")
            if self.unprocessed & set(wanted):
                raise AwsError(
                    f"the state table left items unread to {doing} (throttled)",
                    code="ProvisionedThroughputExceededException",
                )
            return [copy.deepcopy(self.items[k]) for k in wanted if k in self.items]

    def transact(self, writes: Sequence[Write], *, doing: str) -> None:
        with self._call("transact", doing):
            if len(writes) > MAX_TRANSACT_ACTIONS:
                raise _validation(
                    f"Member must have length less than or equal to {MAX_TRANSACT_ACTIONS}"
                )
            keys = [_item_key(w.item if isinstance(w, Put) else w.key) for w in writes]
            if len(set(keys)) != len(keys):
                raise _validation(
                    "Transaction request cannot include multiple operations on one item"
                )
            results: list[Item | None] = []
            reasons: list[str] = []
            for write in writes:
                try:
                    results.append(self._checked(write, doing))
                    reasons.append("None")
                except ConditionFailedError:
                    results.append(None)
                    reasons.append("ConditionalCheckFailed")
            if "ConditionalCheckFailed" in reasons:
                raise TransactionCanceledError(
                    f"the state table refused to {doing} (TransactionCanceledException: "
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{', '.join(reasons)}])",
                    reasons,
                )
            for key_of, result in zip(keys, results, strict=True):
                if result is not None:  # a ConditionCheck writes nothing
                    self.items[key_of] = result

    # --- the rules ---

    @staticmethod
    def _condition_holds(text: str, item: Item, context: _Context) -> bool:
        parser = _Parser(text, context)
        result = parser.condition(item)
        parser.done()
        return result

    def _checked(self, write: Write, doing: str) -> Item | None:
        """The item ``write`` would leave (None for a ConditionCheck), or ConditionFailedError."""
        if isinstance(write, Put):
            return self._checked_put(write, doing)
        if isinstance(write, Update):
            return self._checked_update(write, doing)
        assert isinstance(write, ConditionCheck)
        context = _Context(write.names, write.values, set(), set())
        current = self.items.get(_item_key(write.key), {})
        holds = self._condition_holds(write.condition, current, context)
        context.check_all_used()
        if not holds:
            raise ConditionFailedError(f"the state table refused to {doing} ({_FAILED})")
        return None

    def _checked_put(self, write: Put, doing: str) -> Item:
        item_key = _item_key(write.item)
        if not all(item_key):
            raise _validation(
                "One or more parameter values are not valid. The AttributeValue for a key "
                "attribute cannot contain an empty string value."
            )
        context = _Context(write.names, write.values, set(), set())
        current = self.items.get(item_key, {})
        holds = write.condition is None or self._condition_holds(write.condition, current, context)
        context.check_all_used()
        if not holds:
            raise ConditionFailedError(f"the state table refused to {doing} ({_FAILED})")
        new = copy.deepcopy(write.item)
        _check_size(new)
        return new

    def _checked_update(self, write: Update, doing: str) -> Item:
        item_key = _item_key(write.key)
        context = _Context(write.names, write.values, set(), set())
        current = self.items.get(item_key)
        existing = current if current is not None else {}
        holds = write.condition is None or self._condition_holds(write.condition, existing, context)
        parser = _Parser(write.expression, context)
        new = parser.update(existing if current is not None else copy.deepcopy(write.key))
        context.check_all_used()
        if not holds:
            raise ConditionFailedError(f"the state table refused to {doing} ({_FAILED})")
        _check_size(new)
        return new

    def _call(self, operation: str, doing: str) -> _Locked:
        return _Locked(self, operation, doing)


_FAILED = "ConditionalCheckFailedException: The conditional request failed"


def _check_size(item: Item) -> None:
    size = sum(len(name.encode("utf-8")) + _value_bytes(v) for name, v in item.items())
    if size > MAX_ITEM_BYTES:
        raise _validation("Item size has exceeded the maximum allowed size")


class _Locked:
    """Holds the table's lock for one call; records it and injects ``fail_call``'s errors."""

    def __init__(self, table: FakeStateTable, operation: str, doing: str) -> None:
        self.table, self.operation, self.doing = table, operation, doing

    def __enter__(self) -> None:
        self.table._lock.acquire()
        self.table.calls.append(self.operation)
        code = self.table.fail_call(self.operation)
        if code is not None:
            self.table._lock.release()
            raise AwsError(f"the state table refused to {self.doing} ({code})", code=code)

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        self.table._lock.release()
        if isinstance(error, AwsError) and error.code == "ValidationException":
            # Phrased as the real gateway phrases what DynamoDB answers.
            raise AwsError(
                f"the state table refused to {self.doing} (ValidationException: {error})",
                code="ValidationException",
            ) from error
