from urllib.parse import urlsplit


def test_get_organizations_lists_the_seeded_banks_with_logo_links(client, user):
    response = client.get("/organizations", headers=user[1])
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert [o["name"] for o in data] == ["PKO", "Pekao", "ING"]
    for organization in data:
        assert set(organization) == {"id", "name", "url", "logo_link"}
        assert isinstance(organization["id"], int)
        assert organization["url"].startswith("https://")
        link = urlsplit(organization["logo_link"])
        assert link.path.endswith(".png")
        assert "Signature=" in link.query  # presigned (SigV2 or SigV4 query auth)


def test_get_organizations_needs_a_token(client):
    assert client.get("/organizations").status_code == 401
