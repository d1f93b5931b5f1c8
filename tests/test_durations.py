"""Go durations are read by one parser (compiler.webhook.parse_duration_ms), exactly, for
VirtualService timeouts and fault delays and for the ``delay`` of route case files."""

from __future__ import annotations

import pytest

from istiosim.compiler.webhook import duration_problem, parse_duration_ms
from istiosim.testing import CaseValidate


@pytest.mark.parametrize(
    ("text", "ms"),
    [("7s", 7000), ("500ms", 500), ("1.005s", 1005), ("1h2m", 3_720_000), ("1m30s", 90_000)],
)
def test_go_durations_are_summed_exactly(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms
    assert CaseValidate.model_validate({"delay": text}).delay_ms == ms


@pytest.mark.parametrize("text", ["7", "s", "1.5", "-1s", "7 s", ""])
def test_malformed_durations_are_none(text: str) -> None:
    assert parse_duration_ms(text) is None


def test_webhook_refuses_sub_millisecond_durations() -> None:
    assert duration_problem("100us") == "invalid duration '100us' (at least 1ms)"
    assert duration_problem("1.5ms") is not None
    assert duration_problem("1.005s") is None
