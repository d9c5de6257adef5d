"""What the `loyalty-bot` command prints when it refuses: one line, no traceback."""

from __future__ import annotations


def one_line(stderr: str) -> str:
    """The one line of an error on stderr (the log's INFO lines aside), checked to be alone and without traceback."""
    lines = [line for line in stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]
