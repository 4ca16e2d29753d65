"""The README's "A tour with curl" is ``docs/tour.sh``: quoted whole in the README (and in
part under "Poster uploads"), and run here as written, after the README's set-up commands,
against a served instance, each step's status asserted (issue 14, item 5)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import Client, Server, run_cli

REPO = Path(__file__).resolve().parents[2]
TOUR = REPO / "docs" / "tour.sh"
ADMIN_PASSWORD = "tour-admin-pass-1"
STEP = re.compile(r"^step (\d{3}) ([A-Z]+) ", re.M)


def _quoted_blocks(marker: str) -> list[str]:
    readme = (REPO / "README.md").read_text()
    return re.findall(rf"<!-- {re.escape(marker)}[^\n]*-->\n```bash\n(.*?)```\n", readme, re.S)


def test_the_readme_quotes_the_tour_whole_and_the_upload_part_as_it_is() -> None:
    script = TOUR.read_text()
    assert _quoted_blocks("docs/tour.sh, whole") == [script], "copy docs/tour.sh into README.md"
    parts = _quoted_blocks("a part of docs/tour.sh")
    assert parts and all(part in script for part in parts), "README's upload block is not in docs/tour.sh"
    assert os.access(TOUR, os.X_OK)


def _set_up_commands() -> list[list[str]]:
    """The README's commands before the tour: createsuperuser, seed, the tour itself."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## A tour with curl", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


def test_the_set_up_is_what_this_test_runs() -> None:
    assert [command[:2] for command in _set_up_commands()] == [
        ["source", ".venv/bin/activate"],
        ["movierater", "createsuperuser"],
        ["movierater", "seed"],
        ["docs/tour.sh"],
    ]


def test_the_tour_runs_top_to_bottom_as_written_twice(server: Server, api: Client) -> None:
    _, createsuperuser, seed, tour = _set_up_commands()
    # movierater's own arguments as written; the password given twice at the prompt
    run_cli(*createsuperuser[1:], env=server.env, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    run_cli(*seed[1:], env=server.env)
    script = TOUR.read_text()
    expected = [f"{method} -> {status}" for status, method in STEP.findall(script)]
    env = {
        **os.environ,
        # what `source .venv/bin/activate` gives: this run's interpreter (with Pillow) first
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "API": server.base_url,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    for _ in range(2):  # it cleans up after itself, so it runs again
        ran = subprocess.run(
            [str(REPO / tour[0])], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        seen = [
            re.sub(r"^([A-Z]+) \S+ -> (\d{3}) .*$", r"\1 -> \2", line) for line in ran.stdout.splitlines()
        ]
        assert seen == expected  # every step ran, in order, with the status written beside it
