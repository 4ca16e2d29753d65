"""Falcon resources: each method turns a request into one use-case call and back, and says
(``@operation``) what the OpenAPI document tells about it."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

import falcon
from movierater_adapters import rating_files
from movierater_entrypoints.http import conditional
from movierater_entrypoints.http.io import (
    any_movie_json,
    encode,
    movie_json,
    movie_serializer,
    movie_view_serializer,
    profile_json,
    rating_json,
    read_json,
    send,
    user_json,
    user_role_json,
    user_view_json,
)
from movierater_entrypoints.http.pages import PAGE_HEADERS, page_answer, query_of, send_page
from movierater_entrypoints.http.spec import (
    BODY_ERRORS,
    JSON,
    Documented,
    RequestBody,
    header,
    link,
    no_content,
    ok,
    operation,
    schema_ref,
)

from movierater_core.model import Movie, MovieView, ScorePrior, User, UserView
from movierater_core.paging import Page
from movierater_core.use_cases import Accounts, Movies, Ratings, UserAdmin
from movierater_core.use_cases.accounts import CREDENTIALS_BODY, USER_BODY, USERS_QUERY
from movierater_core.use_cases.exports import EXPORT_PAGE, EXPORT_QUERY, RatingExport
from movierater_core.use_cases.movies import MOVIE_BODY, MOVIE_QUERY, MOVIES_QUERY
from movierater_core.use_cases.ratings import RATING_BODY, RATINGS_QUERY

Req = falcon.Request
Resp = falcon.Response


class DrfResource(Documented):
    """A path of the original DRF service: documented with its trailing slash."""

    trailing_slash = True


# Links from an answer to the operations on what it names, for stateful testing.
_USER = "$response.body#/id"
USER_LINKS = {
    "GetUser": link("getUser", "The user just made or changed.", user_id=_USER),
    "UpdateUser": link("updateUser", "Replace that user.", user_id=_USER),
    "PatchUser": link("patchUser", "Change that user.", user_id=_USER),
    "DeleteUser": link("deleteUser", "Delete that user.", user_id=_USER),
    "ListTheirRatings": link("listRatings", "That user's ratings.", user=_USER),
    "PromoteUser": link("promoteUser", "Make that user an admin.", user_id=_USER),
    "DemoteUser": link("demoteUser", "Make that user a plain user.", user_id=_USER),
}
# Reads only: a fuzzer following links from "me" must not delete the user it signs in as.
ME_LINKS = {name: USER_LINKS[name] for name in ("GetUser", "ListTheirRatings")}
LOG_IN_LINK = {
    "LogInAsThem": {
        "operationId": "logIn",
        "description": "Log in with the username and password just set.",
        "requestBody": "$request.body",
    }
}
_MOVIE = "$response.body#/id"
MOVIE_LINKS = {
    "GetMovie": link("getMovie", "The movie just made or changed.", movie_id=_MOVIE),
    "UpdateMovie": link("updateMovie", "Replace that movie.", movie_id=_MOVIE),
    "PatchMovie": link("patchMovie", "Change that movie.", movie_id=_MOVIE),
    "DeleteMovie": link("deleteMovie", "Delete that movie.", movie_id=_MOVIE),
    "RateMovie": link("rateMovie", "Rate that movie.", movie_id=_MOVIE),
    "UnrateMovie": link("unrateMovie", "Remove one's rating of that movie.", movie_id=_MOVIE),
    "ListItsRatings": link("listRatings", "That movie's ratings.", movie=_MOVIE),
}
RATING_LINKS = {
    "GetRating": link("getRating", "The rating just made or changed.", rating_id="$response.body#/result/id"),
    "DeleteRating": link("deleteRating", "Delete that rating.", rating_id="$response.body#/result/id"),
    "GetRatedMovie": link("getMovie", "The movie rated.", movie_id="$response.body#/result/movie"),
    "UnrateMovie": link("unrateMovie", "Remove that rating.", movie_id="$response.body#/result/movie"),
}
_PASSWORD_CHANGE = "A new password revokes the user's other tokens; the one used stays."


class ApiRoot(DrfResource):
    """``/api/``: links to the collections, as DRF's DefaultRouter served."""

    @operation(
        "apiRoot",
        "Links to the collections, as DRF's DefaultRouter served",
        {"200": ok(schema_ref("ApiRoot"), "The collections' URLs.")},
        tag="root",
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        base = f"{req.prefix}/api/"
        send(resp, {name: f"{base}{name}/" for name in ("users", "movies", "ratings")})


class Login(DrfResource):
    """``/auth/``: POST exchanges credentials for a token, DELETE revokes the token used."""

    public_methods = ("POST",)

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    @operation(
        "logIn",
        "Exchange credentials for a new token",
        {"200": ok(schema_ref("Token"), "A new token.")},
        (*BODY_ERRORS, "429"),
        body=RequestBody("Credentials", CREDENTIALS_BODY, "The user's credentials."),
        tag="auth",
        description=(
            "Wrong credentials give 400 "
            '{"non_field_errors": ["Unable to log in with provided credentials."]}. '
            "Too many failures for a username (5 in 15 minutes) or from an address give 429, "
            "even with the right password."
        ),
    )
    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, {"token": self._accounts.log_in(read_json(req), client=req.context.client)})

    @operation("logOut", "Revoke the token used", {"204": no_content("Revoked.")}, tag="auth")
    def on_delete(self, req: Req, resp: Resp) -> None:
        self._accounts.log_out(req.context.token_key)
        resp.status = 204


class UserList(DrfResource):
    public_methods = ("POST",)  # registration is open

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    @operation(
        "listUsers",
        "Every user (admins); a list of themself alone for anyone else",
        {"200": page_answer("User", "The users the caller may read, by id.")},
        ("400",),
        query=USERS_QUERY,
        tag="users",
        description=(
            "A user is readable by themself or an admin: an admin gets every user, anyone "
            "else a list holding only themself (as the original Angular client expects a list)."
        ),
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        page = self._accounts.list_users(req.context.user, query_of(req, USERS_QUERY))
        if page.items and isinstance(page.items[0], UserView):  # ?include=is_admin
            send_page(req, resp, cast("Page[UserView]", page), user_view_json)
        else:
            send_page(req, resp, cast("Page[User]", page), user_json)

    @operation(
        "register",
        "Register (open to anyone)",
        {"201": ok(schema_ref("User"), "The new user.", {**USER_LINKS, **LOG_IN_LINK})},
        (*BODY_ERRORS, "429"),
        body=RequestBody("UserWrite", USER_BODY, "The new user's username and password."),
        tag="users",
    )
    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, user_json(self._accounts.register(read_json(req), client=req.context.client)), 201)


class UserMe(DrfResource):
    """``/api/users/me/``: the signed-in user, admin or not. A literal segment, so Falcon's
    router tries it before ``/api/users/{user_id:id}`` (which ``me`` would not match anyway:
    not an id). Read only: changes go to ``/api/users/{id}/``."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    @operation(
        "getMe",
        "The signed-in user: id, username, whether an admin, date joined",
        {"200": ok(schema_ref("Me"), "The user the token belongs to.", ME_LINKS)},
        tag="users",
        description=(
            "Any signed-in user, admin or not. `id` and `username` as in User; `is_admin` "
            "(may write movies and manage users); `date_joined` in ISO 8601, UTC. "
            "`?user=me` reads the same user's ratings."
        ),
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        send(resp, profile_json(self._accounts.me(req.context.user)))


class MyExport(DrfResource):
    """``/api/users/me/export/``: the signed-in user's ratings as a file to download."""

    def __init__(self, exports: RatingExport) -> None:
        self._exports = exports

    @operation(
        "exportMyRatings",
        "The signed-in user's ratings as a JSON or CSV file (movie id, title, stars)",
        {
            "200": {
                "description": (
                    "The ratings by movie id, as an attachment: JSON, a list of objects, or CSV "
                    "(RFC 4180) with the header row movie,title,stars, where a title that begins "
                    "as a spreadsheet formula would (=, +, -, @, a tab or CR) or with an "
                    "apostrophe is written after an apostrophe, so that it opens as text. "
                    f"At most {EXPORT_PAGE:,} a request: "
                    'the rest follow from Link rel="next" (?after=).'
                ),
                "headers": {
                    "Content-Disposition": header(
                        {"type": "string", "pattern": '^attachment; filename="ratings[.](json|csv)"$'},
                        "A file to save: ratings.json or ratings.csv.",
                    ),
                    "Link": {
                        "required": False,
                        "description": 'The next part: <url>; rel="next", when there are more ratings.',
                        "schema": {"type": "string"},
                    },
                },
                "content": {
                    JSON: {"schema": {"type": "array", "items": schema_ref("ExportedRating")}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
        ("400",),
        query=EXPORT_QUERY,
        tag="users",
        description=(
            "The same rows `movierater ratings export --user NAME` writes, which `movierater "
            "ratings import --user NAME` reads back (matching movies by id, else by title)."
        ),
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        part = self._exports.my_ratings(req.context.user, query_of(req, EXPORT_QUERY))
        resp.status = 200
        resp.content_type = "text/csv; charset=utf-8" if part.format == "csv" else falcon.MEDIA_JSON
        resp.data = rating_files.to_bytes(part.rows, part.format, with_user=False)
        resp.set_header("Content-Disposition", f'attachment; filename="ratings.{part.format}"')
        if part.continue_after is not None:
            query = {"format": part.format, "after": part.continue_after}
            resp.set_header("Link", f'<{req.prefix}{req.path}/?{urlencode(query)}>; rel="next"')


class UserDetail(DrfResource):
    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    @operation(
        "getUser",
        "A user (themself or an admin)",
        {"200": ok(schema_ref("User"), "The user.")},
        ("403", "404"),
        tag="users",
    )
    def on_get(self, req: Req, resp: Resp, user_id: int) -> None:
        send(resp, user_json(self._accounts.get_user(req.context.user, user_id)))

    @operation(
        "updateUser",
        "Replace username and password (themself or an admin)",
        {"200": ok(schema_ref("User"), "The user, changed.", {**USER_LINKS, **LOG_IN_LINK})},
        (*BODY_ERRORS, "403", "404"),
        body=RequestBody("UserWrite", USER_BODY, "Both fields."),
        tag="users",
        description=_PASSWORD_CHANGE,
    )
    def on_put(self, req: Req, resp: Resp, user_id: int, partial: bool = False) -> None:
        user = self._accounts.update_user(
            req.context.user,
            user_id,
            read_json(req),
            partial=partial,
            current_key=req.context.token_key,
        )
        send(resp, user_json(user))

    @operation(
        "patchUser",
        "Change username and/or password (themself or an admin)",
        {"200": ok(schema_ref("User"), "The user, changed.", USER_LINKS)},
        (*BODY_ERRORS, "403", "404"),
        body=RequestBody("UserPatch", USER_BODY, "The fields to change.", partial=True),
        tag="users",
        description=_PASSWORD_CHANGE,
    )
    def on_patch(self, req: Req, resp: Resp, user_id: int) -> None:
        self.on_put(req, resp, user_id, partial=True)

    @operation(
        "deleteUser",
        "Delete a user with their ratings and tokens (themself or an admin)",
        {"204": no_content("Deleted.")},
        ("400", "403", "404"),
        tag="users",
        description=(
            'The last admin is not deleted: 400 {"non_field_errors": ["This is the last admin: '
            'promote another user before deleting this one."]}.'
        ),
    )
    def on_delete(self, req: Req, resp: Resp, user_id: int) -> None:
        self._accounts.delete_user(req.context.user, user_id)
        resp.status = 204


class UserRole(DrfResource):
    """``/api/users/{id}/promote/`` and ``/demote/`` (admins): make a user an admin, or a
    plain user again, as the CLI's ``movierater user promote|demote`` does."""

    def __init__(self, admin: UserAdmin, *, is_admin: bool) -> None:
        self._admin = admin
        self._is_admin = is_admin

    def on_post(self, req: Req, resp: Resp, user_id: int) -> None:
        send(resp, user_role_json(self._admin.set_admin_by_id(req.context.user, user_id, self._is_admin)))


class PromoteUser(UserRole):
    def __init__(self, admin: UserAdmin) -> None:
        super().__init__(admin, is_admin=True)

    @operation(
        "promoteUser",
        "Make a user an admin (admins)",
        {"200": ok(schema_ref("User"), "The user, now an admin (with is_admin).", USER_LINKS)},
        ("403", "404"),
        tag="users",
        description="Promoting an admin changes nothing. No body.",
    )
    def on_post(self, req: Req, resp: Resp, user_id: int) -> None:
        super().on_post(req, resp, user_id)


class DemoteUser(UserRole):
    def __init__(self, admin: UserAdmin) -> None:
        super().__init__(admin, is_admin=False)

    @operation(
        "demoteUser",
        "Make an admin a plain user (admins)",
        {"200": ok(schema_ref("User"), "The user, now a plain user (with is_admin).", USER_LINKS)},
        ("400", "403", "404"),
        tag="users",
        description=(
            "Demoting a plain user changes nothing. No body. The last admin is not demoted: "
            '400 {"non_field_errors": ["This is the last admin: promote another user before '
            'demoting this one."]}.'
        ),
    )
    def on_post(self, req: Req, resp: Resp, user_id: int) -> None:
        super().on_post(req, resp, user_id)


class MovieList(DrfResource):
    def __init__(self, movies: Movies) -> None:
        self._movies = movies

    @operation(
        "listMovies",
        "Every movie with its rating summary; searched, ordered, paged",
        {
            "200": conditional.with_etag(page_answer("Movie", "The movies, by id unless ordered otherwise.")),
            "304": conditional.NOT_MODIFIED,
        },
        ("400",),
        query=MOVIES_QUERY,
        parameters=(conditional.IF_NONE_MATCH_ON_READ,),
        tag="movies",
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        prior = self._movies.score_prior()  # the order's and every score's, the same
        page = self._movies.list_movies(req.context.user, query_of(req, MOVIES_QUERY), prior)
        # A page is all movies or all views: its serializer is chosen once, not per movie
        # (the plain list serializes exactly as it did before ?include=).
        if page.items and isinstance(page.items[0], MovieView):
            views = cast("Page[MovieView]", page)
            send_page(req, resp, views, movie_view_serializer(prior))
        else:
            send_page(req, resp, cast("Page[Movie]", page), movie_serializer(prior))
        conditional.answer_read(req, resp, *PAGE_HEADERS)  # the total and the links are the list's too

    @operation(
        "createMovie",
        "Add a movie (admins)",
        {"201": conditional.with_etag(ok(schema_ref("Movie"), "The new movie.", MOVIE_LINKS))},
        (*BODY_ERRORS, "403"),
        body=RequestBody("MovieWrite", MOVIE_BODY, "The movie; description and imagePath are optional."),
        tag="movies",
    )
    def on_post(self, req: Req, resp: Resp) -> None:
        movie = self._movies.create_movie(req.context.user, read_json(req))
        send(resp, movie_json(movie, self._movies.score_prior()), 201)
        conditional.tag_answer(resp)


def movie_etag(movie: Movie, prior: ScorePrior) -> str:
    """The ETag of a movie's representation as ``GET /api/movies/{id}/`` gives it (without
    ``?include=``): what If-Match on a change of the movie is compared with. Its score is in
    it: the tag moves when the catalogue's mean does (``Movies.score_prior``)."""
    return conditional.etag_of(encode(movie_json(movie, prior)))


class MovieDetail(DrfResource):
    token_checked_by_use_case = ("GET",)  # the token and the movie in one read

    def __init__(self, movies: Movies) -> None:
        self._movies = movies

    @operation(
        "getMovie",
        "A movie",
        {
            "200": conditional.with_etag(ok(schema_ref("Movie"), "The movie.")),
            "304": conditional.NOT_MODIFIED,
        },
        ("400", "404"),
        query=MOVIE_QUERY,
        parameters=(conditional.IF_NONE_MATCH_ON_READ,),
        tag="movies",
    )
    def on_get(self, req: Req, resp: Resp, movie_id: int) -> None:
        req.context.user, movie = self._movies.get_movie_as(
            req.context.token_key, movie_id, query_of(req, MOVIE_QUERY)
        )
        send(resp, any_movie_json(movie, self._movies.score_prior()))
        conditional.answer_read(req, resp)

    @operation(
        "updateMovie",
        "Replace a movie (admins)",
        {
            "200": conditional.with_etag(ok(schema_ref("Movie"), "The movie, changed.", MOVIE_LINKS)),
            "412": conditional.CHANGED_SINCE,
        },
        (*BODY_ERRORS, "403", "404"),
        body=RequestBody("MovieWrite", MOVIE_BODY, "The title; fields left out stay as they are."),
        parameters=(conditional.IF_MATCH_ON_CHANGE, conditional.IF_NONE_MATCH_ON_CHANGE),
        tag="movies",
    )
    def on_put(self, req: Req, resp: Resp, movie_id: int, partial: bool = False) -> None:
        prior = self._movies.score_prior()
        movie = self._movies.update_movie(
            req.context.user,
            movie_id,
            read_json(req),
            partial=partial,
            precondition=conditional.write_precondition(req, lambda current: movie_etag(current, prior)),
        )
        send(resp, movie_json(movie, prior))
        conditional.tag_answer(resp)  # the movie as it now is

    @operation(
        "patchMovie",
        "Change a movie (admins)",
        {
            "200": conditional.with_etag(ok(schema_ref("Movie"), "The movie, changed.", MOVIE_LINKS)),
            "412": conditional.CHANGED_SINCE,
        },
        (*BODY_ERRORS, "403", "404"),
        body=RequestBody("MoviePatch", MOVIE_BODY, "The fields to change.", partial=True),
        parameters=(conditional.IF_MATCH_ON_CHANGE, conditional.IF_NONE_MATCH_ON_CHANGE),
        tag="movies",
    )
    def on_patch(self, req: Req, resp: Resp, movie_id: int) -> None:
        self.on_put(req, resp, movie_id, partial=True)

    @operation(
        "deleteMovie",
        "Delete a movie and its ratings (admins)",
        {"204": no_content("Deleted."), "412": conditional.CHANGED_SINCE},
        ("400", "403", "404"),  # 400: a header value the server cannot read (a control character)
        parameters=(conditional.IF_MATCH_ON_CHANGE, conditional.IF_NONE_MATCH_ON_CHANGE),
        tag="movies",
    )
    def on_delete(self, req: Req, resp: Resp, movie_id: int) -> None:
        prior = self._movies.score_prior()
        self._movies.delete_movie(
            req.context.user,
            movie_id,
            precondition=conditional.write_precondition(req, lambda current: movie_etag(current, prior)),
        )
        resp.status = 204


class RateMovie(DrfResource):
    """``/api/movies/{id}/rate_movie/``: POST rates (create or update), DELETE un-rates."""

    token_checked_by_use_case = ("POST",)  # the token and the rating in one statement

    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    @operation(
        "rateMovie",
        "Rate a movie, or change one's rating of it",
        {
            "200": ok(schema_ref("RatingResult"), "Created or updated.", RATING_LINKS),
            "400": {
                "description": (
                    'No stars at all: {"message": "You need to provide stars"}; otherwise as any 400.'
                ),
                "content": {
                    JSON: {
                        "schema": {
                            "anyOf": [
                                schema_ref("StarsMissing"),
                                schema_ref("FieldErrors"),
                                schema_ref("Detail"),
                            ]
                        }
                    }
                },
            },
        },
        (*BODY_ERRORS, "404"),
        body=RequestBody("RateMovie", RATING_BODY, "The stars."),
        tag="ratings",
    )
    def on_post(self, req: Req, resp: Resp, movie_id: int) -> None:
        req.context.user, rating, created = self._ratings.rate_movie_as(
            req.context.token_key, movie_id, lambda: read_json(req)
        )
        message = "Rating created!" if created else "Rating updated!"
        send(resp, {"message": message, "result": rating_json(rating)})

    @operation(
        "unrateMovie",
        "Remove one's own rating of a movie",
        {"204": no_content("Removed.")},
        ("404",),
        tag="ratings",
    )
    def on_delete(self, req: Req, resp: Resp, movie_id: int) -> None:
        self._ratings.remove_own_rating(req.context.user, movie_id)
        resp.status = 204


class RatingList(DrfResource):
    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    @operation(
        "listRatings",
        "Every rating, or those of a movie and/or a user",
        {
            "200": page_answer(
                "Rating", "The ratings, by id (a user's: by movie; with since: by changed, id).", cursor=True
            )
        },
        ("400",),
        query=RATINGS_QUERY,
        tag="ratings",
    )
    def on_get(self, req: Req, resp: Resp) -> None:
        page = self._ratings.list_ratings(req.context.user, query_of(req, RATINGS_QUERY))
        send_page(req, resp, page, rating_json)


class RatingDetail(DrfResource):
    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    @operation(
        "getRating", "A rating", {"200": ok(schema_ref("Rating"), "The rating.")}, ("404",), tag="ratings"
    )
    def on_get(self, req: Req, resp: Resp, rating_id: int) -> None:
        send(resp, rating_json(self._ratings.get_rating(req.context.user, rating_id)))

    @operation(
        "deleteRating",
        "Delete a rating (its owner or an admin)",
        {"204": no_content("Deleted.")},
        ("403", "404"),
        tag="ratings",
    )
    def on_delete(self, req: Req, resp: Resp, rating_id: int) -> None:
        self._ratings.delete_rating(req.context.user, rating_id)
        resp.status = 204
