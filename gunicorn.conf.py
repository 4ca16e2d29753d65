"""gunicorn's settings for deployments (a PaaS runs ``gunicorn movierater_entrypoints.wsgi:app`` from
this directory, and gunicorn reads this file from there; see the Procfile). Everything
comes from the environment, so one file serves Heroku-style platforms, Azure App
Service and a plain VM. ``movierater serve`` passes its own flags, which win over these.
"""

import multiprocessing
import os

from movierater_entrypoints.cli import prepare_to_serve_or_exit
from movierater_entrypoints.settings import read_env_file

read_env_file()  # the same .env the app reads, for WEB_CONCURRENCY and PORT too

# Heroku-style platforms set PORT; Azure App Service expects 8000, the default here.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Heroku and most PaaS set WEB_CONCURRENCY for the dyno's size. Requests are short and
# the database does the waiting: 2 workers per core, at least 2.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, 2 * multiprocessing.cpu_count())))

# gunicorn's asyncio worker, with movierater's additions (src/entrypoints/worker.py): one
# event loop per worker reads every connection and hands the app only whole requests, one
# at a time in one app thread by default (MOVIERATER_THREADS), as a sync worker runs them,
# writes too unless MOVIERATER_WRITE_THREADS gives them threads of their own.
# A client that sends its headers or body slowly holds a connection, not the worker, and
# one whose request has not arrived whole within MOVIERATER_REQUEST_TIMEOUT seconds (30)
# gets 408 and is closed.
worker_class = "movierater_entrypoints.worker.Worker"
# uvloop: with asyncio's own loop the worker served half as many requests as sync workers
# (docs/performance.md).
asgi_loop = "uvloop"

# A platform stops a dyno with SIGTERM and waits (Heroku: 30 s): finish what is in
# flight within 20 s, and kill a worker whose app thread is stuck in one request for 30 s
# (no request here takes seconds; the worker withholds its heartbeat then).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5

# Which proxies may set X-Forwarded-Proto (and so the scheme the app sees). The platform's
# router is the only way in on a PaaS, so "*" is right there; elsewhere, name the proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Each worker opens its own database pool after the fork (see entrypoints/wsgi.py).
preload_app = False

# The app writes one JSON access line per request (MOVIERATER_ACCESS_LOG); gunicorn's own
# log goes to stderr, where platforms collect it.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The heartbeat file lives in memory: a container's disk may be slow or read-only.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server):
    """In the master, before any worker: what `movierater serve` checks and prepares too (the
    database, its driver, the storage; and the one warning per misspelt MOVIERATER_* name,
    which the workers leave to it), so that a mistake is one line and exit status 2, not
    every worker failing to boot."""
    prepare_to_serve_or_exit()
