"""The model and the analyses of ``nma-bayes fit``: options to keywords, extra tables.

:func:`model_options` turns the model options (effects, engine settings, class model, priors by
name) into :func:`nma_bayes.fit_network` keywords and refuses, before the data are read,
combinations that would be silently ignored or that no analysis supports. :func:`extra_tables`
computes the tables beyond the standard exports: class summaries (``--classes``), node-splitting
(``--nodesplit``, any likelihood), the global inconsistency checks (``--inconsistency``: the
design-by-treatment model and the evidence structure) and model fit
(``--dic``).
"""

from __future__ import annotations

import argparse

import pandas as pd

from ..base.errors import ModelSpecError
from .priors import OPTION_FORMS, PRIOR_OPTIONS, accepted_forms, parse_prior

__all__ = [
    "add_model_arguments",
    "model_options",
    "extra_files",
    "extra_tables",
    "dic_line",
    "check_inconsistency",
    "run_inconsistency",
    "inconsistency_line",
]


def add_model_arguments(fit: argparse.ArgumentParser) -> None:
    """Options of the model: sampler settings, class model, priors and model checks."""
    fit.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    fit.add_argument(
        "--tune", type=int, default=1000, help="tuning steps per chain (PyMC engine; default 1000)"
    )
    fit.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    fit.add_argument(
        "--classes", metavar="COL",
        help="column of treatment classes (arms: COL; contrasts: treat1_COL and treat2_COL); "
        "writes class_effects.csv and, with a direction, class_rankings.csv",
    )  # fmt: skip
    fit.add_argument(
        "--class-model", choices=("exchangeable", "common"),
        help="class model (needs --classes and the PyMC engine): treatment effects exchangeable "
        "within classes, or one effect per class",
    )  # fmt: skip
    group = fit.add_argument_group(
        "priors", "by name, e.g. --prior-tau 'halfnormal(0.5)' or "
        "--prior-tau 'turner(all-cause mortality, pharma vs placebo)' (see the README)",
    )  # fmt: skip
    for option in OPTION_FORMS:
        group.add_argument(option, metavar="PRIOR", help=accepted_forms(option))
    checks = fit.add_argument_group("model checks")
    checks.add_argument(
        "--nodesplit", action="store_true",
        help="node-split every comparison with direct and indirect evidence (writes nodesplit.csv "
        "and adds the table to the report)",
    )  # fmt: skip
    checks.add_argument(
        "--inconsistency", action="store_true",
        help="global inconsistency checks: fit the design-by-treatment interaction model "
        "(writes design_by_treatment.csv and design_by_treatment_fit.csv), and the "
        "decomposition of Q, the proportion of direct evidence and the contribution matrix "
        "(q_decomposition.csv, evidence_summary.csv, contribution_matrix.csv; arm-level "
        "outcomes by their normal approximation); adds the 'Inconsistency and evidence' "
        "section to the report",
    )  # fmt: skip
    checks.add_argument(
        "--dic", action="store_true",
        help="residual deviance, pD and DIC (writes model_fit.csv and prints the DIC)",
    )  # fmt: skip


def _given(args: argparse.Namespace, option: str) -> bool:
    return getattr(args, option.lstrip("-").replace("-", "_"), None) is not None


def _refuse_unused(args: argparse.Namespace) -> None:
    """Refuse options that the chosen model would silently ignore, or that no analysis runs."""
    unused = []
    if args.effects == "fixed" and _given(args, "--prior-tau"):
        unused.append("--prior-tau has no effect with --effects fixed (there is no tau)")
    if args.class_model != "exchangeable":
        for option in ("--prior-class-mean", "--prior-class-sd"):
            if _given(args, option):
                unused.append(f"{option} needs --class-model exchangeable")
    if args.class_model is not None and args.classes is None:
        unused.append("--class-model needs --classes COL (the column of treatment classes)")
    if unused:
        raise ModelSpecError("; ".join(unused) + ".", rule="bad-option")


def model_options(args: argparse.Namespace) -> dict:
    """Return the ``fit_network`` keywords of the model options (priors parsed, checked).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``nma-bayes fit`` arguments.

    Returns
    -------
    dict
        ``effects, engine, draws, tune, chains`` and, when given, ``class_model`` and the
        priors (``prior_d``, ``prior_tau``, ``prior_class_mean``, ``prior_class_sd``).

    Raises
    ------
    ModelSpecError
        A prior string that is not an accepted form (``bad-prior``), or an option the model
        would ignore (``bad-option``).
    """
    _refuse_unused(args)
    options = {"effects": args.effects, "engine": args.engine, "draws": args.draws,
               "tune": args.tune, "chains": args.chains}  # fmt: skip
    if args.class_model is not None:
        options["class_model"] = args.class_model
    for option, keyword in PRIOR_OPTIONS.items():
        text = getattr(args, keyword)
        if text is not None:
            options[keyword] = parse_prior(option, text)
    return options


def extra_files(args: argparse.Namespace) -> list[str]:
    """Return the names of the extra CSV files the options ask for (checked before fitting)."""
    names = []
    if args.classes is not None:
        names.append("class_effects")
        if args.lower_is_better is not None:
            names.append("class_rankings")
    if args.nodesplit:
        names.append("nodesplit")
    if args.inconsistency:
        names += ["design_by_treatment", "design_by_treatment_fit", "q_decomposition",
                  "evidence_summary", "contribution_matrix"]  # fmt: skip
    if args.dic:
        names.append("model_fit")
    return [f"{name}.csv" for name in names]


def check_nodesplit(network) -> None:
    """Refuse ``--nodesplit`` before fitting where node-splitting cannot run.

    Every split network is built here (:func:`nma_bayes.analyses.inconsistency.split_networks`),
    so a network without a comparison to split, or one node-splitting does not support, is
    refused before the main fit. Arm-level outcome data (``--likelihood``) are split like
    contrasts (each split fitted by NUTS).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) Saying why, and to leave out ``--nodesplit``.
    """
    from ..analyses.inconsistency import split_networks
    from ..data.transforms import splittable_comparisons

    if not splittable_comparisons(network):
        raise ModelSpecError(
            "--nodesplit: no comparison has both direct and indirect evidence (the network has "
            "no closed loop); leave out --nodesplit.",
            rule="bad-option",
        )
    try:
        split_networks(network)
    except ModelSpecError as exc:
        raise ModelSpecError(
            f"--nodesplit: {exc} Leave out --nodesplit to fit the model alone.", rule=exc.rule
        ) from None


def run_nodesplit(network, model: dict, seed: int) -> pd.DataFrame:
    """Node-split every splittable comparison with the model settings of the main fit."""
    from ..analyses.inconsistency import nodesplit

    settings = {k: v for k, v in model.items() if k != "engine"}
    return nodesplit(network, engine=model["engine"], random_seed=seed, **settings)


def check_inconsistency(network, model: dict) -> None:
    """Refuse ``--inconsistency`` before fitting where the design-by-treatment model cannot run.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) With ``--class-model`` (not supported by the model), or when the
        network has no identifiable design inconsistency (no loop of designs).
    """
    from ..data.transforms import design_by_treatment_network

    if model.get("class_model") is not None:
        raise ModelSpecError(
            "--inconsistency: the design-by-treatment model does not fit treatment-class models; "
            "leave out --class-model or --inconsistency.",
            rule="bad-option",
        )
    _, kept = design_by_treatment_network(network)
    if not kept:
        raise ModelSpecError(
            "--inconsistency: the network has no identifiable design inconsistency (no loop of "
            "designs), so the design-by-treatment model equals the consistency model; leave out "
            "--inconsistency.",
            rule="bad-option",
        )


def run_inconsistency(network, model: dict, seed: int):
    """Fit the design-by-treatment and consistency models with the main fit's settings."""
    from ..analyses.design_by_treatment import design_by_treatment

    return design_by_treatment(network, random_seed=seed, **model)


def extra_tables(
    fit, args: argparse.Namespace, nodesplit_table, dbt=None
) -> dict[str, pd.DataFrame]:
    """Compute the tables of :func:`extra_files`, by file stem (``class_effects``, ...).

    With ``--inconsistency``, ``dbt`` is the design-by-treatment result, and the evidence
    structure tables are added where they are defined (not for the cloglog link).
    """
    tables = {}
    if args.classes is not None:
        tables["class_effects"] = fit.class_effects()
        if args.lower_is_better is not None:
            tables["class_rankings"] = fit.class_rankings(lower_is_better=args.lower_is_better)
    if nodesplit_table is not None:
        tables["nodesplit"] = nodesplit_table
    if args.inconsistency:
        from ..report.inconsistency_sections import inconsistency_tables

        tables |= inconsistency_tables(fit, design_by_treatment=dbt, evidence=True)
    if args.dic:
        tables["model_fit"] = fit.model_fit()
    return tables


def write_tables(tables: dict[str, pd.DataFrame], out) -> list:
    """Write each table as ``out/NAME.csv``, safe to open in a spreadsheet; return the paths."""
    from ..report.export import spreadsheet_safe

    written = []
    for name, table in tables.items():
        path = out / f"{name}.csv"
        spreadsheet_safe(table).to_csv(path, index=False)
        written.append(path)
    return written


def inconsistency_line(dbt) -> str:
    """Return the one-line DIC comparison of the consistency and design-by-treatment models."""
    rows = dbt.model_fit.set_index("model")
    dic = {m: float(rows.loc[m, "DIC"]) for m in ("consistency", "design-by-treatment")}
    return (
        f"design-by-treatment model: DIC {dic['design-by-treatment']:.2f} vs consistency "
        f"{dic['consistency']:.2f} ({dbt.n_parameters} inconsistency parameters)"
    )


def dic_line(model_fit: pd.DataFrame) -> str:
    """Return the one-line summary of a ``fit.model_fit()`` table."""
    row = model_fit.iloc[0]
    return (
        f"DIC {row['DIC']:.2f} (residual deviance {row['resdev']:.2f}, pD {row['pD']:.2f}, "
        f"{int(row['n_data'])} data points)"
    )
