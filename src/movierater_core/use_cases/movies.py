"""Movies: anyone signed in reads them; only admins change them."""

from __future__ import annotations

from collections.abc import Sequence

from movierater_core.errors import NotFound
from movierater_core.model import Movie, MovieFields, User
from movierater_core.ports import Database
from movierater_core.rules import (
    MISSING,
    Form,
    parse_description,
    parse_image_path,
    parse_title,
)
from movierater_core.use_cases._common import require_admin, retrying
from movierater_core.use_cases.uploads import Uploads


def parse_movie(data: object, *, partial: bool) -> MovieFields:
    """Validate a movie body. POST and PUT need the title; a field left out is left as it
    is (on create: description empty, no image), as DRF's serializers do."""
    form = Form(data)
    title = form.take("title", parse_title, required=not partial)
    description = form.take("description", parse_description, required=False)
    image_path = form.take("imagePath", parse_image_path, required=False)
    form.finish()
    return MovieFields(
        title=None if title is MISSING else title,  # type: ignore[arg-type]
        description=None if description is MISSING else description,  # type: ignore[arg-type]
        image_path=None if image_path is MISSING else image_path,  # type: ignore[arg-type]
        image_path_given=image_path is not MISSING,
    )


class Movies:
    def __init__(self, db: Database, uploads: Uploads) -> None:
        self._db = db
        self._uploads = uploads

    def list_movies(self, actor: User) -> Sequence[Movie]:
        with self._db.reading() as repos:
            return repos.movies.list()

    def get_movie(self, actor: User, movie_id: int) -> Movie:
        with self._db.reading() as repos:
            movie = repos.movies.get(movie_id)
        if movie is None:
            raise NotFound
        return movie

    def create_movie(self, actor: User, data: object) -> Movie:
        require_admin(actor)
        fields = parse_movie(data, partial=False)
        self._uploads.check_poster(fields.image_path)
        with self._db.writing() as repos:
            return repos.movies.add(fields)

    def update_movie(self, actor: User, movie_id: int, data: object, *, partial: bool) -> Movie:
        require_admin(actor)
        fields = parse_movie(data, partial=partial)
        with self._db.reading() as repos:
            if repos.movies.get(movie_id) is None:
                raise NotFound
        self._uploads.check_poster(fields.image_path)
        with self._db.writing() as repos:
            if repos.movies.get(movie_id) is None:
                raise NotFound
            repos.movies.update(movie_id, fields)
            movie = repos.movies.get(movie_id)
        assert movie is not None
        return movie

    def delete_movie(self, actor: User, movie_id: int) -> None:
        """Delete a movie and its ratings."""
        require_admin(actor)

        def work() -> None:
            with self._db.writing() as repos:
                if repos.movies.get(movie_id) is None:
                    raise NotFound
                for rating in repos.ratings.list(movie_id=movie_id, for_update=True):
                    repos.ratings.delete(rating.id)
                repos.movies.delete(movie_id)

        retrying(work)
