"""`nnperf book`: execute every chapter notebook with papermill, then render the Jupyter Book.

Chapters are the packages' ``replication.ipynb`` (in the order of `PACKAGES`) and, when it
exists, ``book/compare.ipynb``. Each is executed into ``book/_build/notebooks/<name>.ipynb``
with ``scale`` and any ``-p KEY VALUE`` injected; every notebook runs even when another
fails. The book sources (``book/*.md``, config, bibliography, local extensions, ``_static``), the
executed notebooks and a generated table of contents are staged under ``book/_build/src``
and rendered by Jupyter Book 1.x into ``book/_build/html`` (MathJax is copied in, so math
renders offline). Zoos are cached by their spec in
``NNPERF_CACHE`` (default ``~/.cache/nnperf``), so a second build reuses them, and so are the
executed chapters (`execute_cached`), keyed by everything their outputs depend on
(`fingerprint`), so a second build re-executes only the chapters whose notebook, parameters,
library code, environment, shipped zoos or data changed (``nnperf book --rerun``: all).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("peephole", "peng4nn", "srm_earlystop", "feature_histories", "weights_to_acc")
# what an executed chapter depends on besides its notebook and parameters (`fingerprint`)
CODE = (*PACKAGES, "common", "comparison")
LOCKS = ("pyproject.toml", "uv.lock")
SOURCES = ("_config.yml", "intro.md", "api.md", "references.bib", "favicon.svg", "favicon.ico")


@dataclass
class Outcome:
    """How one notebook's execution went."""

    name: str
    output: Path
    seconds: float
    error: str | None = None  # "cell N: ErrorName: message" when it failed
    reused: bool = False  # the executed notebook came from the cache (`execute_cached`)


def table(frame, decimals: int = 3, missing: str = "-"):
    """`frame` as a chapter shows a table with gaps: numbers to `decimals`, a missing value
    (a τ of constant predictions, a network nobody predicted) as `missing` instead of
    ``NaN``, styled as pandas styles a plain table (class ``dataframe``), so it looks like
    the chapter's other tables. A pandas `Styler`: the notebook displays it."""
    return frame.style.format(precision=decimals, na_rep=missing).set_table_attributes(
        'class="dataframe"'
    )


def chapters(root: Path = ROOT) -> dict[str, Path]:
    """Chapter name -> source notebook, for every notebook that exists."""
    found = {name: root / name / "replication.ipynb" for name in PACKAGES}
    found["compare"] = root / "book" / "compare.ipynb"
    found["own_search"] = root / "book" / "own_search.ipynb"
    return {name: path for name, path in found.items() if path.exists()}


def absolute_env(names=("NNPERF_DATA", "NNPERF_CACHE")) -> None:
    """Make relative data and cache roots absolute: kernels run in the notebook's folder,
    where ``../shared/data`` would point elsewhere."""
    for var in names:
        if os.environ.get(var):
            os.environ[var] = str(Path(os.environ[var]).resolve())


def execute(name: str, source: Path, out_dir: Path, parameters: dict) -> Outcome:
    """Execute one notebook with papermill (in its folder); a failure is recorded, not
    raised."""
    import papermill
    from traitlets.config import Config

    absolute_env()
    output = out_dir / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=sys.stderr.isatty(),  # cells done, on a terminal only
            # CurveZMQ keys for the kernel's sockets when its spec supports them (ipykernel's
            # does): local traffic encrypted, and no "running over TCP without encryption"
            # warning from every kernel on the user's terminal
            config=Config({"KernelManager": {"transport_encryption": "auto"}}),
        )
    except papermill.PapermillExecutionError as failed:
        first_line = (failed.source or "").strip().splitlines()[:1]
        error = (
            f"cell {failed.cell_index} ({first_line[0] if first_line else ''!s}):"
            f" {failed.ename}: {failed.evalue}"
        )
        return Outcome(name, output, time.perf_counter() - start, error)
    except Exception as failed:  # noqa: BLE001 - a kernel that died, a missing file, ...
        return Outcome(
            name, output, time.perf_counter() - start, f"{type(failed).__name__}: {failed}"
        )
    hide_injected(output)
    return Outcome(name, output, time.perf_counter() - start)


def fingerprint(source: Path, parameters: dict, root: Path = ROOT) -> str:
    """A hash of everything an executed chapter's outputs depend on: the notebook, its
    parameters, the library's code (every ``.py`` file of `CODE`), the locked environment
    (`LOCKS`, the Python version), the shipped zoos and predictors (``zoos/``, by content),
    and the datasets under the data root (file names and sizes) with the root itself."""
    from common import data

    digest = hashlib.sha256()

    def add(label: str, content: bytes) -> None:
        digest.update(f"{label}\0{len(content)}\0".encode() + content)

    add("notebook", Path(source).read_bytes())
    add("parameters", json.dumps(parameters, sort_keys=True, default=str).encode())
    add("python", sys.version.encode())
    files = [f for d in CODE for f in (root / d).rglob("*.py") if "__pycache__" not in f.parts]
    files += [root / name for name in LOCKS if (root / name).exists()]
    files += [f for f in (root / "zoos").rglob("*") if f.is_file() and f.suffix != ".pyc"]
    for f in sorted(files):
        add(str(f.relative_to(root)), f.read_bytes())
    data_root = data.data_root().resolve()
    listing = sorted(
        f"{f.relative_to(data_root)}:{f.stat().st_size}"
        for f in (data_root.rglob("*") if data_root.is_dir() else [])
        if f.is_file()
    )
    add(f"data {data_root}", "\n".join(listing).encode())
    return digest.hexdigest()[:20]


def execute_cached(
    name: str, source: Path, out_dir: Path, parameters: dict, rerun: bool = False
) -> Outcome:
    """`execute`, or the same chapter's executed notebook from the cache
    (``$NNPERF_CACHE/notebooks``) when its `fingerprint` is unchanged; a successful
    execution is stored there. `rerun`: execute regardless (and store the result)."""
    from common import data

    absolute_env()
    key = fingerprint(source, parameters)
    cached = data.cache_dir() / "notebooks" / f"{name}-{key}.ipynb"
    output = out_dir / f"{name}.ipynb"
    if cached.exists() and not rerun:
        start = time.perf_counter()
        shutil.copy(cached, output)
        log.info("%s: unchanged since its last execution, reused %s", name, cached)
        return Outcome(name, output, time.perf_counter() - start, reused=True)
    outcome = execute(name, source, out_dir, parameters)
    if outcome.error is None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copy(output, partial)
        partial.replace(cached)  # whole or absent, even if the build is interrupted here
    return outcome


def hide_injected(path: Path) -> None:
    """Tag papermill's injected parameters cell ``remove-cell`` so the page shows only the
    notebook's own parameters cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def stage(src: Path, executed: list[Outcome], book_dir: Path) -> None:
    """Copy the book sources and the executed notebooks into `src`; write the TOC."""
    if src.exists():
        shutil.rmtree(src)
    (src / "chapters").mkdir(parents=True)
    for name in SOURCES:
        shutil.copy(book_dir / name, src / name)
    shutil.copytree(book_dir / "_ext", src / "_ext")
    if (book_dir / "_static").is_dir():  # CSS there is included in every page
        shutil.copytree(book_dir / "_static", src / "_static")
    for outcome in executed:
        shutil.copy(outcome.output, src / "chapters" / outcome.output.name)
    board = scoreboard(executed)
    (src / "claims.md").write_text(claims_page(board))
    toc = ["format: jb-book", "root: intro", "chapters:", "  - file: claims"]
    toc += [f"  - file: chapters/{o.name}" for o in executed] + ["  - file: api"]
    (src / "_toc.yml").write_text("\n".join(toc) + "\n")


def scoreboard(executed: list[Outcome]):
    """Every headline claim the executed chapters recorded (`common.scaling.record`, glued
    into the notebook under `common.scaling.CLAIMS_KEY`), one row per claim: read from the
    notebooks' outputs, so the scoreboard is what the chapters measured in this build."""
    import ast
    import json

    import nbformat
    import pandas as pd

    from common.scaling import CLAIM_COLUMNS, CLAIMS_KEY

    rows = []
    for outcome in executed:
        nb = nbformat.read(outcome.output, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("metadata", {}).get("scrapbook", {}).get("name") != CLAIMS_KEY:
                    continue
                text = out["data"]["application/papermill.record/text/plain"]
                for row in json.loads(ast.literal_eval(text)):
                    rows.append({"chapter": outcome.name, **row})
    return pd.DataFrame(rows, columns=["chapter", *CLAIM_COLUMNS])


def claims_page(board) -> str:
    """The scoreboard page (MyST markdown), generated at build time."""
    head = (
        "# What held: every paper's headline claims\n\n"
        "One row per headline claim, collected from the chapters as this build executed them"
        " (nothing here is typed in): the paper's value and setting, ours at the largest size"
        " measured with its 95 % interval over splits, the scale ours was measured at, our"
        " noise ceiling (two trainings of the same networks), and the verdict read from the"
        " chapter's scaling curve (`common.scaling.verdict`). Each chapter's own table"
        ' ("Summary: what held") adds its other claims.\n\n'
    )
    if board.empty:
        return head + "No chapter recorded a claim in this build.\n"
    cells = board.astype(str).map(lambda v: v.replace("|", "\\|"))
    lines = ["| " + " | ".join(cells.columns) + " |", "|" + "---|" * len(cells.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return head + "\n".join(lines) + "\n"


def render(src: Path, html: Path) -> None:
    """Render the staged book with Jupyter Book into `html` (replaced)."""
    work = src.parent / "jupyter-book"
    jupyter_book = Path(sys.executable).with_name("jupyter-book")  # the environment's own
    command = [str(jupyter_book), "build", str(src), "--path-output", str(work), "--warningiserror"]
    # its output is kept for failures only: its closing message names `work`, which is
    # moved away just below (`nnperf book` prints where the book is)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    if html.exists():
        shutil.rmtree(html)
    shutil.move(work / "_build" / "html", html)


REAL_DATASETS = ("mnist", "fashion_mnist", "cifar10")  # what the book scales look for


def data_notice(scale: str, environ=os.environ) -> str | None:
    """The line `build_book` logs before the chapters when ``NNPERF_DATA`` is unset at a scale
    with real datasets (the chapters then skip the ones not under the default data root and
    say which they ran on, without a warning on the page), set to what is not a folder, or to
    a folder holding none of `REAL_DATASETS` (a typo would otherwise give the digits book as
    quietly); None when there is nothing to say."""
    root = environ.get("NNPERF_DATA")
    if scale == "smoke":
        return None
    if root and Path(root).is_dir():
        from common import data  # imports torch: only when there is a folder to look into

        if any(data.available(name, root) for name in REAL_DATASETS):
            return None  # the first one found is decoded and cached for the chapters
        return (
            f"NNPERF_DATA={root!r} holds none of {', '.join(REAL_DATASETS)} in a layout the "
            "loaders read: the chapters run on digits (bundled); README, 'Data', names the "
            "layout"
        )
    if root:
        return (
            f"NNPERF_DATA={root!r} is not a folder: the chapters run on the datasets under the "
            "default data root (digits, bundled); point it at the folder holding MNIST, "
            "Fashion-MNIST and the CIFAR-10 subset (README, 'Data')"
        )
    return (
        "NNPERF_DATA is unset: the chapters run on the datasets under the default data root "
        "(digits, bundled, where MNIST, Fashion-MNIST and the CIFAR-10 subset are missing); "
        "set NNPERF_DATA to a folder holding them for the real-data book (README, 'Data')"
    )


def build_book(
    scale: str = "book",
    only: list[str] | None = None,
    parameters: dict | None = None,
    book_dir: Path = ROOT / "book",
    build_dir: Path | None = None,
    rerun: bool = False,
) -> tuple[Path, list[Outcome]]:
    """Execute the chapters and render the book.

    Args:
        scale: injected as the ``scale`` parameter of every notebook.
        only: chapter names to build (default all).
        parameters: further papermill parameters, injected into every notebook.
        book_dir: the book's source folder.
        build_dir: where outputs go (default ``book_dir/_build``).
        rerun: execute every chapter, even those unchanged since their cached execution.

    Returns:
        The HTML folder and one `Outcome` per executed notebook.
    """
    found = chapters(book_dir.parent)
    unknown = sorted(set(only or ()) - set(found))
    if unknown:
        raise ValueError(f"unknown chapter(s) {unknown}; available: {sorted(found)}")
    selected = {k: v for k, v in found.items() if not only or k in only}
    build_dir = build_dir or book_dir / "_build"
    out_dir = build_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    if notice := data_notice(scale):
        log.info(notice)
    for name, source in selected.items():
        log.info("executing %s at scale %s", name, scale)
        given = {"scale": scale, **(parameters or {})}
        outcomes.append(execute_cached(name, source, out_dir, given, rerun))
        log.info("%s: %s in %.0f s", name, outcomes[-1].error or "ok", outcomes[-1].seconds)
    succeeded = [o for o in outcomes if o.error is None]
    stage(build_dir / "src", succeeded, book_dir)
    html = build_dir / "html"
    render(build_dir / "src", html)
    return html, outcomes
