def test_login_and_list(api, user, movie):
    listed = user.get("/api/movies/")
    assert listed.status_code == 200
    assert listed.json() == [{**movie, "no_of_ratings": 0, "ave_ratings": 0}]


def test_api_root_links_the_collections(api, user):
    assert api.get("/api/").status_code == 401
    root = user.get("/api/")
    assert root.status_code == 200
    assert root.json() == {name: f"{api.base_url}/api/{name}/" for name in ("users", "movies", "ratings")}


def test_a_method_a_route_lacks_is_405_even_without_credentials(api):
    response = api.get("/auth/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}
