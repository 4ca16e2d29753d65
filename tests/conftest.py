"""The suite runs in two phases (scripts/test): the ``shared`` phase on several processes
(pytest-xdist; each process makes its own databases and servers), then the ``exclusive``
phase on one, for the tests marked ``exclusive``: they stop a server every process uses, or
bound a latency that another process's load would blur. ``--phase=all`` (the default, a
plain ``pytest``) runs both kinds together."""

from __future__ import annotations

import pytest

PHASES = ("all", "shared", "exclusive")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--phase",
        choices=PHASES,
        default="all",
        help="shared: the tests that may run beside others; exclusive: those marked exclusive",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    phase = config.getoption("--phase")
    if phase == "all":
        return
    wanted = phase == "exclusive"
    other = [item for item in items if (item.get_closest_marker("exclusive") is not None) != wanted]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if item not in other]
