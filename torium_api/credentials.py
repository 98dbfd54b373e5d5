"""Database credentials from AWS Secrets Manager (``DATABASE_SECRET_ARN``): the RDS-managed master secret.

RDS keeps the master password in a secret (``{"username", "password"}``; a secret may also carry ``host``,
``port`` and ``dbname``, which then win over ``DATABASE_URL``) and rotates it. The engine asks for the
credentials on every new connection: they are fetched once per process, and fetched again after the
database refuses them (the secret was rotated), once per refusal — a wrong secret fails fast, never loops.
"""

import json
import logging
import threading

import psycopg2
from sqlalchemy import event

log = logging.getLogger(__name__)
AUTH_FAILURE = ("password authentication failed", "authentication failed")


class DatabaseSecret:
    def __init__(self, client, secret_arn: str):
        self._client, self._arn = client, secret_arn
        self._lock = threading.Lock()
        self._value: dict | None = None
        self.fetches = 0  # for operators' logs and tests

    def get(self, *, refresh: bool = False) -> dict:
        with self._lock:
            if self._value is None or refresh:
                raw = self._client.get_secret_value(SecretId=self._arn)["SecretString"]
                value = json.loads(raw)
                self._value = {key: value[key] for key in ("username", "password", "host", "port", "dbname")
                               if value.get(key) not in (None, "")}
                self.fetches += 1
                log.info("database credentials fetched", extra={"fetches": self.fetches})
            return self._value


def _connect_parameters(secret: dict) -> dict:
    names = {"username": "user", "password": "password", "host": "host", "port": "port", "dbname": "dbname"}
    return {names[key]: str(value) for key, value in secret.items()}


def _refused(exc: Exception) -> bool:
    return isinstance(exc, psycopg2.OperationalError) and any(text in str(exc) for text in AUTH_FAILURE)


def use_secret(engine, secret: DatabaseSecret) -> None:
    """Make ``engine`` connect with the secret's credentials (psycopg2 connection parameters)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams):
        cparams.update(_connect_parameters(secret.get()))
        try:
            return dialect.connect(*cargs, **cparams)
        except psycopg2.OperationalError as exc:
            if not _refused(exc):
                raise
            log.warning("the database refused the cached credentials; fetching the secret again")
            cparams.update(_connect_parameters(secret.get(refresh=True)))
            return dialect.connect(*cargs, **cparams)
