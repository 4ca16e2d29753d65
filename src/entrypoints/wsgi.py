"""The WSGI app for gunicorn: ``gunicorn entrypoints.wsgi:app``.

Each gunicorn worker imports this after forking, so each has its own engine and
connection pool: forked workers never share database connections.
"""

from entrypoints.bootstrap import build_container
from entrypoints.http import create_wsgi_app
from entrypoints.settings import Settings, read_env_file

read_env_file()  # ``.env`` in the working directory; the real environment wins
app = create_wsgi_app(build_container(Settings.from_env()))
