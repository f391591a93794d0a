"""Data in, validated :class:`~nma_bayes.data.network.Network` out: format detection and dispatch.

``as_network`` accepts a DataFrame of contrasts or arms (or an existing network), detects the
format (:func:`detect_format`), checks that every option applies to that format and builds the
network, naming the detected format in errors about columns or the measure.
"""

from __future__ import annotations

import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError, NMAInputError
from .arm_data import ARM_MEASURES
from .network import Network, data_options

__all__ = ["as_network", "network_from_options", "detect_format"]


def as_network(data, *, reference: str | None = None, **options) -> Network:
    """Return ``data`` as a validated :class:`Network`.

    Parameters
    ----------
    data : DataFrame or Network
        Contrast data (``study, treat1, treat2, TE, seTE[, se_base]``), arm-level data
        (``study, treatment, mean, sd, n``, needing ``measure="SMD"`` or ``"MD"``; see
        :func:`detect_format` for how the format is recognised), or an existing network.
    reference : str, optional
        Reference treatment (see :meth:`Network.from_data` for the automatic choice).
    **options
        Column names and options of :meth:`Network.from_data` (``measure``, ``classes``,
        ``component``, ``treatments``, ``closure_tol``, ``smd_method``, ...).

    Returns
    -------
    Network

    Raises
    ------
    NMAInputError
        Any rule of the catalogue; among them ``unknown-option`` (a keyword that is not an
        option) and ``option-not-applicable`` (an option of the other data format). Errors about
        missing columns or the measure say which format was detected.
    """
    if isinstance(data, Network):
        if options:
            raise ModelSpecError(
                f"Options {sorted(options)} apply to a DataFrame; this Network is already built.",
                rule="bad-option",
            )
        if reference is not None and reference != data.reference:
            raise ModelSpecError(
                f"The Network was built with reference {data.reference!r}; pass reference= when "
                "building it instead, or use relative_effects(reference=...) to report effects "
                "against another treatment.",
                rule="bad-option",
            )
        return data
    VA.check_keywords(options, data_options(), "as_network")
    if not isinstance(data, pd.DataFrame):
        return Network.from_data(contrasts=data, reference=reference, **options)
    kind, detected = detect_format(data, options)
    VA.check_applicable(options, VA.ARM_ONLY if kind == "contrasts" else VA.CONTRAST_ONLY, detected)
    try:
        return Network.from_data(**{kind: data}, reference=reference, **options)
    except NMAInputError as exc:
        if exc.rule not in ("missing-column", "measure-columns", "unknown-measure"):
            raise
        raise type(exc)(f"{exc} (The data were read as {detected}.)", rule=exc.rule) from None


def network_from_options(data, options: dict) -> Network:
    """Build the network of an analysis from its fit keywords, taking the data's out.

    ``reference`` and the column names and data options (:func:`data_options`) are removed
    from ``options`` (in place) and passed to :func:`as_network`; what is left are the options
    of each fit, checked by the analysis.
    """
    reference = options.pop("reference", None)
    columns = {k: options.pop(k) for k in list(options) if k in data_options()}
    return as_network(data, reference=reference, **columns)


def detect_format(df: pd.DataFrame, options: dict) -> tuple[str, str]:
    """Return ``("arms" | "contrasts", description)``: which format ``df`` is read as, and why.

    Arm-level data: a ``treatment`` column and no ``treat1`` column, or, when both are present,
    ``measure="SMD"`` or ``"MD"`` with the arm columns (``treatment, mean`` and ``sd, n`` or
    ``se=``). Everything else is read as contrast data. Data holding complete arm and contrast
    columns with an arm measure are refused (rule ``data-format``).
    """

    def has(*roles: str) -> bool:
        names = [options.get(r, r) for r in roles]
        return all(isinstance(c, str) and c in df.columns for c in names)

    t1, trt = repr(options.get("treat1", "treat1")), repr(options.get("treatment", "treatment"))
    if not has("treatment"):
        return "contrasts", f"contrast data (no {trt} column)"
    if not has("treat1"):
        return "arms", f"arm-level data (a {trt} column and no {t1} column)"
    measure = options.get("measure")
    arm_cols = has("treatment", "mean") and (has("sd", "n") or has("se") and "se" in options)
    if measure in ARM_MEASURES and arm_cols:
        if has("treat2", "TE", "seTE"):
            raise ModelSpecError(
                f"The data hold both arm-level columns ({trt}, mean, sd/n) and contrast columns "
                f"({t1}, treat2, TE, seTE), so the format is ambiguous. Drop the columns of the "
                "other format, or call Network.from_arms / Network.from_contrasts explicitly.",
                rule="data-format",
            )
        return "arms", f"arm-level data (measure={measure!r} with arm columns; {t1} is unused)"
    return "contrasts", (
        f"contrast data (a {t1} column is present; for arm-level data pass measure='SMD' or "
        "'MD' with columns treatment, mean, sd, n)"
    )
