"""`make bench` checks import's memory (bench/archive_memory.py) and states the export's growth.

The figures themselves come from `make bench`; these tests pin how the bench judges and records
them: the target each figure is printed beside, and `--only archive-memory` running that section
alone and merging it into bench/results.json without touching the other sections.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import archive_memory, export_memory
from bench import run as bench_run


def _section(file_mb: list[float], s3_mb: list[float]) -> dict[str, object]:
    return {"sizes": [10_000, 100_000], "file_mb": file_mb, "s3_mb": s3_mb}


def test_import_memory_meets_its_target_only_when_flat() -> None:
    rows = archive_memory.rows(_section([20.0, 25.0], [50.0, 62.6]))
    assert [(row[0].split(":")[0], row[3]) for row in rows] == [
        ("import peak RSS from a local .jsonl file", True),  # 25.0 <= 1.25 x 20.0
        ("import peak RSS from moto S3", False),  # 62.6 > 1.25 x 50.0
    ]
    assert rows[0][1] == "20.0 -> 25.0 MB (1.25x)"
    assert rows[0][2] == "<= 1.25x the smaller (flat)"


def test_the_full_table_includes_import_and_export_memory_when_measured() -> None:
    # the last full run's results (committed), with the two sections as a full run now adds them
    results = json.loads(bench_run.RESULTS.read_text())
    results["archive_memory"] = _section([20.9, 20.9], [51.6, 53.3])
    results["export_memory"] = {"sizes": [2_000, 20_000], "peak_mb": [60.0, 78.0], "max_held": 9}
    figures = [row[0] for row in bench_run.target_rows(results)]
    assert "import peak RSS from moto S3: 10,000 -> 100,000 records" in figures
    assert "export peak RSS: 2,000 -> 20,000 messages (LocalStack, to a file)" in figures


def test_export_growth_is_stated_per_thousand_messages_not_as_flat() -> None:
    section = {"sizes": [2_000, 20_000], "peak_mb": [60.0, 78.0], "max_held": 110_000}
    assert export_memory.growth_per_1000(section) == pytest.approx(1.0)
    rows = export_memory.rows(section)
    assert rows[0][1] == "60.0 -> 78.0 MB"
    assert "grows" in rows[0][2] and rows[0][3] is None
    assert rows[1][1] == "1.00 MB"
    assert "at 110,000 held ~168 MB" in rows[1][2]  # 60 + 1.0 x 108


def test_only_archive_memory_runs_that_section_and_merges_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    old_row = {"figure": "import peak RSS from moto S3: old", "measured": "1 MB", "met": True}
    other_row = {"figure": "daily report peak RSS: 60 DLQs", "measured": "180 MB", "met": True}
    results.write_text(
        json.dumps({"report_memory": {"kept": 1}, "table": [old_row, other_row]}) + "\n"
    )
    monkeypatch.setattr(bench_run, "RESULTS", results)

    status = bench_run.main(["--only", "archive-memory", "--archive-records", "100,300"])

    assert status == 0
    written = json.loads(results.read_text())
    section = written["archive_memory"]
    assert section["sizes"] == [100, 300]
    assert len(section["file_mb"]) == len(section["s3_mb"]) == 2
    assert all(mb > 0 for mb in section["file_mb"] + section["s3_mb"])
    assert "--only archive-memory" in section["command"]
    assert written["report_memory"] == {"kept": 1}
    figures = [row["figure"] for row in written["table"]]
    assert other_row["figure"] in figures and old_row["figure"] not in figures
    assert [f for f in figures if f.startswith("import peak RSS")] == [
        "import peak RSS from a local .jsonl file: 100 -> 300 records",
        "import peak RSS from moto S3: 100 -> 300 records",
    ]
    assert "<= 1.25x the smaller (flat)" in capsys.readouterr().out
