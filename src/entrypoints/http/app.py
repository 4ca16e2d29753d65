"""Build the Falcon app from a wired container."""

from __future__ import annotations

from typing import cast

import falcon
import punq
from movierater_adapters.storage_local import LocalImageStorage
from movierater_entrypoints.http import (
    conditional,
    cors,
    docs,
    errors,
    health,
    middleware,
    pages,
    portal,
    resources,
    uploads,
)
from movierater_entrypoints.http.auth import Authentication
from movierater_entrypoints.http.ids import IdConverter
from movierater_entrypoints.http.openapi import OpenApiDocument
from movierater_entrypoints.settings import Settings

from movierater_core.ports import ImageStorage
from movierater_core.use_cases import Accounts, Health, Movies, Ratings, Uploads, UserAdmin
from movierater_core.use_cases.exports import RatingExport

_ID = "id"  # the core's rule for ids in text, as ?movie= reads them; others are not found


def create_app(container: punq.Container) -> falcon.App[falcon.Request, falcon.Response]:
    settings: Settings = container.resolve(Settings)
    accounts: Accounts = container.resolve(Accounts)
    user_admin: UserAdmin = container.resolve(UserAdmin)
    movies: Movies = container.resolve(Movies)
    ratings: Ratings = container.resolve(Ratings)
    upload_grants: Uploads = container.resolve(Uploads)
    storage = container.resolve(ImageStorage)

    access_log = middleware.AccessLog(2 if settings.access_log else None)
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App(
        middleware=[
            middleware.RequestEnvelope(
                access_log, https_only=settings.https_only, trusted_proxies=settings.trusted_proxies
            ),
            falcon.CORSMiddleware(
                allow_origins=list(settings.cors_origins),
                # A preflight's Access-Control-Request-Headers (If-Match, If-None-Match) are
                # allowed as asked; the answers' headers a browser client may read:
                expose_headers=["Retry-After", conditional.ETAG, *pages.PAGE_HEADERS],
            ),
            cors.VaryOrigin(),
            Authentication(accounts),
        ]
    )
    # "/api/movies/" and "/api/movies" both work; the original's paths end in a slash.
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_qs_csv = False
    app.router_options.converters["id"] = IdConverter
    errors.install(app)

    app.add_route("/api", resources.ApiRoot())
    app.add_route("/auth", resources.Login(accounts))
    app.add_route("/api/users", resources.UserList(accounts))
    app.add_route("/api/users/me", resources.UserMe(accounts))  # a literal: tried before {user_id}
    app.add_route("/api/users/me/export", resources.MyExport(container.resolve(RatingExport)))
    app.add_route(f"/api/users/{{user_id:{_ID}}}", resources.UserDetail(accounts))
    app.add_route(f"/api/users/{{user_id:{_ID}}}/promote", resources.PromoteUser(user_admin))
    app.add_route(f"/api/users/{{user_id:{_ID}}}/demote", resources.DemoteUser(user_admin))
    app.add_route("/api/movies", resources.MovieList(movies))
    app.add_route(f"/api/movies/{{movie_id:{_ID}}}", resources.MovieDetail(movies))
    app.add_route(f"/api/movies/{{movie_id:{_ID}}}/rate_movie", resources.RateMovie(ratings))
    app.add_route("/api/ratings", resources.RatingList(ratings))
    app.add_route(f"/api/ratings/{{rating_id:{_ID}}}", resources.RatingDetail(ratings))
    app.add_route("/api/movies/get_upload_url", uploads.UploadUrl(upload_grants))
    if settings.storage == "local":  # with S3, bytes never pass through the app
        # bootstrap.make_storage made a LocalImageStorage for these settings (tests may
        # give a fake instead, that these routes then never serve)
        local = cast(LocalImageStorage, storage)
        app.add_route("/uploads/{name}", uploads.LocalUpload(local, upload_grants))
        app.add_route("/media/movies/{name}", uploads.LocalMedia(local))
    document = OpenApiDocument()
    app.add_route("/api/openapi.json", document)
    app.add_route("/healthz", health.Liveness())
    app.add_route("/readyz", health.Readiness(container.resolve(Health)))
    # For people, not part of the API: the interactive docs, and the root leading to them.
    app.add_route("/api/docs", docs.DocsPage())
    app.add_route("/", docs.RootRedirect())
    # The admin portal: a client of the API above, for admins (the API says who is one).
    app.add_route("/admin", portal.PortalPage(settings))
    document.publish(app)  # the document of the routes above, each described beside its resource
    return app


def create_wsgi_app(container: punq.Container) -> docs.WsgiApp:
    """What gunicorn serves: the app, behind WhiteNoise serving the docs' static files."""
    settings: Settings = container.resolve(Settings)
    return docs.with_docs_files(create_app(container), https_only=settings.https_only)
