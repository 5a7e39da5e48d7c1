"""First-time set-up (``mt init``): the config file, the database and its schema."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from mastertrade.config import Settings, mask_url, render_config_file
from mastertrade.db.database import Database, create_engine
from mastertrade.db.migrate import current_revisions, upgrade
from mastertrade.engine.warmup import Step, warm_compiled_code
from mastertrade.errors import ConfigError, OperationFailed, UserInputError
from mastertrade.locations import locations


async def initialise(
    settings: Settings, db_url: str | None = None, *, warm: bool = True, step: Step | None = None
) -> dict[str, Any]:
    """Create the database and run migrations, warm the compiled kernels (``warmup.py``), then write
    (or update) the config file.

    The database comes first: if it cannot be opened, no config file is written or changed.
    A new config file holds the defaults (and ``db_url`` when given), never the values in force: those
    may come from ``MT_*`` variables meant for one shell (``MT_MODE=live``, a database password in
    ``MT_DB__URL``), which must not become the installation's settings on disk.
    An existing config file is kept, comments and all; only ``[db] url`` changes when ``db_url`` is given.
    ``step`` hears of each compile step (``warm_compiled_code``), called from a worker thread.
    """
    where = locations()
    if db_url is not None:
        settings = settings.model_copy(update={"db": settings.db.model_copy(update={"url": db_url})})
    url = settings.db_url(where)
    engine = create_engine(url, busy_timeout_ms=settings.db.busy_timeout_ms)
    database = Database(engine)
    try:
        await upgrade(engine, stale_after_s=settings.db_lock.stale_after_s)
        revisions = sorted(await current_revisions(engine))
    except UserInputError:
        raise  # already one line naming the database (a schema newer than this code)
    except OSError as exc:
        raise OperationFailed(f"cannot open database {mask_url(url)}: {exc}") from None
    except Exception as exc:  # the driver's own errors (asyncpg, sqlite3) have no common base
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OperationFailed(f"cannot open database {mask_url(url)}: {reason}") from None
    finally:
        await database.close()

    compile_s = 0.0
    if warm:
        from mastertrade.engine.generator.pipeline import load_scoring_kernels

        also = (("generation kernels", load_scoring_kernels),)
        compile_s = await asyncio.to_thread(warm_compiled_code, step, also)

    path = where.config_file
    written = not path.exists()
    try:
        if written:
            _write_private(path, render_config_file(_defaults(db_url)))
        elif db_url is not None:
            _set_db_url(path, db_url)
    except OSError as exc:  # a read-only config folder, a file where the folder should be
        reason = (
            f"{path.parent} is a file, not a folder"
            if isinstance(exc, FileExistsError) and not path.parent.is_dir()
            else exc.strerror or str(exc)
        )
        raise OperationFailed(
            f"cannot write the config file {path}: {reason} (the database {mask_url(url)} is ready;"
            " fix the folder, or set MT_HOME, and run mt init again)"
        ) from None
    return {
        "config": str(path),
        "config_written": written,
        "database": mask_url(url),
        "revisions": revisions,
        "compile_s": round(compile_s, 2),
    }


def _defaults(db_url: str | None) -> Settings:
    """The settings of a fresh installation: every default, and ``db_url`` when given. Built without
    reading the environment or any file (``model_construct`` skips the settings sources; the defaults
    are validated section instances already)."""
    defaults = Settings.model_construct()
    if db_url is None:
        return defaults
    return defaults.model_copy(update={"db": defaults.db.model_copy(update={"url": db_url})})


def _set_db_url(path: Path, db_url: str) -> None:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    section = document.setdefault("db", tomlkit.table())
    section["url"] = db_url
    _write_private(path, tomlkit.dumps(document))


def _write_private(path: Path, text: str) -> None:
    """Write atomically (temp file + rename) with mode 0600: the file may come to hold keys."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
