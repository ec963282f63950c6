"""Shared fixtures: the real clips in ../shared/videos (skipped where absent) analysed once, and
the databases the records store is tested on (SQLite, and PostgreSQL where a server is given)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = ROOT.parent / "shared" / "videos"
MODEL = ROOT / "src" / "valgus" / "models" / "pose_landmarker_full.task"


def shared_clip(name: str) -> Path:
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"real clip {name} not available ({SHARED_VIDEOS} is absent in a fresh clone)")
    return path


@pytest.fixture(scope="session")
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Pose series of real clips, estimated once per test session (the model is the slow part)."""
    return {}


# A PostgreSQL server URL whose role may create databases, e.g.
# postgresql+psycopg://valgus:valgus@127.0.0.1:5432/postgres (.ci/run starts such a server).
POSTGRESQL_URL_ENV = "VALGUS_TEST_POSTGRESQL_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database a records test runs on: None (the default, SQLite in the data directory) or
    the URL of a fresh, empty PostgreSQL database made for this one test on the server at
    ``$VALGUS_TEST_POSTGRESQL_URL`` and dropped afterwards. Without that server the PostgreSQL
    runs are skipped locally and fail in CI (where .ci/run provides one)."""
    if request.param == "sqlite":
        yield None
        return
    server = os.environ.get(POSTGRESQL_URL_ENV)
    if not server:
        reason = (f"no PostgreSQL server: set {POSTGRESQL_URL_ENV} to a server URL whose role "
                  "may create databases (.ci/run starts one)")
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL test cannot run in CI: {reason}")
        pytest.skip(reason)
    from sqlalchemy import create_engine, make_url

    name = f"valgus_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# Markers (registered in pyproject.toml): every test is `unit` (tests/unit: pure, no model, no
# I/O beyond tmp files; seconds) or `integration` (tests/integration); integration tests are also
# marked by what they need, so `pytest -m "not model"` or `-m "not browser"` pick a subset.
MODEL_FILES = frozenset({
    "test_accuracy", "test_app", "test_app_browser", "test_app_login_browser", "test_bad_inputs",
    "test_batch", "test_cases", "test_cases_movement", "test_cli", "test_install", "test_live",
    "test_people_counter", "test_real_clips", "test_same_as_before_move", "test_segments",
    "test_store_cli", "test_verdict_paths",
})
BROWSER_FILES = frozenset({"test_app_browser", "test_app_login_browser", "test_app_network",
                           "test_review_fix_browser"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        item.add_marker("unit" if "unit" in path.parts else "integration")
        if path.stem in MODEL_FILES:
            item.add_marker("model")
        if path.stem in BROWSER_FILES:
            item.add_marker("browser")
        if "[postgresql" in item.nodeid:
            item.add_marker("postgres")
