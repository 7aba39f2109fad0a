"""The book: every notebook executed at smoke scale with papermill (one test each), the book
rendered with a page and a figure per chapter, notebooks kept thin and clean, failures
reported by name and cell, and a real-browser check of every page."""

import ast
import http.server
import logging
import os
import re
import shutil
import threading
from functools import partial
from pathlib import Path

import nbformat
import pytest

from common import book, cli

CHAPTERS = book.chapters()
ALLOWED_IMPORTS = {"common", "pandas", "numpy", "logging", "matplotlib", "seaborn", "IPython"}
ALLOWED_IMPORTS |= {*book.PACKAGES, "comparison"}


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory):
    """The smoke book's private cache (``NNPERF_CACHE``): its zoos are under ``zoos/``."""
    return tmp_path_factory.mktemp("book-cache")


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory, smoke_cache):
    """The book built once at smoke scale, with a private zoo cache."""
    tmp = tmp_path_factory.mktemp("book")
    previous = os.environ.get("NNPERF_CACHE")
    os.environ["NNPERF_CACHE"] = str(smoke_cache)  # inherited by the notebook kernels
    try:
        # a noise ceiling from 10 networks, the fewest without a `FewNetworksWarning` on the
        # page (the default 40 re-trained the whole of each smoke zoo)
        parameters = {"ceiling_networks": 10}
        html, outcomes = book.build_book("smoke", parameters=parameters, build_dir=tmp / "_build")
    finally:
        if previous is None:
            os.environ.pop("NNPERF_CACHE")
        else:
            os.environ["NNPERF_CACHE"] = previous
    return html, {o.name: o for o in outcomes}


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_notebook_executes_at_smoke_scale(smoke_book, name):
    _, outcomes = smoke_book
    assert outcomes[name].error is None, outcomes[name].error
    nb = nbformat.read(outcomes[name].output, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "no figure drawn"


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_chapter_page_has_a_figure(smoke_book, name):
    html, _ = smoke_book
    page = html / "chapters" / f"{name}.html"
    text = page.read_text()
    images = re.findall(r'<img[^>]*\ssrc="([^"]+)"', text)
    assert images, f"{page} shows no figure"
    assert "_static/nnperf.css" in text  # book/_static's CSS: tables fit a 1280-px screen
    assert all((page.parent / src).exists() for src in images)
    assert (html / "index.html").exists() and (html / "api.html").exists()
    assert "common.zoo.build" in (html / "api.html").read_text()  # generated from docstrings


def test_the_claims_page_is_generated_from_what_the_chapters_recorded(smoke_book):
    """Every replication chapter records its headline claims (glued, in a cell whose input
    the page hides) and opens with them; the claims page lists exactly those rows."""
    html, outcomes = smoke_book
    board = book.scoreboard(list(outcomes.values()))
    assert set(board["chapter"]) == set(book.PACKAGES)  # every paper has its headline rows
    assert (board["verdict"] != "").all() and board["ours"].str.contains(r"\[").all()
    page = (html / "claims.html").read_text()
    for name, part in board.groupby("chapter"):
        chapter = (html / "chapters" / f"{name}.html").read_text()
        for claim in part["claim"]:
            assert claim.replace("&", "&amp;") in page
            assert chapter.count(claim.replace("&", "&amp;")) >= 2  # its opening and its table
        nb = nbformat.read(outcomes[name].output, as_version=4)
        recorded = [c for c in nb.cells if "scaling.record(" in c.source]
        assert recorded and all("remove-input" in c.metadata.get("tags", []) for c in recorded)


def test_the_peng4nn_chapters_ceiling_is_on_its_ground_truth(smoke_book, smoke_cache):
    """PEng4NN scores its estimates against the best validation accuracy of the run (Sec.
    IV-C), so its chapter's noise ceiling is the two trainings' best accuracies' τ, not their
    final ones' (the zoo and its replicate read back from the smoke book's cache)."""
    from common import health, zoo
    from peng4nn import experiments

    _, outcomes = smoke_book
    spec = experiments.zoo_spec("digits", "smoke")
    first = zoo.load(zoo.cache_path(spec, smoke_cache / "zoos"))
    twin = zoo.load(zoo.cache_path(health.replicate_spec(spec, 10), smoke_cache / "zoos"))
    best = health.ceiling_of(first, twin, target="max_val_acc")
    final = health.ceiling_of(first, twin)
    assert f"{best['ceiling_top20']:.3f}" != f"{final['ceiling_top20']:.3f}" or (
        f"{best['ceiling_tau']:.3f}" != f"{final['ceiling_tau']:.3f}"
    ), "the smoke zoo cannot tell the two targets apart"
    nb = nbformat.read(outcomes["peng4nn"].output, as_version=4)
    shown = [
        o["data"]["text/plain"]
        for c in nb.cells
        if "health.shown(" in c.source
        for o in c.outputs
        if "text/plain" in o.get("data", {})
    ]
    rows = dict(re.findall(r"^(ceiling_\w+) +(-?[\d.]+)$", shown[0], re.M))
    assert rows["ceiling_tau"] == f"{best['ceiling_tau']:.3f}"
    assert rows["ceiling_top20"] == f"{best['ceiling_top20']:.3f}"


def test_a_table_with_gaps_shows_a_dash_at_the_decimals_asked_for_in_the_books_style():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"tau": [0.123456, np.nan], "epochs": [1538.0, 2.5]}, index=["a", "b"])
    html = book.table(frame, 2).to_html()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert [c.strip() for c in cells] == ["0.12", "1538.00", "-", "2.50"]
    assert 'class="dataframe"' in html  # styled like the chapters' plain tables


def test_a_claims_page_escapes_table_pipes_and_says_when_nothing_was_recorded():
    import pandas as pd

    from common import scaling

    assert "No chapter recorded a claim" in book.claims_page(pd.DataFrame())
    row = {"chapter": "x", **dict.fromkeys(scaling.CLAIM_COLUMNS, "a|b")}
    page = book.claims_page(pd.DataFrame([row]))
    assert "| x | a\\|b |" in page


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_notebook_is_clean_and_only_calls_packages(name):
    nb = nbformat.read(CHAPTERS[name], as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "stored with outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assigned = {t.id for node in ast.parse(tagged[0].source).body for t in node.targets}
    assert {"scale", "device", "seed"} <= assigned and assigned & {"dataset", "datasets"}
    for cell in code:
        tree = ast.parse(cell.source)
        assert len(cell.source.splitlines()) <= 20, "a long cell: move the logic to the package"
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert {n.split(".")[0] for n in names} <= ALLOWED_IMPORTS, names


def test_a_failing_notebook_is_reported_with_its_cell(tmp_path, capfd):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0  # boom")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    source = tmp_path / "broken.ipynb"
    nbformat.write(nb, source)
    outcome = book.execute("broken", source, tmp_path, {})
    assert outcome.error.startswith("cell 1 (1 / 0  # boom): ZeroDivisionError")
    # the kernel's own stderr reaches the terminal: no warning about plain-text TCP
    assert "without encryption" not in capfd.readouterr().err


def _tiny_notebook(path: Path, body: str) -> Path:
    cells = [nbformat.v4.new_code_cell("seed = 0"), nbformat.v4.new_code_cell(body)]
    cells[0].metadata["tags"] = ["parameters"]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}), path)
    return path


def _printed(outcome) -> str:
    nb = nbformat.read(outcome.output, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_an_unchanged_chapter_is_reused_and_any_change_executes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    source = _tiny_notebook(tmp_path / "tiny.ipynb", "import uuid\nprint(seed, uuid.uuid4())")
    runs = {}
    for label, params, rerun in [
        ("first", {"seed": 1}, False),
        ("again", {"seed": 1}, False),
        ("other parameters", {"seed": 2}, False),
        ("rerun", {"seed": 1}, True),
    ]:
        (tmp_path / label).mkdir()
        runs[label] = book.execute_cached("tiny", source, tmp_path / label, params, rerun)
    assert [o.reused for o in runs.values()] == [False, True, False, False]
    assert _printed(runs["again"]) == _printed(runs["first"])  # the same execution
    assert _printed(runs["rerun"]) != _printed(runs["first"])  # a new one (a new uuid)
    assert _printed(runs["other parameters"]).startswith("2 ")
    _tiny_notebook(source, "1 / 0")  # an edited notebook executes; a failure is not stored
    failed = book.execute_cached("tiny", source, tmp_path, {"seed": 1})
    assert failed.error and not failed.reused
    assert not book.execute_cached("tiny", source, tmp_path, {"seed": 1}).reused


def test_the_fingerprint_follows_code_environment_zoos_and_data(tmp_path, monkeypatch):
    root, data = tmp_path / "repo", tmp_path / "data"
    for folder in [root / "common", root / "zoos", data]:
        folder.mkdir(parents=True)
    (root / "common" / "a.py").write_text("x = 1\n")
    source = _tiny_notebook(tmp_path / "tiny.ipynb", "print(seed)")
    monkeypatch.setenv("NNPERF_DATA", str(data))
    keys = [book.fingerprint(source, {"seed": 1}, root)]
    for change in [
        lambda: (root / "common" / "a.py").write_text("x = 2\n"),
        lambda: (root / "uv.lock").write_text("torch 2.13\n"),
        lambda: (root / "zoos" / "blocks-digits-0.sqlite").write_bytes(b"zoo"),
        lambda: (data / "MNIST.npz").write_bytes(b"images"),
        lambda: monkeypatch.setenv("NNPERF_DATA", str(tmp_path / "elsewhere")),
    ]:
        change()
        keys.append(book.fingerprint(source, {"seed": 1}, root))
    assert len(set(keys)) == len(keys), keys
    (root / "common" / "__pycache__").mkdir()  # bytecode is not code
    (root / "common" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert book.fingerprint(source, {"seed": 1}, root) == keys[-1]


def test_cli_exits_non_zero_naming_failed_notebooks(monkeypatch, capsys, tmp_path):
    failed = book.Outcome("peng4nn", tmp_path / "peng4nn.ipynb", 1.0, "cell 3 (x): KeyError: 'a'")
    monkeypatch.setattr(book, "build_book", lambda *a, **k: (tmp_path, [failed]))
    assert cli.main(["book", "--scale", "smoke", "-p", "seed", "3"]) == 1
    assert "failed notebook peng4nn" in capsys.readouterr().err
    # the terminal shows our line per chapter, not papermill's paths and kernel name
    assert logging.getLogger("papermill").level == logging.WARNING


def test_unknown_chapter_is_named():
    with pytest.raises(ValueError, match=r"unknown chapter\(s\) \['nope'\]"):
        book.build_book("smoke", only=["nope"])


BROWSER = shutil.which("chromium") and shutil.which("chromedriver")


@pytest.mark.skipif(not BROWSER, reason="chromium and chromedriver are not installed")
def test_every_page_renders_in_a_real_browser(smoke_book):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    html, _ = smoke_book
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={html.parent / 'chromium-profile'}")
    options.add_argument("--window-size=1280,1600")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    shots = html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    pages = ["index.html", "intro.html", "claims.html", "api.html"]
    pages += [f"chapters/{name}.html" for name in sorted(CHAPTERS)]
    try:
        for page in pages:
            driver.get(f"http://127.0.0.1:{server.server_address[1]}/{page}")
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
            )
            if driver.find_elements("css selector", ".math"):
                WebDriverWait(driver, 60).until(
                    lambda d: d.execute_script(
                        "return document.querySelectorAll('mjx-container').length > 0"
                    ),
                    f"{page}: math not rendered",
                )
            broken = driver.execute_script(
                "return Array.from(document.images)"
                ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
            )
            assert not broken, f"{page}: images not loaded {broken}"
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, f"{page}: console errors {errors}"
            text = driver.find_element("tag name", "body").text
            noise = [n for n in ("it/s]", "Traceback", "# Parameters") if n in text]
            # a printed warning reads "SomeWarning: message"; the API page may name a class
            noise += re.findall(r"\b\w*Warning: ", text)
            # and a log record in logging's default format ("WARNING:common.data:skipping")
            noise += re.findall(r"\b(?:WARNING|ERROR|CRITICAL):\w", text)
            assert not noise, f"{page} shows {noise}"  # a cold build's pages, read as text
            wide = driver.execute_script(  # at 1280 px, no table or code scrolls sideways
                "return Array.from(document.querySelectorAll('article table, article pre'))"
                ".filter(t => t.scrollWidth > (t.tagName === 'PRE' ? t : t.parentElement)"
                ".clientWidth + 1).map(t => t.innerText.slice(0, 80))"
            )
            assert not wide, f"{page}: tables or code wider than the article {wide}"
            cells = driver.execute_script(
                "return Array.from(document.querySelectorAll('article td')).map(c => c.innerText)"
            )  # pandas prints an unrounded float in six decimals ("8.000000", "61.261083")
            unrounded = [c for c in cells if re.fullmatch(r"-?\d+\.\d{5,}", c.strip())]
            assert not unrounded, f"{page}: table cells not rounded {unrounded[:5]}"
            empty = [c for c in cells if c.strip() in {"NaN", "nan", "None", "<NA>", "NaT"}]
            assert not empty, f"{page}: table cells showing a missing value as {empty[:3]}"
            driver.save_screenshot(str(shots / (page.replace("/", "_") + ".png")))
        assert Path(shots / "intro.html.png").stat().st_size > 0
    finally:
        driver.quit()
        server.shutdown()


def test_relative_data_roots_become_absolute_for_the_kernels(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NNPERF_DATA", "../data")
    monkeypatch.delenv("NNPERF_CACHE", raising=False)
    book.absolute_env()
    assert os.environ["NNPERF_DATA"] == str((tmp_path / "../data").resolve())
    assert "NNPERF_CACHE" not in os.environ


# `nnperf book -p KEY VALUE` passes every parameter to every chapter, so each chapter takes
# the common ones, even where unused (own_search has no zoo: no cache, no noise ceiling)
COMMON_PARAMETERS = {"scale", "datasets", "device", "seed", "cache", "n_networks", "epochs"}
COMMON_PARAMETERS |= {"ceiling_networks"}
CHAPTER_PARAMETERS = {  # each documented in its cell's comment
    "srm_earlystop": {"train_size", "n_search", "draws"},
    "weights_to_acc": {"n_search", "net_epochs"},
    "feature_histories": {"live_epochs", "truth_trainings", "truth_networks"},
    "compare": {"settings"},
}


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_every_chapter_takes_the_same_parameters(name):
    nb = nbformat.read(CHAPTERS[name], as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    names = {t.id for node in ast.parse(cell.source).body for t in node.targets}
    expected = COMMON_PARAMETERS | CHAPTER_PARAMETERS.get(name, set())
    assert names == expected, names ^ expected
    extra = CHAPTER_PARAMETERS.get(name, set())
    lines = [line for line in cell.source.splitlines() if line.split(" =")[0] in extra]
    assert len(lines) == len(extra) and all("  # " in line for line in lines)


@pytest.mark.parametrize(
    "package", ["peephole", "srm_earlystop", "feature_histories", "weights_to_acc", "peng4nn"]
)
def test_zoo_size_and_epochs_overrides_take_effect(package):
    import importlib

    experiments = importlib.import_module(f"{package}.experiments")
    spec = experiments.zoo_spec("digits", "smoke", 0, n_networks=5, epochs=3)
    assert (spec.n_networks, spec.epochs) == (5, 3)
    assert experiments.zoo_spec("digits", "smoke", 0, n_networks=None) == experiments.zoo_spec(
        "digits", "smoke", 0
    )
    with pytest.raises(ValueError, match="unknown settings"):
        experiments.zoo_spec("digits", "smoke", 0, n_nets=5)
    with pytest.raises(ValueError, match="n_networks=0: expected an integer > 0"):
        experiments.zoo_spec("digits", "smoke", 0, n_networks=0)


def test_the_predictor_overrides_reach_the_predictors_and_leave_the_zoo_alone():
    """``-p draws 2`` (SRM) and ``-p net_epochs 5`` (Unterthiner's logit-linear and DNN):
    the miniatures' shortcuts change what is fitted, never which zoo is built."""
    from srm_earlystop import experiments as srm
    from weights_to_acc import experiments as w2a

    assert srm.scale_of("digits", "smoke", draws=3).draws == 3
    assert srm.zoo_spec("digits", "smoke", 0, draws=3) == srm.zoo_spec("digits", "smoke", 0)
    s = w2a.scale_of("digits", "smoke", net_epochs=7)
    assert w2a.predictor("dnn", "W", s).epochs == 7
    assert w2a.zoo_spec("digits", "smoke", 0, net_epochs=7) == w2a.zoo_spec("digits", "smoke", 0)
    with pytest.raises(ValueError, match="net_epochs=0: expected a number > 0"):
        w2a.scale_of("digits", "smoke", net_epochs=0)


def test_a_chapter_run_with_overrides_builds_the_zoo_it_was_asked_for(tmp_path, monkeypatch):
    """`papermill srm_earlystop/replication.ipynb out.ipynb -p n_networks 12 -p epochs 3`."""
    from common import zoo
    from srm_earlystop import experiments

    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    parameters = {"scale": "smoke", "n_networks": 12, "epochs": 3, "ceiling_networks": 3}
    outcome = book.execute("srm_earlystop", CHAPTERS["srm_earlystop"], tmp_path, parameters)
    assert outcome.error is None, outcome.error
    spec = experiments.zoo_spec("digits", "smoke", 0, n_networks=12, epochs=3)
    assert len(zoo.load(zoo.cache_path(spec, tmp_path / "cache" / "zoos"))) == 12
    text = outcome.output.read_text()
    assert "MetaQNN networks on digits, 3 epochs" in text


def test_render_shows_jupyter_books_output_only_when_it_fails(tmp_path, monkeypatch, capsys):
    """Jupyter Book's closing message names a folder `render` moves away: it is not shown
    on success; on failure its whole output is, and the error is raised."""
    import subprocess

    def fake(command, **kwargs):
        work = Path(command[command.index("--path-output") + 1])
        (work / "_build" / "html").mkdir(parents=True, exist_ok=True)
        return subprocess.CompletedProcess(command, fake.code, f"see {work}/_build/html", "")

    monkeypatch.setattr(book.subprocess, "run", fake)
    fake.code = 0
    book.render(tmp_path / "src", tmp_path / "html")
    assert (tmp_path / "html").is_dir() and "_build/html" not in capsys.readouterr().err
    fake.code = 2
    with pytest.raises(subprocess.CalledProcessError):
        book.render(tmp_path / "src2", tmp_path / "html2")
    assert "_build/html" in capsys.readouterr().err
