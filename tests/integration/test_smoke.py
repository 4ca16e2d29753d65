def test_login_and_list(api, user, movie):
    listed = user.get("/api/movies/")
    assert listed.status_code == 200
    assert listed.json() == [{**movie, "no_of_ratings": 0, "ave_ratings": 0}]
