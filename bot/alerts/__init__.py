"""Alerts between the daily reports (issue 14): a check every few minutes reads each watched
DLQ's counts (GetQueueAttributes only) and says in a channel when one starts filling.

- ``rules``: what a check says, decided from plain data (pure);
- ``store``: each DLQ's alert state in the state table, and the feeder-fed DLQs the daily
  report recorded;
- ``watch``: the counts of the watched DLQs (no message is ever received);
- ``blocks``: the messages;
- ``job``: one scheduled check, at most once, with the daily report's lease and posting.
"""
