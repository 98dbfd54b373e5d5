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


def test_the_seeded_logos_are_uploaded_once_and_their_links_serve_them(app, client, user):
    """`flask organizations upload-logos` against moto's S3: each link the API hands out then serves the file."""
    import urllib.request

    from torium_api import aws
    from torium_api.organizations.services import LOGOS

    with app.app_context():
        aws.client("s3").create_bucket(Bucket=app.config["ORGANIZATION_LOGO_BUCKET"],
                                       CreateBucketConfiguration={"LocationConstraint": app.config["AWS_REGION"]})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["organizations", "upload-logos"])
    assert first.exit_code == 0 and first.output.split() == ["uploaded", "pko.png", "uploaded", "pekao.png",
                                                             "uploaded", "ing.png"]
    assert runner.invoke(args=["organizations", "upload-logos"]).exit_code == 0  # again: the same keys, no error
    for organization in client.get("/organizations", headers=user[1]).get_json()["data"]:
        with urllib.request.urlopen(organization["logo_link"], timeout=5) as response:  # noqa: S310 (moto)
            key = urlsplit(organization["logo_link"]).path.rsplit("/", 1)[1]
            assert response.read() == (LOGOS / key).read_bytes()
            assert response.headers["Content-Type"] == "image/png"
