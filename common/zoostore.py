"""Where a zoo lives: one SQLite file, and the `Zoo` a reader gets back from it.

Each finished network is written in one transaction: its row in ``networks`` (architecture,
recipe, status, parameter count, depth, test accuracy, wall time) and its arrays in
``arrays`` (curves at every evaluation, probe outputs, optionally final weights) as NumPy
``.npy`` bytes, never pickle. `load` returns a `Zoo`: the table, the aligned arrays, and the
views every study takes (`subset`, `finished`, `truncate`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from common.train import CURVES, eval_schedule
from common.zoospec import ZooSpec

TARGETS = ("final_val_acc", "max_val_acc", "test_acc")
HIDDEN_WHEN_TRUNCATED = ("test_acc", "test_loss", "final_val_acc", "max_val_acc", "wall_time")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS networks (
    idx INTEGER PRIMARY KEY, seed INTEGER NOT NULL, status TEXT NOT NULL,
    arch TEXT NOT NULL, recipe TEXT NOT NULL, extra TEXT NOT NULL,
    n_params INTEGER NOT NULL, depth INTEGER NOT NULL,
    test_acc REAL, test_loss REAL, wall_time REAL NOT NULL, device TEXT NOT NULL,
    host TEXT);
CREATE TABLE IF NOT EXISTS arrays (
    idx INTEGER NOT NULL REFERENCES networks(idx), name TEXT NOT NULL, data BLOB NOT NULL,
    crc INTEGER, PRIMARY KEY (idx, name));
"""
# crc: CRC-32 of `data`, checked on every read (NULL in zoos written before it existed);
# host: the machine that trained the network (NULL in zoos written before it existed)


def _encode(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _decode(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _connect(path: str | os.PathLike) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=60)
    with _readable(path):
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        for table, column, alter in ADDED_COLUMNS:  # a zoo from before they existed
            if column not in _columns(conn, table):
                with conn:
                    conn.execute(alter)
    return conn


# columns added to the schema after zoos were shipped: new networks fill them, older ones
# keep NULL (no checksum to verify; host unknown)
ADDED_COLUMNS = (
    ("arrays", "crc", "ALTER TABLE arrays ADD COLUMN crc INTEGER"),
    ("networks", "host", "ALTER TABLE networks ADD COLUMN host TEXT"),
)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of `table` (one of the schema's)."""
    return {name for (name,) in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))}


def _has_crc(conn: sqlite3.Connection) -> bool:
    return "crc" in _columns(conn, "arrays")


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; in a folder this process cannot write to (where a WAL zoo's
    shared-memory file cannot be made) the file is opened as immutable."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


class ZooCorruptError(ValueError):
    """A zoo file SQLite cannot read as a database: truncated, overwritten, or not a zoo."""


@contextlib.contextmanager
def _readable(path):
    """Turn SQLite's "malformed" / "not a database" into a `ZooCorruptError` naming the file
    and what to do (a locked or full database is not damage: it passes through)."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError):
            raise
        raise ZooCorruptError(
            f"zoo at {path} is damaged or not a zoo file (SQLite: {error}). Restore a copy, or"
            " remove it and build again (its networks are then re-trained)"
        ) from error


def _blobs(conn: sqlite3.Connection):
    """(idx, name, blob, crc or None) of every stored array."""
    crc = "crc" if _has_crc(conn) else "NULL"
    return conn.execute(f"SELECT idx, name, data, {crc} FROM arrays")


def _read_blob(blob: bytes, crc: int | None) -> tuple[np.ndarray | None, str | None]:
    """(the stored array, None), or (None, why it cannot be trusted)."""
    if crc is not None and zlib.crc32(blob) != crc:
        return None, "checksum mismatch"
    try:
        return _decode(blob), None
    except ValueError as error:
        return None, f"not a readable array ({error})"


def check(path: str | os.PathLike) -> list[tuple[int, str, str]]:
    """Every damaged array of the zoo at `path`: (network index, field, what is wrong)."""
    with _readable(path):
        conn = _read_only(Path(path))
        try:
            return [
                (int(idx), name, why)
                for idx, name, blob, crc in _blobs(conn)
                if (why := _read_blob(blob, crc)[1]) is not None
            ]
        finally:
            conn.close()


def forget(path: str | os.PathLike, indices) -> None:
    """Delete networks `indices` (row and arrays) so the next build re-trains just them."""
    conn = _connect(path)
    try:
        with conn:
            rows = [(int(i),) for i in indices]
            conn.executemany("DELETE FROM arrays WHERE idx = ?", rows)
            conn.executemany("DELETE FROM networks WHERE idx = ?", rows)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


FORMAT = 1  # the zoo file's format; a newer one is refused by this version


def _check_spec(conn: sqlite3.Connection, spec: ZooSpec, path) -> None:
    """Refuse a zoo built with another spec (or by a newer nnperf); record growth. A new
    zoo's spec is written with its first network (`_write`), so a build that fails before
    any network finishes leaves no spec behind to refuse the right one later."""
    _check_format(conn, path)
    row = conn.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone()
    if row is None:
        return
    stored = json.loads(row[0])
    mine = spec.to_dict()
    differ = [k for k in mine if k != "n_networks" and stored.get(k) != mine[k]]
    if differ:
        detail = ", ".join(f"{k}: stored {stored.get(k)!r}, given {mine[k]!r}" for k in differ)
        raise ValueError(f"zoo at {path} was built with another spec ({detail})")
    if spec.n_networks > stored["n_networks"]:
        with conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'spec'", (json.dumps(mine),))


def _check_format(conn: sqlite3.Connection, path) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    if row is not None and int(row[0]) > FORMAT:
        raise ValueError(
            f"zoo at {path} was built by a newer nnperf (format {row[0]}; this version reads "
            f"format {FORMAT}): upgrade nnperf"
        )


def _write(conn: sqlite3.Connection, record: dict, spec: ZooSpec) -> None:
    """Write one finished network (its row and all its arrays, and the zoo's spec and format
    with the first) in one transaction, then checkpoint the WAL so the ``.sqlite`` file alone
    holds every finished network."""
    arrays = record.pop("arrays")
    columns = ", ".join(record)
    with conn:  # one transaction: the row and all its arrays, or nothing
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('spec', ?)", (json.dumps(spec.to_dict()),))
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (str(FORMAT),))
        conn.execute(
            f"INSERT INTO networks ({columns}) VALUES ({', '.join('?' * len(record))})",
            tuple(record.values()),
        )
        blobs = [(name, _encode(a)) for name, a in arrays.items()]
        conn.executemany(
            "INSERT INTO arrays (idx, name, data, crc) VALUES (?, ?, ?, ?)",
            [(record["idx"], name, blob, zlib.crc32(blob)) for name, blob in blobs],
        )
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _pad(rows: list[np.ndarray], n: int) -> np.ndarray:
    """Stack per-network arrays of lengths <= n along a new axis 0, NaN-padded (diverged)."""
    shapes = {r.shape[1:] for r in rows if len(r)}
    if len(shapes) > 1:
        raise ValueError(f"per-network shapes differ {sorted(shapes)}; use probe_list()")
    tail = shapes.pop() if shapes else ()
    out = np.full((len(rows), n, *tail), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r[:n]
    return out


@dataclass
class Zoo:
    """A loaded zoo: one table row per network plus arrays aligned with `eval_epochs`.

    A truncated zoo (`truncate(budget)`) shows nothing recorded after `budget` epochs:
    curves and probes are cut, final targets, test results and weights are hidden, and a
    network's status says whether it had diverged by then.
    """

    spec: ZooSpec
    table: pd.DataFrame
    eval_epochs: np.ndarray
    arrays: list[dict[str, np.ndarray]]  # per network: "curve/..", "probe/..", "weights"
    budget: float | None = None  # None: fully visible
    hidden: frozenset[str] = frozenset()  # arrays a predictor's view leaves out (compare.visible)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        """One line: what the zoo is, not its arrays (``print(zoo)``)."""
        s = self.spec
        seen = "fully visible" if self.budget is None else f"truncated at {self.budget:g} epochs"
        return (
            f"Zoo({s.family!r} on {s.dataset!r}: {len(self)} of {s.n_networks} networks,"
            f" {s.epochs:g} epochs, {len(self.eval_epochs)} evaluations, {seen})"
        )

    def visible_evals(self, budget: float) -> int:
        """Number of evaluations taken within `budget` epochs of training (τ)."""
        return int(np.searchsorted(self.eval_epochs, budget + 1e-9))

    def _visible(self, name: str) -> list[np.ndarray]:
        if name in self.hidden:
            raise KeyError(f"{name!r} is hidden: the predictor's Requirements do not declare it")
        if self.arrays and not any(name in a for a in self.arrays):
            known = sorted({k for a in self.arrays for k in a})
            raise KeyError(f"{name!r} not recorded in this zoo; recorded: {known}")
        return [a.get(name, np.empty(0))[: len(self.eval_epochs)] for a in self.arrays]

    def curve(self, name: str) -> np.ndarray:
        """[n_networks, n_evals] curve (one of CURVES), NaN after a divergence."""
        if name not in CURVES:
            raise ValueError(f"unknown curve {name!r}; expected one of {CURVES}")
        return _pad(self._visible(f"curve/{name}"), len(self.eval_epochs))

    def probe(self, name: str) -> np.ndarray:
        """[n_networks, n_evals, ...] probe outputs (NaN-padded); ragged probes: probe_list."""
        return _pad(self._visible(f"probe/{name}"), len(self.eval_epochs))

    def probe_list(self, name: str) -> list[np.ndarray]:
        """Per network, its [n_evals_recorded, ...] probe outputs (shapes may differ)."""
        return self._visible(f"probe/{name}")

    def weights_list(self) -> list[np.ndarray | None]:
        """Per network, its final weights as one flat vector (None if it diverged)."""
        if self.budget is not None and self.budget < self.spec.epochs:
            raise ValueError(f"final weights are not visible at budget {self.budget}")
        if "weights" in self.hidden:
            raise KeyError("'weights' is hidden: the predictor's Requirements do not declare it")
        if not self.spec.keep_weights:
            raise ValueError("this zoo was built without keep_weights=True")
        return [a.get("weights") for a in self.arrays]

    def weights(self) -> np.ndarray:
        """[n_networks, n_weights] final weights (NaN rows for diverged networks)."""
        rows = self.weights_list()
        size = max((len(r) for r in rows if r is not None), default=0)
        if any(r is not None and len(r) != size for r in rows):
            raise ValueError("networks have different weight counts (architectures differ)")
        return np.stack([np.full(size, np.nan) if r is None else r for r in rows])

    def target(self, name: str = "final_val_acc") -> np.ndarray:
        """Per-network target: final_val_acc, max_val_acc or test_acc (NaN if diverged)."""
        if name not in TARGETS:
            raise ValueError(f"unknown target {name!r}; expected one of {TARGETS}")
        if name not in self.table:
            raise ValueError(f"target {name!r} is hidden in a zoo truncated at {self.budget}")
        return self.table[name].to_numpy(dtype=float)

    def finished(self, target: str = "final_val_acc") -> Zoo:
        """The networks whose `target` is known: those that did not diverge (the filter
        every study applies before it measures)."""
        ok = (self.table["status"] == "ok").to_numpy() & np.isfinite(self.target(target))
        return self.subset(np.flatnonzero(ok))

    def subset(self, rows) -> Zoo:
        """The networks selected by a boolean mask or positions (not `idx` values)."""
        positions = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        return replace(
            self,
            table=self.table.iloc[positions].reset_index(drop=True),
            arrays=[self.arrays[i] for i in positions],
        )

    def truncate(self, budget: float) -> Zoo:
        """A view in which nothing after `budget` epochs of training is visible."""
        if not (
            isinstance(budget, int | float | np.number) and np.isfinite(budget) and budget >= 0
        ):
            raise ValueError(f"budget={budget!r}: expected finite epochs >= 0")
        if budget >= self.spec.epochs:
            return replace(self, budget=float(budget))
        n = self.visible_evals(budget)
        table = self.table.drop(columns=[c for c in HIDDEN_WHEN_TRUNCATED if c in self.table])
        seen = np.array([len(a.get("curve/val_acc", ())) for a in self.arrays])
        table["status"] = np.where((seen < n) & (self.table["status"] != "ok"), "diverged", "ok")
        arrays = [{k: v for k, v in a.items() if k != "weights"} for a in self.arrays]
        return replace(
            self,
            table=table,
            eval_epochs=self.eval_epochs[:n],
            arrays=arrays,
            budget=float(budget),
        )


def load(path: str | os.PathLike) -> Zoo:
    """Load the zoo at `path` (all networks finished so far, in index order)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no zoo at {path}; build one with common.zoo.build")
    with _readable(path):
        conn = _read_only(path)
        try:
            _check_format(conn, path)
            row = conn.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone()
            if row is None:
                raise ValueError(
                    f"{path} holds no zoo spec (not a zoo, or no network finished yet)"
                )
            spec = ZooSpec.from_dict(json.loads(row[0]))
            table = pd.read_sql_query("SELECT * FROM networks ORDER BY idx", conn)
            arrays: dict[int, dict] = {int(i): {} for i in table["idx"]}
            for idx, name, blob, crc in _blobs(conn):
                array, why = _read_blob(blob, crc)
                if why is not None:
                    raise ValueError(
                        f"zoo at {path}: network {idx}, field {name!r} is damaged ({why}); "
                        f"`nnperf zoo check {path} --repair` removes the damaged networks and the "
                        "next build re-trains them"
                    )
                arrays[idx][name] = array
        finally:
            conn.close()
    if "host" not in table:  # a shipped zoo from before hosts were recorded, read-only
        table["host"] = None
    ordered = [arrays[int(i)] for i in table["idx"]]
    val_acc = [a.get("curve/val_acc", np.empty(0)) for a in ordered]
    table["final_val_acc"] = [
        v[-1] if s == "ok" else np.nan for v, s in zip(val_acc, table.status, strict=True)
    ]
    table["max_val_acc"] = [
        np.nanmax(v) if s == "ok" and len(v) else np.nan
        for v, s in zip(val_acc, table.status, strict=True)
    ]
    recipes = pd.DataFrame([json.loads(r) for r in table["recipe"]], index=table.index)
    extras = pd.DataFrame([json.loads(e) for e in table["extra"]], index=table.index)
    table = pd.concat([table.drop(columns=["recipe", "extra"]), recipes, extras], axis=1)
    return Zoo(spec, table, eval_schedule(spec.epochs, spec.eval_every), ordered)
