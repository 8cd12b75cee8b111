"""tests/bedlog.py's reading of a testbed container's libvirtd log: only what was
logged during the failed test, an entry's continuation lines with it."""

from __future__ import annotations

from datetime import UTC, datetime

import bedlog


def entry(when: datetime, text: str) -> str:
    return f"{when.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}+0000: 85: {text}"


def test_only_the_entries_logged_since_the_test_began(tmp_path):
    log = tmp_path / "libvirtd.log"
    began = datetime(2026, 12, 6, 18, 0, 0, tzinfo=UTC)
    before = datetime(2026, 12, 6, 17, 59, 59, 900000, tzinfo=UTC)
    during = datetime(2026, 12, 6, 18, 0, 0, 100000, tzinfo=UTC)
    log.write_text(
        "\n".join(
            [
                entry(before, "error : old: first line"),
                "its continuation",
                entry(during, "error : new: first line"),
                "its continuation too",
                entry(during, "warning : keepalive timeout"),
            ]
        )
    )

    said = bedlog._logged_since(log, began.timestamp())

    assert said == [
        f"== {log} (last 3 lines logged during the test)",
        entry(during, "error : new: first line"),
        "its continuation too",
        entry(during, "warning : keepalive timeout"),
    ]


def test_the_last_lines_only_and_a_missing_log_is_said(tmp_path):
    log = tmp_path / "libvirtd.log"
    when = datetime(2026, 12, 6, 18, 0, 1, tzinfo=UTC)
    log.write_text("\n".join(entry(when, f"error : {i}") for i in range(bedlog.LINES + 5)))

    said = bedlog._logged_since(log, when.timestamp() - 1)

    assert len(said) == 1 + bedlog.LINES and said[-1].endswith(f"error : {bedlog.LINES + 4}")
    assert bedlog._logged_since(log, when.timestamp() + 1) == [
        f"== {log}: nothing logged during the test"
    ]
    assert bedlog._logged_since(tmp_path / "none.log", 0) == [
        f"== {tmp_path / 'none.log'}: cannot read it (No such file or directory)"
    ]
