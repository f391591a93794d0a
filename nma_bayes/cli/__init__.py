"""Command line: ``nma-bayes fit DATA.csv ...`` (also ``python -m nma_bayes``).

Reads the CSV (:func:`nma_bayes.data.io.read_csv_table`), validates the data, checks that ``--out``
can receive the report and tables, fits the network, writes ``report.html`` and the CSV tables
into ``--out`` and prints the relative effects. The model options (engine and sampler settings,
class model, priors by name), the class summaries, node-splitting, the global inconsistency
checks (``--inconsistency``) and DIC are in
:mod:`nma_bayes.cli.analysis`; the parser of priors by name in :mod:`nma_bayes.cli.priors`.

Every failure (invalid input or options, an unusable ``--out``, a file that cannot be read or
written, an unexpected internal error) prints one line prefixed ``error:`` to stderr and exits
with status 2, without a traceback (``--debug`` re-raises errors that are not input errors, to
show the traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .. import __version__
from .analysis import add_model_arguments, model_options

__all__ = ["main", "build_parser"]

EXIT_INPUT_ERROR = 2


class OutputLocationError(Exception):
    """``--out`` cannot receive the report and tables (checked before fitting)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``nma-bayes`` command."""
    parser = argparse.ArgumentParser(
        prog="nma-bayes",
        description="Bayesian network meta-analysis (nma_bayes on PyMC).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    fit.add_argument(
        "--effects", choices=("random", "fixed"), default="random",
        help="random (default) or fixed effects",
    )  # fmt: skip
    fit.add_argument(
        "--engine",
        choices=("pymc", "exact", "laplace", "auto"),
        default="pymc",
        help="MCMC with PyMC/nutpie (default), the exact quadrature engine (normal likelihood), "
        "the Laplace engine (arm-level outcomes) or auto (the fastest that covers the model, "
        "NUTS where the Laplace engine refuses)",
    )
    fit.add_argument("--measure", choices=("SMD", "MD"), help="effect measure of arm-level data")
    _add_outcome_arguments(fit)
    fit.add_argument("--seed", type=int, help="random seed (default: drawn and reported)")
    add_model_arguments(fit)
    fit.add_argument(
        "--out",
        type=Path,
        default=Path("nma_results"),
        metavar="DIR",
        help="output directory (default nma_results/; created, and checked before fitting)",
    )
    fit.add_argument(
        "--debug",
        action="store_true",
        help="re-raise unexpected errors with their traceback instead of a one-line message",
    )
    _add_cache_commands(sub)
    return parser


def _add_cache_commands(sub) -> None:
    """``nma-bayes cache clear|info`` and ``nma-bayes warmup`` (the compiled-model cache)."""
    cache = sub.add_parser(
        "cache",
        help="show or clear the disk cache of compiled models",
        description="The disk cache of compiled models (see nma_bayes.engines.compiled_cache); "
        "its folder follows the platform convention, or $NMA_BAYES_CACHE_DIR.",
    )
    cache.add_argument("action", choices=("clear", "info"), help="clear it, or print its folder")
    warm = sub.add_parser(
        "warmup",
        help="compile the common model structures into the disk cache",
        description="Compile random- and fixed-effects contrast models for networks of up to 8 "
        "and 16 non-reference treatments, so that later processes start from the cache.",
    )
    warm.add_argument(
        "--buckets", type=int, nargs="+", default=[8, 16], metavar="N",
        help="treatment-count buckets (multiples of 8; default 8 16)",
    )  # fmt: skip


def _run_cache(args: argparse.Namespace) -> int:
    from ..engines.compiled_cache import CacheClearError, cache_dir, cache_root
    from ..engines.nuts import clear_cache

    if args.action == "info":
        print(cache_dir())
        return 0
    try:
        removed, error = clear_cache(), None
    except CacheClearError as exc:  # say what was removed, then what was not (exit status 2)
        removed, error = exc.removed, exc
    if removed or error is None:
        print(f"removed {len(removed)} cache folder(s) or stray file(s) named compiled-* from "
              f"{cache_root()}" + "".join(f"\n  {p}" for p in removed))  # fmt: skip
    return 0 if error is None else _error(error)


def _run_warmup(args: argparse.Namespace) -> int:
    import time

    from ..engines.compiled_cache import CompiledCacheError, cache_dir
    from ..engines.nuts import warmup

    start = time.perf_counter()
    try:
        done = warmup(buckets=tuple(args.buckets))
    except CompiledCacheError as exc:  # the models were not cached: say where, why and the fix
        return _error(f"could not fill the disk cache of compiled models: {exc}")
    shown = ", ".join(f"{kind} effects up to {bucket}" for kind, bucket in done)
    print(f"compiled {shown} in {time.perf_counter() - start:.1f} s into {cache_dir()}")
    return 0


def _add_outcome_arguments(fit: argparse.ArgumentParser) -> None:
    """Options of arm-level outcome data (events per arm with an exact likelihood)."""
    group = fit.add_argument_group(
        "arm-level outcomes", "events per arm, exact likelihood (no continuity correction)"
    )
    group.add_argument(
        "--likelihood", choices=("binomial", "poisson", "ordered"),
        help="likelihood of arm-level events (ordered: one row per arm and reported cutpoint)",
    )  # fmt: skip
    group.add_argument(
        "--link", choices=("logit", "cloglog", "probit", "log"),
        help="link: logit (log OR), cloglog (log HR, needs --time), probit, or log (risk ratio "
        "for binomial, rate ratio for Poisson); ordered: probit (default) or logit",
    )  # fmt: skip
    for name, default, what in (
        ("events", "events", "events per arm"),
        ("n", "n", "patients per arm (binomial, ordered)"),
        ("exposure", "exposure", "exposure per arm, e.g. person-years (Poisson)"),
        ("time", "time", "follow-up time per arm (cloglog)"),
        ("category", "category", "each row's cutpoint (ordered)"),
        ("arm", "none", "each row's arm within its study (ordered; two arms of one treatment)"),
    ):
        group.add_argument(f"--{name}", metavar="COL", help=f"column of {what} (default {default})")


def _outcome_options(args: argparse.Namespace) -> dict:
    """Return the outcome options given on the command line as ``Network.from_data`` keywords.

    Raises
    ------
    ModelSpecError
        (rule ``option-not-applicable``) If the likelihood would ignore an option: ``--link``,
        ``--events``, ``--exposure`` or ``--time`` without ``--likelihood``, ``--exposure``
        without ``--likelihood poisson``, ``--time`` without ``--link cloglog``, ``--n`` with
        ``--likelihood poisson``, or ``--category``/``--arm`` without ``--likelihood ordered``.
    """
    keys = ("likelihood", "link", "events", "n", "exposure", "time", "category", "arm")
    options = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    likelihood = options.get("likelihood")
    link = options.get("link", {"binomial": "logit", "poisson": "log"}.get(likelihood))
    not_ordered = "needs --likelihood ordered" if likelihood != "ordered" else None
    unused = {
        "link": "needs --likelihood" if likelihood is None else None,
        "events": "needs --likelihood (events per arm)" if likelihood is None else None,
        "exposure": "needs --likelihood poisson" if likelihood != "poisson" else None,
        "time": "needs --likelihood binomial --link cloglog" if link != "cloglog" else None,
        "n": "has no effect with --likelihood poisson (it uses --exposure)"
        if likelihood == "poisson" else None,
        "category": not_ordered,
        "arm": not_ordered,
    }  # fmt: skip
    refused = [f"--{k} {why}" for k, why in unused.items() if why and k in options]
    if refused:
        from ..base.errors import ModelSpecError

        raise ModelSpecError(
            "; ".join(refused) + ". As given, such options would be ignored: remove them, or "
            "choose the likelihood that uses them.",
            rule="option-not-applicable",
        )
    return options


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _output_files(args: argparse.Namespace) -> list[str]:
    """Return the names of the files the command writes into ``--out``."""
    from ..report.export import INCONSISTENCY_TABLES, TABLE_TITLES
    from .analysis import extra_files

    tables = [t for t in TABLE_TITLES if t not in INCONSISTENCY_TABLES
              and (t != "sucra" or args.lower_is_better is not None)]  # fmt: skip
    return ["report.html", *(f"{t}.csv" for t in tables), *extra_files(args)]


def _check_output_dir(out: Path, files: list[str]) -> None:
    """Create ``out`` and check that ``files`` can be written in it, before any fitting.

    Parameters
    ----------
    out : Path
        The output directory (created with its parents if absent).
    files : list of str
        Names of the files that will be written in ``out``.

    Raises
    ------
    OutputLocationError
        ``out`` is an existing file or cannot be created, is not writable, or one of ``files``
        exists there as a directory or as a read-only file.
    """
    if out.exists() and not out.is_dir():
        raise OutputLocationError(f"--out {out} exists and is not a directory; choose a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputLocationError(
            f"cannot create the output directory --out {out}: {exc.strerror or exc}."
        ) from exc
    try:
        fd, probe = tempfile.mkstemp(dir=out, prefix=".nma-bayes-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputLocationError(
            f"the output directory --out {out} is not writable: {exc.strerror or exc}."
        ) from exc
    dirs = [f for f in files if (out / f).is_dir()]
    locked = [f for f in files if (out / f).is_file() and not os.access(out / f, os.W_OK)]
    if dirs or locked:
        from ..base.errors import format_items

        what = "exist as directories" if dirs else "are read-only files"
        raise OutputLocationError(
            f"cannot write {format_items(dirs or locked)} in --out {out}: they {what}; remove "
            "them or choose another --out."
        )


def _class_columns(classes: str | None) -> list[str]:
    """Return the columns that hold classes: ``COL`` (arms) or ``treat1_COL``, ``treat2_COL``."""
    return [] if classes is None else [classes, f"treat1_{classes}", f"treat2_{classes}"]


def _data_options(args: argparse.Namespace) -> dict:
    """Return the ``Network.from_data`` options given on the command line."""
    options = {}
    if args.measure is not None:
        options["measure"] = args.measure
    if args.classes is not None:
        options["classes"] = args.classes
    if args.lower_is_better is not None:
        options["lower_is_better"] = args.lower_is_better
    return options | _outcome_options(args)


def _run_fit(args: argparse.Namespace) -> int:
    from ..data.io import read_csv_table
    from ..fitting.fit import as_network, fit_network
    from ..report.export import escape_control_characters, export_tables
    from ..report.html_report import write_report
    from . import analysis as A

    model = model_options(args)  # priors parsed and options checked before reading the data
    _progress("reading data…")
    data = read_csv_table(args.data, labels=_class_columns(args.classes))
    _progress("validating…")
    network = as_network(data, reference=args.reference, **_data_options(args))
    if args.nodesplit:
        A.check_nodesplit(network)
    if args.inconsistency:
        A.check_inconsistency(network, model)
    out = Path(args.out)
    _check_output_dir(out, _output_files(args))

    _progress("fitting…")
    progressbar = args.engine == "pymc" and sys.stderr.isatty()
    fit = fit_network(network, random_seed=args.seed, progressbar=progressbar, **model)
    checks = {"nodesplit": None, "design_by_treatment": None}
    if args.nodesplit:
        _progress("node-splitting…")
        checks["nodesplit"] = A.run_nodesplit(network, model, fit.seed)
    if args.inconsistency:
        _progress("fitting the design-by-treatment model…")
        checks["design_by_treatment"] = A.run_inconsistency(network, model, fit.seed)
    extra = A.extra_tables(fit, args, *checks.values())

    _progress("writing report and tables…")
    # the report's "Inconsistency and evidence" section (only passed when computed)
    report = write_report(fit, out / "report.html", lower_is_better=args.lower_is_better,
                          **{k: v for k, v in checks.items() if v is not None})  # fmt: skip
    tables = export_tables(fit, out, format="csv", lower_is_better=args.lower_is_better)
    tables += A.write_tables(extra, out)

    rel = fit.relative_effects()
    with pd.option_context("display.width", 120, "display.max_columns", None):
        # names from the data must not drive the terminal (e.g. ANSI escape sequences)
        print(escape_control_characters(rel.round(3).to_string(index=False)))
    if args.dic:
        print(A.dic_line(extra["model_fit"]))
    if args.inconsistency:
        print(A.inconsistency_line(checks["design_by_treatment"]))
    _progress(f"seed {fit.seed}, engine {fit.engine}")
    for path in (report, *tables):
        _progress(f"wrote {path}")
    return 0


def _error(message: object) -> int:
    """Print ``error: message`` on one line to stderr; return the exit status 2."""
    from ..report.export import escape_control_characters

    text = re.sub(r"\s*[\r\n]+\s*", " ", str(message).strip())
    print("error: " + escape_control_characters(text), file=sys.stderr)
    return EXIT_INPUT_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run the ``nma-bayes`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success; 2 for invalid input or options, an unusable output location,
        a file that cannot be read or written, or an internal error, each reported as one
        ``error:`` line on stderr.
    """
    from ..base.errors import NMAInputError

    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        if args.command == "fit":
            return _run_fit(args)
        if args.command == "cache":
            return _run_cache(args)
        if args.command == "warmup":
            return _run_warmup(args)
    except (NMAInputError, OutputLocationError) as exc:
        return _error(exc)
    except ValueError as exc:
        if debug:
            raise
        return _error(exc)
    except OSError as exc:
        if debug:
            raise
        return _error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else exc)
    except Exception as exc:
        if debug:
            raise
        return _error(
            f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the "
            "traceback, and please report it)"
        )
    return EXIT_INPUT_ERROR  # pragma: no cover - argparse requires a command
