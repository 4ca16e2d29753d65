"""The Falcon WSGI app: HTTP in, use cases, HTTP out. Nothing else lives here."""

from movierater_entrypoints.http.app import create_app, create_wsgi_app

__all__ = ["create_app", "create_wsgi_app"]
