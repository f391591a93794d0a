"""Command line: ``nma-bayes fit DATA.csv ...`` (also ``python -m nma_bayes``).

Validates the data, fits the network, writes ``report.html`` and the CSV tables into ``--out``
and prints the relative effects. Invalid input prints the library's message, prefixed
``error:``, to stderr and exits with status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

__all__ = ["main", "build_parser"]

EXIT_INPUT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``nma-bayes`` command."""
    parser = argparse.ArgumentParser(
        prog="nma-bayes",
        description="Bayesian network meta-analysis (nma_bayes on PyMC).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit = sub.add_parser(
        "fit",
        help="fit a network and write a report and tables",
        description=(
            "Fit a Bayesian network meta-analysis to a CSV of study contrasts (study, treat1, "
            "treat2, TE, seTE[, se_base]) or arms (study, treatment, mean, sd, n; with "
            "--measure), write report.html and CSV tables into --out and print the relative "
            "effects."
        ),
    )
    fit.add_argument("data", metavar="DATA.csv", help="contrast-level or arm-level data (CSV)")
    fit.add_argument("--reference", help="reference treatment (default: in the most studies)")
    direction = fit.add_mutually_exclusive_group()
    direction.add_argument(
        "--lower-is-better",
        dest="lower_is_better",
        action="store_const",
        const=True,
        default=None,
        help="smaller effects are better (enables rankings / SUCRA)",
    )
    direction.add_argument(
        "--higher-is-better",
        dest="lower_is_better",
        action="store_const",
        const=False,
        help="larger effects are better (enables rankings / SUCRA)",
    )
    fit.add_argument("--effects", choices=("random", "fixed"), default="random")
    fit.add_argument(
        "--engine",
        choices=("pymc", "exact"),
        default="pymc",
        help="MCMC with PyMC/nutpie (default) or the exact quadrature engine",
    )
    fit.add_argument("--measure", choices=("SMD", "MD"), help="effect measure of arm-level data")
    fit.add_argument("--seed", type=int, help="random seed (default: drawn and reported)")
    fit.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    fit.add_argument("--classes", metavar="COL", help="column holding treatment classes")
    fit.add_argument(
        "--out",
        type=Path,
        default=Path("nma_results"),
        metavar="DIR",
        help="output directory (default nma_results/)",
    )
    return parser


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_fit(args: argparse.Namespace) -> int:
    from .errors import NMAInputError
    from .export import export_tables
    from .fit import as_network, fit_network
    from .report import write_report

    _progress("reading data…")
    try:
        data = pd.read_csv(args.data)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise NMAInputError(f"cannot read {args.data}: {exc}") from exc
    options = {}
    if args.measure is not None:
        options["measure"] = args.measure
    if args.classes is not None:
        options["classes"] = args.classes
    if args.lower_is_better is not None:
        options["lower_is_better"] = args.lower_is_better

    _progress("validating…")
    network = as_network(data, reference=args.reference, **options)

    _progress("fitting…")
    fit = fit_network(
        network,
        effects=args.effects,
        engine=args.engine,
        random_seed=args.seed,
        draws=args.draws,
        progressbar=args.engine == "pymc" and sys.stderr.isatty(),
    )

    _progress("writing report and tables…")
    out = Path(args.out)
    report = write_report(fit, out / "report.html", lower_is_better=args.lower_is_better)
    tables = export_tables(fit, out, format="csv", lower_is_better=args.lower_is_better)

    rel = fit.relative_effects()
    with pd.option_context("display.width", 120, "display.max_columns", None):
        print(rel.round(3).to_string(index=False))
    _progress(f"seed {fit.seed}, engine {fit.engine}")
    for path in (report, *tables):
        _progress(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``nma-bayes`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for invalid input or options.
    """
    from .errors import NMAInputError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "fit":
            return _run_fit(args)
    except (NMAInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return EXIT_INPUT_ERROR  # pragma: no cover - argparse requires a command
