"""Falcon resources: each method turns a request into one use-case call and back."""

from __future__ import annotations

import falcon

from entrypoints.http.io import movie_json, rating_json, read_json, send, user_json
from movierater_core.use_cases import Accounts, Movies, Ratings

Req = falcon.Request
Resp = falcon.Response


class ApiRoot:
    """``/api/``: links to the collections, as DRF's DefaultRouter served."""

    def on_get(self, req: Req, resp: Resp) -> None:
        base = f"{req.prefix}/api/"
        send(resp, {name: f"{base}{name}/" for name in ("users", "movies", "ratings")})


class Login:
    """``/auth/``: POST exchanges credentials for a token, DELETE revokes the token used."""

    public_methods = ("POST",)

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, {"token": self._accounts.log_in(read_json(req), client=req.context.client)})

    def on_delete(self, req: Req, resp: Resp) -> None:
        self._accounts.log_out(req.context.token_key)
        resp.status = 204


class UserList:
    public_methods = ("POST",)  # registration is open

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def on_get(self, req: Req, resp: Resp) -> None:
        send(resp, [user_json(u) for u in self._accounts.list_users(req.context.user)])

    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, user_json(self._accounts.register(read_json(req), client=req.context.client)), 201)


class UserDetail:
    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def on_get(self, req: Req, resp: Resp, user_id: int) -> None:
        send(resp, user_json(self._accounts.get_user(req.context.user, user_id)))

    def on_put(self, req: Req, resp: Resp, user_id: int, partial: bool = False) -> None:
        user = self._accounts.update_user(
            req.context.user,
            user_id,
            read_json(req),
            partial=partial,
            current_key=req.context.token_key,
        )
        send(resp, user_json(user))

    def on_patch(self, req: Req, resp: Resp, user_id: int) -> None:
        self.on_put(req, resp, user_id, partial=True)

    def on_delete(self, req: Req, resp: Resp, user_id: int) -> None:
        self._accounts.delete_user(req.context.user, user_id)
        resp.status = 204


class MovieList:
    def __init__(self, movies: Movies) -> None:
        self._movies = movies

    def on_get(self, req: Req, resp: Resp) -> None:
        send(resp, [movie_json(m) for m in self._movies.list_movies(req.context.user)])

    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, movie_json(self._movies.create_movie(req.context.user, read_json(req))), 201)


class MovieDetail:
    def __init__(self, movies: Movies) -> None:
        self._movies = movies

    def on_get(self, req: Req, resp: Resp, movie_id: int) -> None:
        send(resp, movie_json(self._movies.get_movie(req.context.user, movie_id)))

    def on_put(self, req: Req, resp: Resp, movie_id: int, partial: bool = False) -> None:
        movie = self._movies.update_movie(req.context.user, movie_id, read_json(req), partial=partial)
        send(resp, movie_json(movie))

    def on_patch(self, req: Req, resp: Resp, movie_id: int) -> None:
        self.on_put(req, resp, movie_id, partial=True)

    def on_delete(self, req: Req, resp: Resp, movie_id: int) -> None:
        self._movies.delete_movie(req.context.user, movie_id)
        resp.status = 204


class RateMovie:
    """``/api/movies/{id}/rate_movie/``: POST rates (create or update), DELETE un-rates."""

    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    def on_post(self, req: Req, resp: Resp, movie_id: int) -> None:
        rating, created = self._ratings.rate_movie(req.context.user, movie_id, read_json(req))
        message = "Rating created!" if created else "Rating updated!"
        send(resp, {"message": message, "result": rating_json(rating)})

    def on_delete(self, req: Req, resp: Resp, movie_id: int) -> None:
        self._ratings.remove_own_rating(req.context.user, movie_id)
        resp.status = 204


class RatingList:
    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    def on_get(self, req: Req, resp: Resp) -> None:
        query = {name: req.get_param(name) for name in ("movie", "user") if req.has_param(name)}
        send(resp, [rating_json(r) for r in self._ratings.list_ratings(req.context.user, query)])


class RatingDetail:
    def __init__(self, ratings: Ratings) -> None:
        self._ratings = ratings

    def on_get(self, req: Req, resp: Resp, rating_id: int) -> None:
        send(resp, rating_json(self._ratings.get_rating(req.context.user, rating_id)))

    def on_delete(self, req: Req, resp: Resp, rating_id: int) -> None:
        self._ratings.delete_rating(req.context.user, rating_id)
        resp.status = 204
