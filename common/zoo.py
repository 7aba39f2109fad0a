"""Model zoos: sets of trained networks with everything any method needs, built resumably.

The zoo in three rooms: `common.zoospec` says what a zoo holds (families, `ZooSpec`, the
sampling of each network), `common.zoostore` where it lives (the SQLite file, `Zoo`, `load`),
and this module how it is built (`build`, `build_cached`, the workers). Everything is
re-exported here, so ``common.zoo`` stays the one name users import.

Building again on the same path trains only the missing networks; workers train and return
records; only the caller writes, one network per transaction, so a killed build loses at most
the networks in flight.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import math
import os
import shutil
import socket
import sqlite3
import threading
import time
import traceback
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from common import archs
from common.zoospec import (  # noqa: F401 - re-exported: common.zoo is the public name
    BATCH_TRAINERS,
    FAMILIES,
    ZooSpec,
    demo_family,
    get_family,
    network_seeds,
    register_family,
    sample_network,
)
from common.zoostore import (  # noqa: F401 - re-exported
    HIDDEN_WHEN_TRUNCATED,
    SCHEMA,
    TARGETS,
    Zoo,
    ZooCorruptError,
    _check_spec,
    _connect,
    _write,
    load,
)

log = logging.getLogger(__name__)

BATCH_CHUNK = 256  # networks per batched-training task (a task is written when it finishes)

# ----------------------------------------------------------------------------- worker


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
        "host": socket.gethostname(),  # where it trained (a pool's or a cluster's worker)
        "arrays": arrays,
    }


def _init_worker(gpus: tuple[str, ...] = (), counter=None) -> None:
    if gpus and counter is not None:  # before CUDA starts: this worker sees one GPU
        with counter.get_lock():
            k, counter.value = counter.value, counter.value + 1
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu_for(k, gpus)
    import torch

    torch.set_num_threads(1)  # one torch thread per worker: workers already fill the cores
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def gpu_for(worker: int, gpus: tuple[str, ...]) -> str:
    """The GPU of the `worker`-th worker: round-robin over the visible GPUs, so a pool of
    more workers than GPUs puts several small networks' trainings on each."""
    return gpus[worker % len(gpus)]


def visible_gpus() -> tuple[str, ...]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` names them (empty
    without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return ()
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    names = [g.strip() for g in listed.split(",") if g.strip()] if listed else []
    return tuple(names) or tuple(str(i) for i in range(torch.cuda.device_count()))


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """A worker's watchdog: exit as soon as the building process is gone (killed, even by
    SIGKILL), instead of training networks nobody will write."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def default_executor(max_workers: int | None = None, gpus: tuple[str, ...] | None = None):
    """A local process pool (spawned workers, one torch thread each). On a CUDA machine each
    worker is given one of the visible GPUs (`gpus`, default `visible_gpus`), round-robin:
    with more workers than GPUs, several train on each GPU."""
    context = get_context("spawn")
    gpus = visible_gpus() if gpus is None else tuple(gpus)
    return ProcessPoolExecutor(
        max_workers=max_workers or os.cpu_count(),
        mp_context=context,
        initializer=_init_worker,
        initargs=(gpus, context.Value("i", 0)),
    )


# ----------------------------------------------------------------------------- building


@contextlib.contextmanager
def dask_executor(scheduler: str | None = None, workers: int | None = None):
    """A Dask cluster as the executor of `build` (the ``dask`` extra: ``nnperf[dask]``):
    the scheduler at address `scheduler` (``tcp://host:8786``; start one with
    ``dask scheduler`` and ``dask worker ADDRESS`` on each machine, or through
    ``dask-jobqueue`` on SLURM / PBS), or a local cluster of `workers` processes of one
    thread each. Workers train and return records; the building process alone writes the
    zoo. A worker that dies has its networks re-run elsewhere (Dask retries its task)."""
    if (scheduler is None) == (workers is None):
        raise ValueError("give either a scheduler address or a number of local workers")
    if workers is not None and not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers={workers!r}: expected an integer >= 1")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(
            "building on Dask needs the dask extra: uv pip install 'nnperf[dask]'"
        ) from None
    cluster = None
    if workers is not None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
        progress: show a tqdm progress bar (on a terminal; never in a notebook's output).
        root: data root passed to `common.data.load`.
        device: training device in the workers (``auto``: CUDA when present).
        modules: modules the workers import first (families or probes registered at run time).

    Returns:
        `path`. Raises RuntimeError naming networks whose training raised (the others are kept).
    """
    path = Path(path)
    spec.validate()  # refused before anything touches disk
    _check_device(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    with builder_lock(path):
        return _build(spec, path, executor, progress, root, device, modules)


@contextlib.contextmanager
def builder_lock(path: Path):
    """One builder per zoo file: a lock beside it (``<zoo>.lock``, with the holder's host and
    pid in ``<zoo>.builder``). A second build of the same zoo is refused with a message
    naming the running one, before it trains anything."""
    from filelock import FileLock, Timeout

    lock, owner = FileLock(f"{path}.lock"), Path(f"{path}.builder")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = owner.read_text().strip() if owner.exists() else "another process"
        raise RuntimeError(
            f"zoo at {path} is being built by {holder}; wait for that build to finish "
            "(or stop it) and run this one again: it resumes"
        ) from None
    try:
        owner.write_text(f"pid {os.getpid()} on host {socket.gethostname()}\n")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()  # the empty .lock file stays: removing it would race a new builder


def _build(spec, path: Path, executor, progress, root, device, modules) -> Path:
    """`build` with the lock held."""
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
            # a bar on a terminal only (disable=None): a notebook's stream is not a TTY, so the
            # book's pages carry no progress output
            bar = tqdm(
                total=len(missing), desc=f"zoo {path.name}", disable=None if progress else True
            )
            for future in as_completed(futures):
                try:
                    for record in future.result():
                        _write(conn, record, spec)
                except Exception as error:  # noqa: BLE001 - keep building the others
                    if is_disk_full(error):  # not the networks' fault: stop, keep what is stored
                        raise DiskFullError(_disk_full_message(conn, path)) from error
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
        with contextlib.suppress(sqlite3.Error):  # a full disk may refuse the checkpoint too
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the .sqlite file alone is complete
        conn.close()


class DiskFullError(OSError):
    """The disk (or the zoo file's size limit) filled during a build. Every network written
    before is kept; the build resumes once there is space."""


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` is a full disk: SQLite's ``SQLITE_FULL`` or an ``ENOSPC`` from a
    worker (e.g. writing a dataset), rather than a network that failed to train."""
    if isinstance(error, sqlite3.OperationalError):
        return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
            "disk is full" in str(error)
        )
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def _disk_full_message(conn: sqlite3.Connection, path: Path) -> str:
    """What a full disk left behind and what to do."""
    try:
        (stored,) = conn.execute("SELECT COUNT(*) FROM networks").fetchone()
    except sqlite3.Error:
        stored = "every finished"
    return (
        f"disk full while writing the zoo at {path}: the build stopped; {stored} network(s) "
        "stored before are kept. Free some space and run the build again: it resumes."
    )


def _check_device(device: str) -> None:
    """ValueError unless `device` names a torch device this machine has (``auto``, ``cpu``,
    ``cuda`` / ``cuda:N`` only with a GPU)."""
    import torch

    if str(device) == "auto":
        return
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as bad:
        raise ValueError(f"device={device!r}: expected 'auto', 'cpu' or 'cuda[:N]'") from bad
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but this machine has no CUDA GPU (use 'auto')")


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
