"""Reading and writing the external inventory table, whatever the database.

SQLAlchemy Core gives one way to reflect and query SQLite, PostgreSQL (psycopg 3) and
MySQL/MariaDB (PyMySQL): the sync never builds dialect-specific SQL by hand.

- Only files under FERRY_SYNC_ROOT are opened (``..`` and symlinks leading out are refused),
  and only after their header says SQLite. Uploaded files live in ``uploads/<organization id>/``
  and no other organization may point at them.
- A URL must name PostgreSQL or MySQL/MariaDB on a host in FERRY_SYNC_ALLOWED_HOSTS.
- Reads go through read-only connections (SQLite ``mode=ro``, PostgreSQL
  ``default_transaction_read_only``, MySQL ``SET SESSION TRANSACTION READ ONLY``) and fetch what
  they need in one short statement, so the shop application is never blocked by Ferry.
- The external application may hold the file at the same time: SQLite waits on a busy timeout and
  the whole operation is retried a few times before "locked" is reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from django.conf import settings
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from sync.errors import SyncNotAllowed, SyncSourceError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 5.0
LOCK_RETRIES = 3
CONNECT_TIMEOUT_SECONDS = 5
UPLOADS = "uploads"
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
}
# Query parameters that could point a driver at another server or socket are refused.
SAFE_QUERY_PARAMS = {"sslmode", "charset", "application_name"}

T = TypeVar("T")


# --- where the data may come from --------------------------------------------------------------


def sync_root() -> Path:
    root = Path(settings.FERRY_SYNC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def upload_dir(organization_id: int) -> Path:
    path = sync_root() / UPLOADS / str(organization_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sqlite_path_resolve(*, path: str, organization_id: int, must_exist: bool = True) -> Path:
    """The real file a connection's path names, refused unless it stays inside the sync folder."""
    text = (path or "").strip()
    if not text:
        raise SyncSourceError("Give the SQLite file's path (relative to the sync folder).")
    given = Path(text)
    if ".." in given.parts:
        raise SyncNotAllowed(
            f"The path '{text}' goes up with '..'; only files inside the sync folder are opened."
        )
    root = sync_root()
    try:
        real = (given if given.is_absolute() else root / given).resolve()
        exists = real.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte…
        reason = getattr(exc, "strerror", None) or "not a usable file name"
        raise SyncSourceError(f"The path '{text[:200]}' cannot be opened ({reason}).") from None
    if not real.is_relative_to(root):
        raise SyncNotAllowed(
            f"The path '{text}' leads outside the sync folder (FERRY_SYNC_ROOT); only files inside it "
            "are opened."
        )
    uploads = root / UPLOADS
    if real.is_relative_to(uploads) and not real.is_relative_to(uploads / str(organization_id)):
        raise SyncNotAllowed(f"The path '{text}' belongs to another organization's uploads.")
    if must_exist:
        if not exists:
            raise SyncSourceError(f"The SQLite file '{text}' does not exist in the sync folder.")
        sqlite_sniff(real, shown=text)
    return real


def sqlite_sniff(path: Path, *, shown: str) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise SyncSourceError(f"The file '{shown}' cannot be read ({exc.strerror}).") from None
    if head != SQLITE_HEADER:
        raise SyncSourceError(f"The file '{shown}' is not an SQLite database.")


def allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in settings.FERRY_SYNC_ALLOWED_HOSTS if h.strip()}


def url_check(text: str) -> URL:
    """A PostgreSQL or MySQL/MariaDB URL on an allowed host, with Ferry's driver."""
    try:
        url = make_url((text or "").strip())
    except ArgumentError:
        raise SyncSourceError(
            "The connection URL is not valid; write it like postgresql://user:password@host:5432/db "
            "or mysql://user:password@host:3306/db."
        ) from None
    driver = DRIVERS.get(url.drivername)
    if driver is None:
        raise SyncNotAllowed(
            f"'{url.drivername}' databases are not supported by URL: use PostgreSQL or MySQL/MariaDB "
            "(an SQLite file is uploaded or placed in the sync folder)."
        )
    host = (url.host or "").lower()
    if not host or host not in allowed_hosts():
        raise SyncNotAllowed(
            f"The host '{url.host or '(none)'}' is not allowed for sync connections. The operator "
            f"allows: {', '.join(sorted(allowed_hosts()))} (setting FERRY_SYNC_ALLOWED_HOSTS)."
        )
    extra = set(url.query) - SAFE_QUERY_PARAMS
    if extra:
        raise SyncNotAllowed(
            f"The URL parameter '{sorted(extra)[0]}' is not allowed in a sync connection URL."
        )
    if not url.database:
        raise SyncSourceError("The connection URL must name a database (…/dbname).")
    return url.set(drivername=driver)


def url_display(text: str) -> str:
    """The URL without its password, for pages and logs."""
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid URL)"


# --- engines -----------------------------------------------------------------------------------


def engine_open(*, connection, write: bool = False) -> Engine:
    """An engine for the connection: read-only unless ``write`` (one write-back transaction)."""
    if connection.kind == "sqlite":
        path = sqlite_path_resolve(path=connection.path, organization_id=connection.organization_id)
        mode = "rw" if write else "ro"  # never "rwc": Ferry does not create the shop's file
        engine = sa.create_engine(
            f"sqlite+pysqlite:///file:{quote(str(path))}?mode={mode}&uri=true",
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
        )
        if write:
            # The write-back re-reads its rows and updates them under one write lock taken at
            # BEGIN, so the shop application cannot change a row between the check and the write.
            @sa.event.listens_for(engine, "connect")
            def _manual(dbapi_connection, _record):
                dbapi_connection.isolation_level = None

            @sa.event.listens_for(engine, "begin")
            def _immediate(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    url = url_check(connection.url)
    if url.drivername.startswith("postgresql"):
        args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if not write:
            args["options"] = "-c default_transaction_read_only=on"
        return sa.create_engine(url, poolclass=NullPool, connect_args=args)
    engine = sa.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    if not write:

        @sa.event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

    return engine


def _is_locked(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "lock wait timeout" in text


def retrying(fn: Callable[[], T], *, what: str) -> T:
    """Run ``fn``; a lock held by the shop application is waited for, then retried."""
    for attempt in range(LOCK_RETRIES):
        try:
            return fn()
        except DBAPIError as exc:
            if _is_locked(exc) and attempt < LOCK_RETRIES - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            raise _source_error(exc, what=what) from None
    raise AssertionError("unreachable")


def _source_error(exc: SQLAlchemyError, *, what: str) -> SyncSourceError:
    if _is_locked(exc):
        return SyncSourceError(
            f"The external database stayed locked by another program while {what} "
            f"(waited {BUSY_TIMEOUT_SECONDS * LOCK_RETRIES:.0f} s). Try again when it is idle."
        )
    original = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
    return SyncSourceError(f"The external database failed while {what}: {original}")


# --- the table ---------------------------------------------------------------------------------


def values_hash(values: dict[str, Any]) -> str:
    """A stable fingerprint of one external row, to see whether it changed since last read."""
    text = json.dumps({k: json_value(v) for k, v in values.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value else None
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class ExternalTable:
    """One external table, reflected; every read is one short statement on a fresh connection."""

    def __init__(self, *, connection, engine: Engine | None = None):
        self.connection = connection
        self.engine = engine or engine_open(connection=connection)
        self.table = retrying(self._reflect, what="reading the table's columns")
        self.columns: list[str] = [c.name for c in self.table.columns]
        self.key = self._column(connection.key_column, role="key column")
        self.filter_column = (
            self._column(connection.filter_column, role="filter column")
            if connection.filter_column
            else None
        )

    def _reflect(self) -> sa.Table:
        name = self.connection.table
        try:
            return sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        except NoSuchTableError:
            tables = sa.inspect(self.engine).get_table_names()
            raise SyncSourceError(
                f"The external database has no table '{name}'. Tables: "
                f"{', '.join(tables) if tables else '(none)'}."
            ) from None
        except DBAPIError as exc:
            if "unable to open" in str(exc).lower():
                raise SyncSourceError(
                    f"The SQLite file '{self.connection.path}' cannot be opened."
                ) from None
            raise

    def _column(self, name: str, *, role: str) -> sa.Column:
        if name not in self.table.columns:
            raise SyncSourceError(
                f"The table '{self.connection.table}' has no {role} '{name}'. Columns: "
                f"{', '.join(self.columns)}."
            )
        return self.table.columns[name]

    def columns_require(self, names: Iterable[str], *, role: str) -> None:
        for name in names:
            self._column(name, role=role)

    def _available(self):
        if self.filter_column is None:
            return sa.true()
        return self.filter_column == self.connection.filter_value

    def _search(self, search: str):
        text_columns = [
            c
            for c in self.table.columns
            if isinstance(c.type, sa.String | sa.Text) or c is self.key
        ]
        pattern = f"%{search.strip().lower()}%"
        return sa.or_(*[sa.func.lower(sa.cast(c, sa.String)).like(pattern) for c in text_columns])

    def _read(self, statement, *, what: str) -> list[dict[str, Any]]:
        def run():
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(statement)]

        return retrying(run, what=what)

    def available_count(self, *, search: str = "") -> int:
        statement = sa.select(sa.func.count()).select_from(self.table).where(self._available())
        if search.strip():
            statement = statement.where(self._search(search))
        return self._scalar(statement)

    def _scalar(self, statement) -> int:
        def run():
            with self.engine.connect() as conn:
                return conn.execute(statement).scalar_one()

        return int(retrying(run, what="counting the available rows"))

    def available_rows(
        self,
        *,
        keys: Sequence[str] | None = None,
        search: str = "",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        statement = sa.select(self.table).where(self._available()).order_by(self.key)
        if keys is not None:
            statement = statement.where(sa.cast(self.key, sa.String).in_([str(k) for k in keys]))
        if search.strip():
            statement = statement.where(self._search(search))
        if offset:
            statement = statement.offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
        return self._read(statement, what="reading the available rows")

    def rows_by_key(self, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Every row (available or not) with one of these keys, grouped by key."""
        wanted = [str(k) for k in keys]
        out: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            statement = sa.select(self.table).where(sa.cast(self.key, sa.String).in_(chunk))
            for row in self._read(statement, what="reading rows by key"):
                out.setdefault(str(row[self.key.name]), []).append(row)
        return out

    def write_back(self, updates: dict[str, tuple[str, dict[str, Any]]]) -> tuple[list, list]:
        """Apply ``{key: (expected hash, new values)}`` in one transaction.

        Each row is re-read inside the transaction; one that changed since Ferry last read it is
        skipped (returned as a conflict), never overwritten. Returns (written keys with their new
        values, conflicting keys with what changed).
        """
        writer = engine_open(connection=self.connection, write=True)

        def run():
            written, conflicts = [], []
            with writer.begin() as conn:
                for key, (expected, values) in updates.items():
                    current = [
                        dict(r._mapping)
                        for r in conn.execute(
                            sa.select(self.table).where(sa.cast(self.key, sa.String) == key)
                        )
                    ]
                    if len(current) != 1:
                        conflicts.append(
                            (key, "the row is gone" if not current else "the key is duplicated")
                        )
                        continue
                    if values_hash(current[0]) != expected:
                        conflicts.append((key, "the row changed since Ferry last read it"))
                        continue
                    conn.execute(
                        sa.update(self.table)
                        .where(sa.cast(self.key, sa.String) == key)
                        .values(**values)
                    )
                    written.append((key, {**current[0], **values}))
            return written, conflicts

        try:
            return retrying(run, what="writing back sold items")
        finally:
            writer.dispose()

    def close(self) -> None:
        self.engine.dispose()
