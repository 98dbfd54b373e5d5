"""An embedded PostgreSQL (the ``pgserver`` wheel) for machines without a database server.

Used only when ``DATABASE_URL`` is unset. Data lives under ``instance/pgdata`` and is
reused by the next run; the server stops when the last process using it exits.
"""

import warnings
from pathlib import Path
from urllib.parse import urlsplit

_servers: dict[str, object] = {}


def database_url(data_dir: str, database: str = "torium") -> str:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # a development dependency: production always sets DATABASE_URL

    Path(data_dir).parent.mkdir(parents=True, exist_ok=True)

    server = _servers.get(data_dir)
    if server is None:
        server = _servers[data_dir] = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    socket_dir = urlsplit(server.get_uri()).query.removeprefix("host=")
    return f"postgresql+psycopg2://postgres@/{database}?host={socket_dir}"
