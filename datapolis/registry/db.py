"""Opening the registry: engine, sessions, and a clear error when the URL is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from datapolis.errors import ConfigError


@dataclass
class Registry:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def _enable_sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def open_registry(url: str, *, check: bool = True, create: bool = True) -> Registry:
    """Create the engine for `url`; with `check`, connect once so a bad URL fails here.

    Without `create`, a SQLite file that does not exist yet is an error instead of a new file.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"registry database URL is not a valid SQLAlchemy URL: {url!r}") from None
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not create and not path.exists():
            raise ConfigError(f"registry {path} does not exist yet: run `datapolis db upgrade`")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # unknown driver names surface here
        raise ConfigError(
            f"cannot use registry database {parsed.render_as_string()}: {exc}"
        ) from None
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _enable_sqlite_pragmas)
    if check:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(
                f"cannot connect to registry database {parsed.render_as_string()}: {reason}"
            ) from None
    return Registry(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
