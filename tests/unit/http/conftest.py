"""Fixtures of the in-process HTTP tests (see inprocess.py)."""

from __future__ import annotations

import pytest

from tests.unit.http.inprocess import App, Client, World, make_app, make_world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def app() -> App:
    return make_app()


@pytest.fixture
def api(app: App) -> Client:
    """An anonymous client against an empty database."""
    return app.anon
