"""The WSGI app for gunicorn: ``gunicorn movierater_entrypoints.wsgi:app``.

Each gunicorn worker imports this after forking, so each has its own engine and
connection pool: forked workers never share database connections.
"""

from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.http import create_wsgi_app
from movierater_entrypoints.settings import Settings, read_env_file

read_env_file()  # ``.env`` in the working directory; the real environment wins
# Misspelt MOVIERATER_* names are warned about once, before the workers (by `movierater
# serve`, or gunicorn.conf.py's on_starting), not again by every worker.
# serving: every database wait is bounded by MOVIERATER_DB_TIMEOUT (the CLI's are not)
app = create_wsgi_app(build_container(Settings.from_env(warn_unknown=False), serving=True))
