"""Model zoos: sets of trained networks with everything any method needs, built resumably.

A zoo is one SQLite file (WAL). Each finished network is written in one transaction: its row
in ``networks`` (architecture, recipe, status, parameter count, depth, test accuracy, wall
time) and its arrays in ``arrays`` (curves at every evaluation, probe outputs, optionally
final weights) as NumPy ``.npy`` bytes, never pickle. Building again on the same path trains
only the missing networks; a network's seed derives from (zoo seed, index), so a resumed zoo
equals an uninterrupted one. Workers train and return records; only the caller writes.

A family is a registered sampler ``sampler(rng, input_shape=..., num_classes=..., **options)
-> (Architecture, Recipe[, extra])`` where ``extra`` is a dict of further hyperparameters
(columns of the table). Packages register theirs with `register_family` or, so that worker
processes and the CLI find them without importing anything by hand, with an entry point in
the ``nnperf.families`` group.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import math
import os
import shutil
import sqlite3
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from common import archs
from common.plugins import lookup
from common.train import CURVES, Recipe, eval_schedule

log = logging.getLogger(__name__)

TARGETS = ("final_val_acc", "max_val_acc", "test_acc")
HIDDEN_WHEN_TRUNCATED = ("test_acc", "test_loss", "final_val_acc", "max_val_acc", "wall_time")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS networks (
    idx INTEGER PRIMARY KEY, seed INTEGER NOT NULL, status TEXT NOT NULL,
    arch TEXT NOT NULL, recipe TEXT NOT NULL, extra TEXT NOT NULL,
    n_params INTEGER NOT NULL, depth INTEGER NOT NULL,
    test_acc REAL, test_loss REAL, wall_time REAL NOT NULL, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS arrays (
    idx INTEGER NOT NULL REFERENCES networks(idx), name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (idx, name));
"""

# ----------------------------------------------------------------------------- families

FAMILIES: dict[str, Callable] = {}
BATCH_TRAINERS: dict[str, Callable] = {}
BATCH_CHUNK = 256  # networks per batched-training task (a task is written when it finishes)


def register_family(name: str, sampler: Callable, batch_trainer: Callable | None = None) -> None:
    """Register `sampler(rng, *, input_shape, num_classes, **options)` as family `name`.

    `batch_trainer(nets, splits, *, eval_every, probes, device, keep_weights)`, if given,
    trains a list of (arch, recipe, seed) together and returns their `RunResult`s in order
    (probes as name -> factory); `build` then hands it chunks of networks."""
    FAMILIES[name] = sampler
    if batch_trainer is not None:
        BATCH_TRAINERS[name] = batch_trainer


def get_family(name: str) -> Callable:
    """The sampler of family `name`: registered here, else from the entry point group."""
    return lookup(FAMILIES, "nnperf.families", name, "zoo family")


def demo_family(rng: np.random.Generator, *, input_shape, num_classes, max_width: int = 16):
    """A small CNN family for tests and benchmarks: 1–2 convs, widths and SGD lr sampled."""
    layers = []
    for _ in range(int(rng.integers(1, 3))):
        width = int(rng.choice([w for w in (4, 8, 16, 32) if w <= max_width]))
        layers += [{"type": "conv", "kernel": 3, "out_channels": width, "padding": 1}]
        layers += [{"type": "relu"}]
    layers += [{"type": "global_avg_pool"}, {"type": "linear", "out_features": num_classes}]
    recipe = Recipe(lr=float(10 ** rng.uniform(-2, -0.5)), batch_size=64)
    return archs.Architecture(input_shape, num_classes, layers), recipe


register_family("demo", demo_family)

# ----------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class ZooSpec:
    """What a zoo holds. Everything but `n_networks` must match to resume or grow a zoo."""

    family: str  # a registered family
    dataset: str = "digits"  # a `common.data` name
    n_networks: int = 20
    seed: int = 0  # network i is seeded from (seed, i)
    epochs: float = 5.0  # overrides the family recipe's epochs, so curves align
    eval_every: float = 1.0  # epochs between evaluations (0.5 for PEng4NN)
    probes: tuple[str, ...] = ()  # names in `common.probes.PROBES`
    family_options: dict = field(default_factory=dict)  # keyword arguments of the sampler
    keep_weights: bool = False  # store final weights (Unterthiner)
    val_size: float = 0.2  # validation fraction carved from train
    scaling: str = "standard"  # input scaling, see `common.data.load`
    # minibatch size imposed on every network (None: the family's own). Small datasets use
    # it to give a book-scale run the optimiser steps of the paper's regime (common.health).
    batch_size: int | None = None
    # 0: the zoo itself; r > 0: the same networks (architectures, hyperparameters, data
    # split) trained again from other seeds, for the noise ceiling (common.health)
    replicate: int = 0

    def __post_init__(self):
        object.__setattr__(self, "probes", tuple(self.probes))
        if self.n_networks < 0:
            raise ValueError(f"n_networks={self.n_networks} must be >= 0")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size} must be >= 1 (or None)")
        if self.replicate < 0:
            raise ValueError(f"replicate={self.replicate} must be >= 0")

    def to_dict(self) -> dict:
        """The spec as JSON-ready data; fields at their defaults since they were added
        (`batch_size`, `replicate`) are left out, so older zoos keep their keys."""
        d = asdict(self) | {"probes": list(self.probes)}
        for name, default in (("batch_size", None), ("replicate", 0)):
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ZooSpec:
        """The spec `to_dict` wrote (fields at their defaults may be absent)."""
        return cls(**d)

    def key(self) -> str:
        """A short stable hash of the spec (for cache file names)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def network_seeds(spec: ZooSpec, index: int) -> tuple[np.random.Generator, int]:
    """The sampling generator and the torch seed of network `index` (from zoo seed, index).

    A replicate (``spec.replicate`` r > 0) samples the same network and trains it from the
    seed of (zoo seed, index, r) instead."""
    sampling, training = np.random.SeedSequence([spec.seed, index]).spawn(2)
    if spec.replicate:
        training = np.random.SeedSequence([spec.seed, index, spec.replicate])
    return np.random.default_rng(sampling), int(training.generate_state(1)[0])


# ----------------------------------------------------------------------------- worker


def _encode(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _decode(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def sample_network(spec: ZooSpec, index: int, input_shape, num_classes):
    """(arch, recipe, extra) of network `index`, with the spec's epochs imposed (step-schedule
    milestones scaled in proportion) and its batch size, if it sets one."""
    rng, _ = network_seeds(spec, index)
    sampled = get_family(spec.family)(
        rng, input_shape=tuple(input_shape), num_classes=num_classes, **spec.family_options
    )
    arch, recipe, extra = (*sampled, {}) if len(sampled) == 2 else sampled
    # step milestones keep their place in training when the spec imposes its epochs
    milestones = tuple(m * spec.epochs / recipe.epochs for m in recipe.milestones)
    recipe = replace(recipe, epochs=spec.epochs, milestones=milestones)
    if spec.batch_size is not None:
        recipe = replace(recipe, batch_size=spec.batch_size)
    return arch, recipe, dict(extra)


@functools.lru_cache(maxsize=2)
def _load_splits(dataset, root, val_size, seed, scaling):
    """The zoo's data, loaded once per worker process (every network of a zoo shares it)."""
    from common import data

    return data.load(dataset, root, val_size=val_size, seed=seed, scaling=scaling)


def _prepare(task: dict):
    """(spec, splits, device) of a task, after importing the modules it names."""
    from common import train

    for module in task.get("modules", ()):
        import_module(module)  # registers families/probes defined outside common
    spec = ZooSpec.from_dict(task["spec"])
    splits = _load_splits(spec.dataset, task.get("root"), spec.val_size, spec.seed, spec.scaling)
    return spec, splits, train.resolve_device(task.get("device", "auto"))


def _network(spec: ZooSpec, index: int, splits):
    """(arch, recipe, extra, seed) of network `index`."""
    arch, recipe, extra = sample_network(spec, index, splits.input_shape, splits.num_classes)
    return arch, recipe, extra, network_seeds(spec, index)[1]


def train_network(task: dict) -> dict:
    """Train network ``task['index']`` of ``task['spec']``; return its record (no I/O)."""
    from common import probes, train

    spec, splits, device = _prepare(task)
    arch, recipe, extra, seed = _network(spec, task["index"], splits)
    result = train.train(
        arch,
        recipe,
        splits,
        seed=seed,
        eval_every=spec.eval_every,
        device=device,
        probes={name: probes.make_probe(name) for name in spec.probes},
        keep_weights=spec.keep_weights,
    )
    return _record(task["index"], seed, arch, recipe, extra, result, device)


def train_networks(task: dict) -> list[dict]:
    """Train networks ``task['indices']``: together with the family's batch trainer where
    it has one (and no probe needs the training pass), else one after another."""
    from common import probes

    spec, splits, device = _prepare(task)
    if not _batchable(spec):
        return [train_network(task | {"index": i}) for i in task["indices"]]
    nets = [_network(spec, i, splits) for i in task["indices"]]
    factories = {name: (lambda name=name: probes.make_probe(name)) for name in spec.probes}
    results = BATCH_TRAINERS[spec.family](
        [(arch, recipe, seed) for arch, recipe, _, seed in nets],
        splits,
        eval_every=spec.eval_every,
        probes=factories,
        device=device,
        keep_weights=spec.keep_weights,
    )
    return [
        _record(i, seed, arch, recipe, extra, result, device)
        for i, (arch, recipe, extra, seed), result in zip(
            task["indices"], nets, results, strict=True
        )
    ]


def _record(index, seed, arch, recipe, extra, result, device) -> dict:
    """The stored form of one trained network."""
    arrays = {f"curve/{k}": v for k, v in result.curves.items()}
    arrays |= {f"probe/{k}": v for k, v in result.probes.items()}
    if result.weights is not None:
        arrays["weights"] = result.weights
    return {
        "idx": index,
        "seed": seed,
        "status": result.status,
        "arch": arch.to_json(),
        "recipe": json.dumps(recipe.to_dict()),
        "extra": json.dumps(extra),
        "n_params": archs.num_params(arch),
        "depth": archs.depth(arch),
        "test_acc": result.test_acc,
        "test_loss": result.test_loss,
        "wall_time": result.wall_time,
        "device": str(device),
        "arrays": arrays,
    }


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # one torch thread per worker: workers already fill the cores


def default_executor(max_workers: int | None = None) -> Executor:
    """A local process pool (spawned workers, one torch thread each)."""
    return ProcessPoolExecutor(
        max_workers=max_workers or os.cpu_count(),
        mp_context=get_context("spawn"),
        initializer=_init_worker,
    )


# ----------------------------------------------------------------------------- storage


def _connect(path: str | os.PathLike) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


def _check_spec(conn: sqlite3.Connection, spec: ZooSpec, path) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone()
    if row is None:
        with conn:
            conn.execute("INSERT INTO meta VALUES ('spec', ?)", (json.dumps(spec.to_dict()),))
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


def _write(conn: sqlite3.Connection, record: dict) -> None:
    arrays = record.pop("arrays")
    columns = ", ".join(record)
    with conn:  # one transaction: the row and all its arrays, or nothing
        conn.execute(
            f"INSERT INTO networks ({columns}) VALUES ({', '.join('?' * len(record))})",
            tuple(record.values()),
        )
        conn.executemany(
            "INSERT INTO arrays VALUES (?, ?, ?)",
            [(record["idx"], name, _encode(a)) for name, a in arrays.items()],
        )


def build(
    spec: ZooSpec,
    path: str | os.PathLike,
    executor: Executor | None = None,
    progress: bool = True,
    *,
    root: str | os.PathLike | None = None,
    device: str = "auto",
    modules: Iterable[str] = (),
) -> Path:
    """Train every network of `spec` not yet in the zoo at `path`.

    Args:
        spec: the zoo to build.
        path: the SQLite file (created if missing).
        executor: any `concurrent.futures.Executor` (a Dask client's ``get_executor()``
            works); default a local process pool with one torch thread per worker.
        progress: show a tqdm progress bar.
        root: data root passed to `common.data.load`.
        device: training device in the workers (``auto``: CUDA when present).
        modules: modules the workers import first (families or probes registered at run time).

    Returns:
        `path`. Raises RuntimeError naming networks whose training raised (the others are kept).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    get_family(spec.family)  # fail fast on an unknown family
    conn = _connect(path)
    try:
        _check_spec(conn, spec, path)
        done = {i for (i,) in conn.execute("SELECT idx FROM networks")}
        missing = [i for i in range(spec.n_networks) if i not in done]
        if not missing:
            return path
        # workers import the family's module (and `modules`) so that run-time registrations
        # are seen; __main__ cannot be imported by a spawned worker
        modules = [m for m in [*modules, get_family(spec.family).__module__] if m != "__main__"]
        base = {
            "spec": spec.to_dict(),
            "root": None if root is None else str(root),
            "device": device,
            "modules": modules,
        }
        workers = min(len(missing), os.cpu_count() or 1)
        # batch-trained families get chunks of networks, the others one network per task
        size = min(BATCH_CHUNK, math.ceil(len(missing) / workers)) if _batchable(spec) else 1
        chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
        own = executor is None
        executor = default_executor(min(len(chunks), workers)) if own else executor
        failures = []
        try:
            futures = {executor.submit(train_networks, base | {"indices": c}): c for c in chunks}
            bar = tqdm(total=len(missing), desc=f"zoo {path.name}", disable=not progress)
            for future in as_completed(futures):
                try:
                    for record in future.result():
                        _write(conn, record)
                except Exception:  # noqa: BLE001 - keep building the others
                    failures += [(i, traceback.format_exc()) for i in futures[future]]
                bar.update(len(futures[future]))
            bar.close()
        finally:
            if own:
                executor.shutdown(cancel_futures=True)
        if failures:
            raise RuntimeError(
                f"{len(failures)} network(s) failed: {[i for i, _ in failures]}; first:\n"
                f"{failures[0][1]}"
            )
        return path
    finally:
        conn.close()


def _batchable(spec: ZooSpec) -> bool:
    """Whether `spec`'s family has a batch trainer and its probes need no training hook."""
    from common import probes

    if spec.family not in BATCH_TRAINERS:
        return False
    return not any(hasattr(probes.make_probe(n), "on_train_batch") for n in spec.probes)


def cache_path(spec: ZooSpec, cache: str | os.PathLike | None = None) -> Path:
    """Where the zoo of `spec` is cached: ``<cache>/<family>-<dataset>-<spec key>.sqlite``,
    `cache` defaulting to ``$NNPERF_CACHE/zoos`` (else ``~/.cache/nnperf/zoos``)."""
    from common.data import cache_dir

    folder = Path(cache) if cache else cache_dir() / "zoos"
    return folder / f"{spec.family}-{spec.dataset}-{spec.key()}.sqlite"


# zoos too big to build cold, built once with `nnperf zoo build` and shipped in the
# repository (DESIGN.md, "zoos/"); found by their spec's file name
SHIPPED = Path(__file__).resolve().parents[1] / "zoos"


def shipped_path(spec: ZooSpec, folder: str | os.PathLike | None = None) -> Path | None:
    """The zoo of exactly `spec` shipped in `folder` (default `SHIPPED`), if there is one."""
    path = cache_path(spec, folder or SHIPPED)
    return path if path.exists() else None


def build_cached(
    spec: ZooSpec, cache=None, device: str = "auto", executor=None, progress: bool = True
) -> Zoo:
    """The zoo of `spec`: the shipped one when the repository has it complete, else built
    (or resumed, or just loaded) in the cache; the notebooks' entry. A shipped zoo that is
    not complete yet is copied to the cache and finished there."""
    path = cache_path(spec, cache)
    shipped = shipped_path(spec)
    if shipped is not None and not path.exists():
        z = load(shipped)
        if len(z) >= spec.n_networks:
            log.info("zoo %s: using the shipped %s", spec.family, shipped)
            return z
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped, path)
    build(spec, path, executor, progress, device=device)
    return load(path)


# ----------------------------------------------------------------------------- reading


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
        if budget < 0:
            raise ValueError(f"budget={budget} must be >= 0 epochs")
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
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone()
        if row is None:
            raise ValueError(f"{path} holds no zoo spec (not a zoo, or never built)")
        spec = ZooSpec.from_dict(json.loads(row[0]))
        table = pd.read_sql_query("SELECT * FROM networks ORDER BY idx", conn)
        arrays: dict[int, dict] = {int(i): {} for i in table["idx"]}
        for idx, name, blob in conn.execute("SELECT idx, name, data FROM arrays"):
            arrays[idx][name] = _decode(blob)
    finally:
        conn.close()
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
