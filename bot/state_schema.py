"""The state table's shape, from the one definition shared with serverless.yml.

``bot/state_table.json`` is read here (for ``bot.state_table.create_state_table``, behind
``dlq-redrive create-state-table`` and the tests) and by serverless.yml through ``${file(...)}``,
so the deployed table and the local one cannot drift.
Single-table design: ``pk`` / ``sk`` strings, TTL on the numeric ``expires_at`` (epoch seconds).
"""

from __future__ import annotations

import json
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"


def table_definition() -> dict[str, Any]:
    """The table's AttributeDefinitions, KeySchema, BillingMode and TimeToLiveAttribute."""
    # Imported here, not at the top: every user of the key names above (the daily's lease and
    # snapshots, the worker's state) would load importlib.resources, and with it tempfile,
    # shutil, bz2 and lzma, at each cold start for a file only table creation reads.
    from importlib import resources

    text = resources.files("bot").joinpath("state_table.json").read_text(encoding="utf-8")
    definition: dict[str, Any] = json.loads(text)
    return definition
