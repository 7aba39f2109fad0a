"""The ``nnperf`` command line: ``nnperf zoo build ...``, ``nnperf zoo info PATH`` and
``nnperf book [--scale ...] [--only NAME ...] [-p KEY VALUE ...]``."""

from __future__ import annotations

import argparse
import json
import logging
import sys


def _option(text: str) -> tuple[str, object]:
    """``key=value`` with a JSON value (plain strings allowed): a family option."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _zoo_build(args) -> int:
    from common import zoo

    spec = zoo.ZooSpec(
        family=args.family,
        dataset=args.dataset,
        n_networks=args.n,
        seed=args.seed,
        epochs=args.epochs,
        eval_every=args.eval_every,
        probes=tuple(args.probe),
        family_options=dict(args.option),
        keep_weights=args.keep_weights,
        batch_size=args.batch_size,
        replicate=args.replicate,
    )
    if args.scheduler is not None or args.dask_workers is not None:
        with zoo.dask_executor(args.scheduler, args.dask_workers) as executor:
            zoo.build(spec, args.path, executor, root=args.root, device=args.device)
        print(args.path)
        return 0
    executor = None
    if args.workers is not None:
        executor = zoo.default_executor(args.workers)
    try:
        zoo.build(spec, args.path, executor, root=args.root, device=args.device)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    print(args.path)
    return 0


def _zoo_info(args) -> int:
    from common import health, zoo

    z = zoo.load(args.path)
    print(f"zoo {args.path}")
    print(json.dumps(z.spec.to_dict(), indent=2))
    print(f"networks: {len(z)} of {z.spec.n_networks}")
    print(z.table["status"].value_counts().to_string())
    ok = z.table["status"] == "ok"
    if ok.any():
        cols = ["n_params", "depth", "final_val_acc", "max_val_acc", "test_acc", "wall_time"]
        print(z.table.loc[ok, cols].describe().T[["mean", "min", "max"]].to_string())
    report = {}  # health's figures; the splits' sizes feed the ceilings' sampling shares
    if len(z):
        trained = where_trained(z)
        print(trained.to_string())
        print(
            "hours by device kind: "
            + ", ".join(f"{k} {v:.2f}" for k, v in trained.attrs["hours"].items())
        )
        report = health.health(z, root=args.root)
        _print_health(report)
    twin = None
    if len(z) and not z.spec.replicate:  # a replicate has no replicate of its own
        spec = health.replicate_spec(z.spec, args.ceiling or None)
        twin = health.replicate_path(args.path, spec)
    if args.ceiling:
        health.noise_ceiling(args.path, args.ceiling, root=args.root)  # trains the replicate
    if twin is not None and twin.exists():
        _print_ceilings(z, [zoo.load(twin)], report, "")
        # the ceilings of truths averaged over k trainings, where their 2k - 1 replicates of
        # the same networks are beside the zoo (Cao's truth: the mean of three)
        for k in range(2, 6):
            specs = health.replicate_specs(z.spec, args.ceiling or None, trainings=k)
            paths = [health.replicate_path(args.path, s) for s in specs]
            if not all(p.exists() for p in paths):
                break
            twins = [zoo.load(p) for p in paths]
            if any(len(t) < s.n_networks for t, s in zip(twins, specs, strict=True)):
                break
            print(f"noise ceiling of the mean of {k} trainings ({len(twins)} replicates):")
            _print_ceilings(z, twins, report, f"mean{k}_")
    else:
        print("noise ceiling: not measured (add --ceiling 40 to train 40 networks again)")
    return 0


def _print_ceilings(z, twins, report: dict, label: str) -> None:
    """The ceilings of `z` and its replicates `twins` (`common.health.ceiling_of`) on the
    final validation accuracy, the run's best (PEng4NN's truth) and the test accuracy
    (Cao's and Unterthiner's truth); each figure's name prefixed with `label` and the
    target's."""
    from common import health

    targets = (("final_val_acc", ""), ("max_val_acc", "max_val_"), ("test_acc", "test_"))
    for target, prefix in targets:
        images = report.get(health.CEILING_TARGETS[target])
        c = health.ceiling_of(z, twins, images, target)
        _print_health({label + prefix + k: v for k, v in c.items()})


def where_trained(z):
    """Networks and hours of training per host and device (GPU and CPU hours: what the zoo
    cost); hosts are unknown for zoos written before they were recorded."""
    table = z.table.assign(host=z.table["host"].fillna("(not recorded)"))
    table = table.assign(kind=table["device"].str.split(":").str[0])
    out = table.groupby(["host", "device"]).agg(
        networks=("idx", "size"), hours=("wall_time", lambda t: t.sum() / 3600)
    )
    totals = table.groupby("kind")["wall_time"].sum() / 3600
    out.attrs["hours"] = totals.to_dict()
    return out.round(3)


def _print_health(report: dict) -> None:
    for key, value in report.items():
        print(f"{key:>15}  {value:.3f}" if isinstance(value, float) else f"{key:>15}  {value}")


def _book(args) -> int:
    from common.book import build_book

    parameters = {key: _option(f"{key}={value}")[1] for key, value in args.p}
    html, outcomes = build_book(args.scale, args.only, parameters, rerun=args.rerun)
    for o in outcomes:
        state = "FAILED" if o.error else "unchanged, reused" if o.reused else "ok"
        print(f"{o.name}: {state} ({o.seconds:.0f} s)")
    print(html / "index.html")
    failed = [o for o in outcomes if o.error is not None]
    for o in failed:
        print(f"failed notebook {o.name} ({o.output}): {o.error}", file=sys.stderr)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    """The ``nnperf`` argument parser (``zoo`` and ``book`` commands)."""
    top = argparse.ArgumentParser(prog="nnperf", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    zoo_cmd = commands.add_parser("zoo", help="build and inspect model zoos")
    zoo_sub = zoo_cmd.add_subparsers(dest="zoo_command", required=True)

    b = zoo_sub.add_parser("build", help="train the missing networks of a zoo")
    b.add_argument("path", help="SQLite file of the zoo (created or resumed)")
    b.add_argument("--family", required=True, help="registered family, e.g. demo")
    b.add_argument("--dataset", default="digits")
    b.add_argument("-n", type=int, default=20, help="number of networks")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--epochs", type=float, default=5.0)
    b.add_argument("--eval-every", type=float, default=1.0)
    b.add_argument("--probe", action="append", default=[], help="probe name (repeatable)")
    b.add_argument("--option", action="append", type=_option, default=[], help="KEY=VALUE")
    b.add_argument("--keep-weights", action="store_true")
    b.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="minibatch imposed on every network (default: the family's)",
    )
    b.add_argument(
        "--replicate",
        type=int,
        default=0,
        help="train the same networks from other seeds (noise ceiling)",
    )
    b.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    b.add_argument("--scheduler", default=None, help="build on the Dask scheduler at ADDRESS")
    b.add_argument(
        "--dask-workers", type=int, default=None, help="build on a local Dask cluster of N"
    )
    b.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    b.add_argument("--root", default=None, help="data root (default NNPERF_DATA)")
    b.set_defaults(func=_zoo_build)

    book = commands.add_parser("book", help="execute every notebook and render the book")
    book.add_argument("--scale", default="book", choices=["smoke", "book", "paper"])
    book.add_argument("--only", nargs="+", metavar="NAME", help="chapters to build")
    book.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="papermill parameter for every notebook (JSON value or string)",
    )
    book.add_argument(
        "--rerun",
        action="store_true",
        help="execute every chapter, even one unchanged since its cached execution",
    )
    book.set_defaults(func=_book)

    i = zoo_sub.add_parser("info", help="summarise a zoo")
    i.add_argument("path")
    i.add_argument(
        "--ceiling",
        type=int,
        default=0,
        metavar="N",
        help="train the first N networks again from other seeds (kept beside the "
        "zoo) and report the noise ceiling",
    )
    i.add_argument("--root", default=None, help="data root (default NNPERF_DATA)")
    i.set_defaults(func=_zoo_info)

    c = zoo_sub.add_parser("check", help="verify every stored array of a zoo (checksums)")
    c.add_argument("path")
    c.add_argument(
        "--repair",
        action="store_true",
        help="remove the damaged networks so that the next build re-trains just them",
    )
    c.set_defaults(func=_zoo_check)
    return top


def _zoo_check(args) -> int:
    """``nnperf zoo check``: list damaged arrays; 1 if any (after --repair: removed)."""
    from common import zoostore

    damaged = zoostore.check(args.path)
    for idx, name, why in damaged:
        print(f"network {idx}: {name}: {why}")
    if not damaged:
        print(f"{args.path}: every stored array is intact")
        return 0
    networks = sorted({idx for idx, _, _ in damaged})
    if args.repair:
        zoostore.forget(args.path, networks)
        print(f"removed networks {networks}: build the zoo again to re-train them")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run ``nnperf`` with `argv`; the exit status (errors print a message, not a traceback)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # papermill's four INFO lines a notebook (paths, kernel) repeat our per-chapter lines
    logging.getLogger("papermill").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"nnperf: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
