"""Each operator mistake, made for real on the real command: exactly one line on stderr that
names the fix, exit status 2, no traceback (`--verbose` adds it). A driver that is not
installed is simulated by a sitecustomize that blocks its import; a database that is down
is a closed port; one that does not exist or a user it does not have, on the real servers."""

from __future__ import annotations

import socket
import subprocess
import uuid
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.integration.backends import MARIADB_SERVER, PG_SERVER, fresh_database, unavailable
from tests.integration.conftest import MOVIERATER, environment_without_settings, free_port

FREE_PORT = "a free port"
VERBS = (("migrate",), ("serve", "--port", FREE_PORT), ("createsuperuser", "--username", "boss", "--noinput"))
VERB_IDS = ("migrate", "serve", "createsuperuser")
BLOCK_IMPORT = "import sys\nsys.modules[{module!r}] = None\n"
# pyodbc's own import fails like this on a machine without unixODBC.
NO_LIBODBC = """import sys

class NoLibodbc:
    def find_spec(self, name, path=None, target=None):
        if name == "pyodbc":
            raise ImportError(
                "libodbc.so.2: cannot open shared object file: No such file or directory", name=name
            )

sys.meta_path.insert(0, NoLibodbc())
"""


def run(
    tmp_path: Path, *args: str, sitecustomize: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The command in an empty directory (no .env), with only the settings given, no terminal."""
    environment = {
        **environment_without_settings("DATABASE_URL"),
        "MOVIERATER_SUPERUSER_PASSWORD": "a-good-admin-pass",
        **env,
    }
    if sitecustomize is not None:
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(sitecustomize)
        environment["PYTHONPATH"] = str(site)
    return subprocess.run(
        [*MOVIERATER, *(str(free_port()) if arg == FREE_PORT else arg for arg in args)],
        env=environment,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal: getpass cannot reach one
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *fixes: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.returncode == 2, result.stderr
    assert "Worker failed to boot" not in result.stdout + result.stderr
    line = lines[0]
    assert line.startswith("movierater: "), line
    for fix in fixes:
        assert fix in line, line
    return line


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'movierater.db'}"


def mariadb_odbc_or_skip() -> None:
    try:
        import pyodbc
    except ImportError as exc:
        pytest.skip(f"pyodbc cannot load unixODBC here: {exc}")
    if "MariaDB Unicode" not in pyodbc.drivers():
        pytest.skip("MariaDB's ODBC driver (odbc-mariadb) is not installed")


def server_or_skip(backend: str) -> str:
    url = PG_SERVER if backend == "postgresql" else MARIADB_SERVER
    if backend == "mariadb":
        mariadb_odbc_or_skip()
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        unavailable(backend, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    return url


# ---- drivers --------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
def test_psycopg_not_installed(tmp_path: Path, verb: tuple[str, ...]) -> None:
    result = run(
        tmp_path,
        *verb,
        sitecustomize=BLOCK_IMPORT.format(module="psycopg"),
        MOVIERATER_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/db",
    )
    assert_one_line(result, "PostgreSQL driver", "pip install 'psycopg[binary]==")


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
def test_pyodbc_not_installed(tmp_path: Path, verb: tuple[str, ...]) -> None:
    result = run(
        tmp_path,
        *verb,
        sitecustomize=BLOCK_IMPORT.format(module="pyodbc"),
        MOVIERATER_DATABASE_URL="mysql+pyodbc://root@127.0.0.1/db?driver=MariaDB+Unicode",
    )
    assert_one_line(result, "pyodbc", "pip install 'pyodbc==")


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
def test_the_system_odbc_library_missing(tmp_path: Path, verb: tuple[str, ...]) -> None:
    result = run(
        tmp_path,
        *verb,
        sitecustomize=NO_LIBODBC,
        MOVIERATER_DATABASE_URL="mysql+pyodbc://root@127.0.0.1/db?driver=MariaDB+Unicode",
    )
    assert_one_line(result, "libodbc.so.2", "apt-get install unixodbc libltdl7 odbc-mariadb")


@pytest.mark.parametrize("verb", VERBS[1:], ids=VERB_IDS[1:])  # migrate does not touch storage
def test_boto3_not_installed_with_s3_storage(tmp_path: Path, verb: tuple[str, ...]) -> None:
    result = run(
        tmp_path,
        *verb,
        sitecustomize=BLOCK_IMPORT.format(module="boto3"),
        MOVIERATER_DATABASE_URL=sqlite_url(tmp_path),
        MOVIERATER_STORAGE="s3",
        MOVIERATER_S3_BUCKET="posters",
    )
    assert_one_line(result, "S3 storage driver", "pip install 'boto3==")


def test_the_drivers_come_with_the_default_install() -> None:
    """No extra to forget: each documented backend works from `pip install movierater`."""
    plain = {
        requirement.split(";")[0].strip()
        for requirement in metadata.requires("movierater") or []
        if "extra ==" not in requirement
    }
    assert {"psycopg[binary]==3.3.9", "pyodbc==5.5.0", "boto3==1.44.8"} <= plain


# ---- the database URL -----------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
@pytest.mark.parametrize(
    ("url", "fixes"),
    [
        ("notaurl", ("MOVIERATER_DATABASE_URL must be a SQLAlchemy URL", "postgresql+psycopg://")),
        (
            "postgresql+psycopgg://postgres@127.0.0.1/db",
            ("MOVIERATER_DATABASE_URL", "unknown database or driver 'postgresql+psycopgg'"),
        ),
    ],
    ids=["unparseable", "misspelled-driver"],
)
def test_a_bad_database_url(tmp_path: Path, verb: tuple[str, ...], url: str, fixes: tuple[str, ...]) -> None:
    assert_one_line(run(tmp_path, *verb, MOVIERATER_DATABASE_URL=url), *fixes)


def test_a_bad_platform_database_url_names_database_url(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", DATABASE_URL="mysql+nosuch://h/db")
    assert_one_line(result, "DATABASE_URL names an unknown database or driver 'mysql+nosuch'")


def test_postgres_scheme_in_movierater_database_url(tmp_path: Path) -> None:
    """A platform's postgres:// URL works in our variable too (read as psycopg 3)."""
    with fresh_database("postgresql", tmp_path) as url:
        plain = make_url(url).set(drivername="postgres").render_as_string(hide_password=False)
        result = run(tmp_path, "migrate", MOVIERATER_DATABASE_URL=plain)
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:s3cret-pw@127.0.0.1:{port}/db",  # down
        "postgresql+psycopgg://app:s3cret-pw@127.0.0.1:{port}/db",  # misspelled
        "postgresql+psycopg://app:s3cret-pw@127.0.0.1:{port}:x/db",  # does not parse
    ],
    ids=["down", "misspelled", "unparseable"],
)
def test_the_line_never_shows_the_password(tmp_path: Path, url: str) -> None:
    result = run(tmp_path, "migrate", MOVIERATER_DATABASE_URL=url.format(port=free_port()))
    assert "s3cret-pw" not in assert_one_line(result)


# ---- the database server --------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
def test_postgresql_down(tmp_path: Path, verb: tuple[str, ...]) -> None:
    port = free_port()  # nothing listens there
    result = run(
        tmp_path, *verb, MOVIERATER_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/db"
    )
    assert_one_line(result, f"cannot reach the database server at 127.0.0.1:{port}", "start it")


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
def test_mariadb_down(tmp_path: Path, verb: tuple[str, ...]) -> None:
    mariadb_odbc_or_skip()
    url = f"mysql+pyodbc://root@127.0.0.1/db?driver=MariaDB+Unicode&Port={free_port()}"
    result = run(tmp_path, *verb, MOVIERATER_DATABASE_URL=url)
    assert_one_line(result, "cannot reach the database server at 127.0.0.1", "MOVIERATER_DATABASE_URL")


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_the_database_does_not_exist(tmp_path: Path, backend: str, verb: tuple[str, ...]) -> None:
    name = f"movierater_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(server_or_skip(backend)).set(database=name).render_as_string(hide_password=False)
    result = run(tmp_path, *verb, MOVIERATER_DATABASE_URL=url)
    assert_one_line(result, f"the database {name!r} does not exist", "create it")


@pytest.mark.parametrize("verb", VERBS, ids=VERB_IDS)
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_the_user_does_not_exist(tmp_path: Path, backend: str, verb: tuple[str, ...]) -> None:
    user = f"movierater_nobody_{uuid.uuid4().hex[:8]}"
    url = make_url(server_or_skip(backend)).set(username=user).render_as_string(hide_password=False)
    result = run(tmp_path, *verb, MOVIERATER_DATABASE_URL=url)
    assert_one_line(result, f"refused the login of {user!r}", "fix the user or password")


# ---- the command line itself ----------------------------------------------------------------


def test_createsuperuser_without_a_terminal(tmp_path: Path) -> None:
    result = run(
        tmp_path, "createsuperuser", "--username", "boss", MOVIERATER_DATABASE_URL=sqlite_url(tmp_path)
    )
    assert_one_line(result, "no password to read", "--noinput with MOVIERATER_SUPERUSER_PASSWORD")


def test_serve_on_a_port_in_use(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run(tmp_path, "serve", "--port", str(port), MOVIERATER_DATABASE_URL=sqlite_url(tmp_path))
    assert_one_line(result, f"port {port} on 127.0.0.1 is already in use", "another --port")


def test_serve_on_a_missing_s3_bucket(tmp_path: Path) -> None:
    from tests.integration.test_uploads import _s3_env

    env = _s3_env(tmp_path)  # skips (or fails in CI) without the S3 emulator
    missing = f"movierater-missing-{uuid.uuid4().hex[:8]}"
    result = run(tmp_path, "serve", "--port", str(free_port()), **{**env, "MOVIERATER_S3_BUCKET": missing})
    assert_one_line(result, f"the S3 bucket {missing!r} does not exist", "MOVIERATER_S3_BUCKET")


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_adds_the_traceback(tmp_path: Path, where: str) -> None:
    args = ("--verbose", "migrate") if where == "before" else ("migrate", "--verbose")
    result = run(tmp_path, *args, MOVIERATER_DATABASE_URL="postgresql+psycopgg://postgres@127.0.0.1/db")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "NoSuchModuleError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("movierater: MOVIERATER_DATABASE_URL names")


@pytest.mark.parametrize(
    ("verb", "defaults"),
    [
        ("serve", ("(default: 127.0.0.1)", "(default: 8000)", "(default: 2)")),
        ("seed", ("(default: 20)", "(default: 10)", "(default: 5)")),
    ],
)
def test_help_shows_the_defaults(tmp_path: Path, verb: str, defaults: tuple[str, ...]) -> None:
    result = run(tmp_path, verb, "--help")
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())  # argparse wraps lines
    for default in defaults:
        assert default in flat, result.stdout
