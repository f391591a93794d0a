"""Summary-level threshold analysis of a network meta-analysis (Phillippo et al. 2018).

For every data point (a study's contrast, or a pooled contrast in a contrast-level analysis),
:func:`threshold_table` finds how far its estimate can be adjusted before the optimal treatment
changes, which treatment becomes optimal at each end, and the decision-invariant interval. It is
fed posterior summaries only (the means of the basic parameters and a posterior covariance) and
the likelihood covariance of the data, so any engine's posterior (or a published one) can be used.
:func:`recon_vcov` reconstructs a contrast-level likelihood covariance from a posterior covariance
by non-negative least squares, for a contrast-level analysis when the study data are not at hand.

Both mirror the R package nmathresh 0.1.6 (``nma_thresh``, ``get.int``, ``recon_vcov``; CRAN
mirror ``cran/nmathresh``), and the method of

    Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
    recommendations to bias in network meta-analysis. *J R Stat Soc A* 181:843-867,
    doi:10.1111/rssa.12341.

The decision rules (maximal efficacy, and the MCID rules of Phillippo et al. 2019, Ann Intern Med
170:538-546) live in :mod:`~nma_bayes.results.threshold_rules`. Sets of data points adjusted by
one common bias (Phillippo et al. 2018; e.g. all drug trials of its social anxiety example) are
extra influence columns ``H w``.

Conventions (nmathresh's): treatments are coded ``1..K``, the basic parameters are ``d_2..d_K``
against treatment 1, a contrast ``d_ab`` (``a < b``) is ``d_b - d_a``, and the ``K(K-1)/2``
contrasts are ordered ``(1,2), (1,3), ..., (1,K), (2,3), ...``. Thresholds are adjustments to a
data point's estimate: the invariant interval is ``y + [lower, upper]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ..base.errors import ModelSpecError
from ..base.validate import check_choice, check_lower_is_better, is_int, is_real
from .threshold_result import Thresholds
from .threshold_rules import check_mcid, decide

__all__ = ["threshold_table", "recon_vcov", "Thresholds", "contrast_pairs"]


def _bad(message: str) -> ModelSpecError:
    return ModelSpecError(message, rule="bad-option")


def _vector(value: object, name: str, *, length: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=float) if value is not None else None
    if arr is None or arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise _bad(f"{name} must be a non-empty one-dimensional array of finite numbers.")
    if length is not None and arr.size != length:
        raise _bad(f"{name} must have {length} entries, got {arr.size}.")
    return arr


def _matrix(value: object, name: str, shape: tuple[int, int], *, symmetric: bool) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _bad(f"{name} must be a numeric matrix.") from None
    if arr.shape != shape:
        raise _bad(f"{name} must be a {shape[0]} x {shape[1]} matrix, got shape {arr.shape}.")
    if np.any(np.isnan(arr)) or np.any(np.isinf(arr[~np.eye(*shape, dtype=bool)])):
        raise _bad(f"{name} must hold numbers (infinite values only as variances).")
    if symmetric:
        finite = np.where(np.isfinite(arr), arr, 0.0)
        scale = max(float(np.max(np.abs(finite))), 1e-300)
        if not np.allclose(finite, finite.T, rtol=1e-8, atol=1e-10 * scale):
            raise _bad(f"{name} must be a symmetric covariance matrix.")
    return arr


def contrast_pairs(n_treatments: int) -> list[tuple[int, int]]:
    """Return the ``K(K-1)/2`` contrasts ``(a, b)``, ``a < b``, in nmathresh's order (1-based)."""
    return [(a, b) for a in range(1, n_treatments) for b in range(a + 1, n_treatments + 1)]


def _contrast_matrix(pairs: list[tuple[int, int]], n_basic: int) -> np.ndarray:
    """``D``: row ``(a, b)`` gives ``d_b - d_a`` from ``d_2..d_K`` (``d_1 = 0``)."""
    out = np.zeros((len(pairs), n_basic))
    for row, (a, b) in enumerate(pairs):
        if a > 1:
            out[row, a - 2] = -1.0
        out[row, b - 2] = 1.0
    return out


def _influence(post: np.ndarray, lik: np.ndarray, design, n_basic: int, fixed: bool):
    """Influence matrix ``H`` ((K-1) x N): the change in E(d) per unit change in each data point.

    Fixed effects: ``H = Sigma_post X^T V^{-1}``. Random effects: ``H = B* V^{-1}``, ``B*`` the
    posterior covariance of ``d`` with the study deltas (nmathresh's default ``delta.design`` =
    identity, no extra parameters ``mu``).
    """
    if fixed:
        if np.count_nonzero(lik[~np.eye(len(lik), dtype=bool)]) == 0:
            # nmathresh's diagonal branch: a reconstructed likelihood may hold infinite variances,
            # whose precision is 0 (the data point carries no information).
            return post @ design.T @ np.diag(1.0 / np.diag(lik))
        return post @ np.linalg.solve(lik, design).T
    b_star = post[:n_basic, n_basic:]
    return np.linalg.solve(lik, b_star.T).T


def _labels(values, n: int, name: str) -> list | None:
    if values is None:
        return None
    values = list(values)
    if len(values) != n:
        raise _bad(f"{name} must have {n} entries, got {len(values)}.")
    return values


def _row_label(row: np.ndarray, names: list) -> str | None:
    """``"b vs a"`` for a design row that is one contrast (+1 at ``b``, -1 at ``a`` or none)."""
    plus, minus = np.flatnonzero(row == 1), np.flatnonzero(row == -1)
    if len(plus) != 1 or len(minus) > 1 or np.count_nonzero(row) != len(plus) + len(minus):
        return None
    base = names[minus[0] + 1] if len(minus) else names[0]
    return f"{names[plus[0] + 1]} vs {base}"


def _checked_inputs(mean_d, post_cov, lik_cov, design, nmatype):
    nmatype = check_choice(nmatype, "nmatype", ("fixed", "random"))
    mean = _vector(mean_d, "mean_d")
    n_basic = mean.size
    lik_arr = np.asarray(lik_cov, dtype=float) if lik_cov is not None else np.empty(0)
    if lik_arr.ndim != 2 or lik_arr.shape[0] != lik_arr.shape[1] or lik_arr.shape[0] == 0:
        raise _bad(f"lik_cov must be a square matrix, got shape {lik_arr.shape}.")
    n_data = lik_arr.shape[0]
    lik = _matrix(lik_arr, "lik_cov", (n_data, n_data), symmetric=True)
    fixed = nmatype == "fixed"
    diagonal = np.count_nonzero(lik[~np.eye(n_data, dtype=bool)]) == 0
    if np.any(np.isinf(lik)) and not (fixed and diagonal):
        raise _bad("lik_cov may hold infinite variances only when diagonal and nmatype='fixed'.")
    if fixed:
        if design is None:
            raise _bad("design (the N x (K-1) design matrix X) is required when nmatype='fixed'.")
        design = _matrix(design, "design", (n_data, n_basic), symmetric=False)
        if not np.all(np.isfinite(design)):
            raise _bad("design must hold finite numbers.")
        n_post = n_basic
    else:
        if design is not None:
            raise _bad("design is not used when nmatype='random' (post_cov holds d and delta).")
        n_post = n_basic + n_data
    post = _matrix(post_cov, "post_cov", (n_post, n_post), symmetric=True)
    if not np.all(np.isfinite(post)):
        raise _bad("post_cov must hold finite numbers.")
    return mean, post, lik, design, fixed


_MEMBERS = Sequence | np.ndarray | set | frozenset  # what a set's data points may come as


def _checked_sets(sets, n_data: int) -> list[tuple[str, tuple[int, ...]]]:
    """Validate ``sets``: names (non-empty strings) to distinct 1-based data point numbers."""
    if sets is None:
        return []
    if not isinstance(sets, Mapping):
        raise _bad(f"sets must be a dict of name to data point numbers, got {type(sets).__name__}.")
    out = []
    for name, members in sets.items():
        if not isinstance(name, str) or not name.strip() or re.fullmatch(r"dp\d+", name):
            # "dp<m>" labels the data points' columns of ukstar_frame()
            raise _bad(f"a set's name must be a non-empty string, not 'dp<number>': {name!r}.")
        if isinstance(members, str | bytes) or not isinstance(members, _MEMBERS):
            raise _bad(f"set {name!r} must be a sequence of data point numbers, got {members!r}.")
        members = sorted(members) if isinstance(members, set | frozenset) else list(members)
        if not members or not all(is_int(m) and 1 <= m <= n_data for m in members):
            raise _bad(f"set {name!r} must hold data point numbers 1..{n_data} (1-based "
                       f"integers), got {members!r}.")  # fmt: skip
        if len(set(members)) != len(members):
            raise _bad(f"set {name!r} repeats a data point: {members!r}.")
        out.append((name, tuple(int(m) for m in members)))
    return out


def _new_label(new, names: list):
    """Name a new decision: one treatment, or ``"A, B"`` for a set (``"none"`` if empty)."""
    if new is None or not isinstance(new, tuple):
        return None if new is None else names[new - 1]
    return ", ".join(str(names[k - 1]) for k in new) or "none"


def _table(decision, point_labels, set_list, y_arr, lik, names) -> pd.DataFrame:
    """One row per data point, then one per set adjusted by a common bias."""
    studies, contrasts = point_labels
    n_data = lik.shape[0]
    records = []
    for m, (lo, lo_k, hi, hi_k) in enumerate(decision.ends):
        point = m < n_data
        name, members = (None, ()) if point else set_list[m - n_data]
        records.append({
            "data_point": m + 1 if point else None,
            "study": name if not point else None if studies is None else studies[m],
            "contrast": (f"common bias ({len(members)} data points)" if not point
                         else None if contrasts is None else contrasts[m]),
            "y": np.nan if y_arr is None or not point else y_arr[m],
            "threshold_lower": lo,
            "threshold_upper": hi,
            "new_optimal_lower": _new_label(lo_k, names),
            "new_optimal_upper": _new_label(hi_k, names),
        })  # fmt: skip
    table = pd.DataFrame.from_records(records)
    objects = ["study", "contrast", "new_optimal_lower", "new_optimal_upper"]
    for col in objects + (["data_point"] if set_list else []):
        # Treatment codes stay integers (or names), None where infinite: not float NaN.
        table[col] = pd.Series([r[col] for r in records], dtype=object)
    table["invariant_lower"] = table["y"] + table["threshold_lower"]
    table["invariant_upper"] = table["y"] + table["threshold_upper"]
    # the data point's likelihood SE (inf: no information); none for a set
    table["se"] = np.r_[np.sqrt(np.diag(lik)), np.full(len(set_list), np.nan)]
    return table


def threshold_table(
    mean_d,
    post_cov,
    lik_cov,
    *,
    design=None,
    nmatype: str = "fixed",
    lower_is_better: bool = True,
    treatments: Sequence | None = None,
    y=None,
    studies: Sequence | None = None,
    contrasts: Sequence | None = None,
    mcid: float = 0.0,
    mcid_type: str = "decision",
    sets: Mapping[str, Sequence[int]] | None = None,
) -> Thresholds:
    """Bias-adjustment thresholds and invariant intervals of every data point.

    nmathresh 0.1.6 ``nma_thresh`` (``trt.rank = 1``, all treatments; ``opt.max = not
    lower_is_better``), following Phillippo et al. (2018, J R Stat Soc A 181:843-867, sections
    2-3). With ``D`` the contrasts of the basic parameters, ``H`` the influence matrix and ``k*``
    the optimal treatment, the maximal-efficacy threshold solutions (``mcid = 0``) are
    ``U[ab, m] = -E(d_ab) / (D H)[ab, m]`` (the adjustment of data point ``m`` at which
    ``E(d_ab)`` reaches 0); only contrasts with ``k*`` matter (``U_k*``). A data point's upper
    threshold is the smallest positive solution of its column, the lower the largest negative one
    (infinite where there is none). For a multi-arm study each data point is adjusted alone
    (nmathresh's per-data-point thresholds; its 2-D ``thresh_2d`` lines are ``U_k*``'s columns).
    With ``mcid > 0`` the decision rule is Phillippo et al. (2019)'s (see ``mcid_type`` and
    :mod:`nma_bayes.results.threshold_rules`).

    Parameters
    ----------
    mean_d : array_like, shape (K-1,)
        Posterior means of ``d_2..d_K`` against treatment 1.
    post_cov : array_like
        Posterior covariance: of ``d`` ((K-1) x (K-1)) when ``nmatype="fixed"``; of ``d`` then the
        study deltas, in data-point order ((K-1+N) square), when ``nmatype="random"``.
    lik_cov : array_like, shape (N, N)
        Likelihood covariance of the data points (infinite variances allowed on a diagonal one,
        as :func:`recon_vcov` may return).
    design : array_like, shape (N, K-1), optional
        Design matrix ``X`` of the basic parameters (fixed effects only; required there).
    nmatype : {"fixed", "random"}
        nmathresh's ``nmatype``; the random-effects derivation takes ``tau`` as known.
    lower_is_better : bool
        Whether the optimal treatment minimises the outcome (nmathresh ``opt.max = FALSE``).
    treatments : sequence, optional
        Names of treatments ``1..K`` (default the codes ``1..K``).
    y : array_like, shape (N,), optional
        The data points' estimates; with them the table holds the invariant intervals.
    studies, contrasts : sequence, optional
        Labels of the data points for the table (contrasts are read off a simple ``design`` row).
    mcid : float
        Minimal clinically important difference ``epsilon >= 0`` (nmathresh ``mcid``); 0 is the
        maximal-efficacy rule.
    mcid_type : {"decision", "change"}
        nmathresh's ``mcid.type``. ``"decision"`` (``mcid > 0``): the optimal *set* holds every
        treatment better than treatment 1 by at least ``mcid`` and within ``mcid`` of the best
        (Phillippo et al. 2019); its thresholds are computed exactly, ``kstar`` is a tuple and a
        new decision is the new set, ``"A, B"`` (``"none"`` if empty). ``"change"``: maximal
        efficacy, but the decision changes only when an alternative beats ``k*`` by at least
        ``mcid``: ``U = (-E(d_ab) - sign(E(d_ab)) mcid) / (D H)``.
    sets : dict of str to sequence of int, optional
        Sets of data points (1-based numbers) adjusted together by one common bias (Phillippo et
        al. 2018): each adds a row at the end of the table, with influence column
        ``H w`` (``w`` the set's 0/1 indicator), ``data_point`` None, ``study`` the set's name,
        ``contrast`` ``"common bias (n data points)"`` and ``y`` NaN.

    Returns
    -------
    Thresholds
        ``kstar``, ``H``, ``U``, ``Ukstar`` (one column per table row) and the table
        (``to_frame()``).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If shapes disagree, a covariance is not symmetric, ``nmatype`` or
        ``mcid_type`` is not one of its choices, ``mcid`` is not a finite number >= 0, a label
        list has the wrong length or a set is empty or names data points that do not exist.
    """
    lower_is_better = check_lower_is_better(lower_is_better)
    mcid, mcid_type = check_mcid(mcid, mcid_type)
    mean, post, lik, design, fixed = _checked_inputs(mean_d, post_cov, lik_cov, design, nmatype)
    n_basic, n_data = mean.size, lik.shape[0]
    names = _labels(treatments, n_basic + 1, "treatments") or list(range(1, n_basic + 2))
    if len(set(map(str, names))) != len(names):
        raise _bad("treatments must be distinct.")
    y_arr = None if y is None else _vector(y, "y", length=n_data)
    studies = _labels(studies, n_data, "studies")
    contrasts = _labels(contrasts, n_data, "contrasts")
    if contrasts is None and fixed:
        contrasts = [_row_label(row, names) for row in design]
    set_list = _checked_sets(sets, n_data)

    pairs = contrast_pairs(n_basic + 1)
    d_mat = _contrast_matrix(pairs, n_basic)
    h_mat = _influence(post, lik, design, n_basic, fixed)
    indicator = np.zeros((n_data, len(set_list)))
    for j, (_, members) in enumerate(set_list):
        indicator[np.array(members) - 1, j] = 1.0
    # A common bias b added to every data point of a set moves E(d) by b H w.
    h_all = np.hstack([h_mat, h_mat @ indicator])
    decision = decide(mean, d_mat, pairs, h_all, lower_is_better=lower_is_better, mcid=mcid,
                      mcid_type=mcid_type)  # fmt: skip
    table = _table(decision, (studies, contrasts), set_list, y_arr, lik, names)
    kstar = decision.kstar
    return Thresholds(
        table=table,
        H=h_all,
        U=decision.U,
        Ukstar=decision.U[decision.rows],
        contrasts=tuple((names[a - 1], names[b - 1]) for a, b in pairs),
        ukstar_contrasts=tuple(
            (names[pairs[i][0] - 1], names[pairs[i][1] - 1]) for i in decision.rows
        ),
        kstar=tuple(names[k - 1] for k in kstar) if isinstance(kstar, tuple) else names[kstar - 1],
        treatments=tuple(names),
        nmatype="fixed" if fixed else "random",
        lower_is_better=lower_is_better,
        mcid=mcid,
        mcid_type=mcid_type,
        sets=tuple(set_list),
    )


def _nnls_system(design: np.ndarray, n_basic: int) -> tuple[np.ndarray, list[int]]:
    """Return nmathresh's ``R`` of ``recon_vcov``: ``X^T diag(p) X``'s lower triangle is ``R p``.

    Rows are the lower triangle (diagonal included) of a (K-1) x (K-1) matrix, read column by
    column as R's ``lower.tri``; columns are the ``K(K-1)/2`` contrasts in nmathresh's order.
    Returns ``R`` with every all-zero column dropped, and the contrast (column) of each design row.
    """
    n_tri = n_basic * (n_basic + 1) // 2

    def tri(i: int, j: int) -> int:  # 0-based position of element (i, j), i >= j, in lower.tri
        return j * n_basic - j * (j - 1) // 2 + (i - j)

    def contrast(a: int, b: int) -> int:  # 0-based index of d_ab (treatments 1-based)
        return (a - 1) * (2 * (n_basic + 1) - a) // 2 + (b - a - 1)

    r_mat = np.zeros((n_tri, n_basic * (n_basic + 1) // 2))
    cols = []
    for row in design:
        plus, minus = np.flatnonzero(row == 1), np.flatnonzero(row == -1)
        if len(plus) != 1 or len(minus) > 1 or np.count_nonzero(row) != len(plus) + len(minus):
            raise _bad("each design row must be one contrast: +1 for one treatment, -1 for at "
                       "most one other (none when the comparator is treatment 1).")  # fmt: skip
        b = int(plus[0])
        if len(minus) == 0:
            col = contrast(1, b + 2)
            r_mat[tri(b, b), col] = 1.0
        else:
            # A contrast between two basic parameters adds its precision to both diagonals and
            # subtracts it from their off-diagonal element (a row written a vs b is the same edge).
            a, b = sorted((int(minus[0]), b))
            col = contrast(a + 2, b + 2)
            r_mat[tri(a, a), col] = r_mat[tri(b, b), col] = 1.0
            r_mat[tri(b, a), col] = -1.0
        cols.append(col)
    if len(set(cols)) != len(cols):
        raise _bad("design must not repeat a contrast (one row per compared pair).")
    kept = np.flatnonzero(np.any(r_mat != 0, axis=0))
    position = {int(c): i for i, c in enumerate(kept)}
    return r_mat[:, kept], [position[c] for c in cols]


def recon_vcov(
    post_cov, *, design, prior_prec: float = 0.0001, prior_vcov=None
) -> tuple[np.ndarray, float]:
    """Reconstruct a contrast-level likelihood covariance from a posterior covariance.

    nmathresh 0.1.6 ``recon_vcov`` for an incomplete network (``X`` given), Phillippo et al.
    (2018, J R Stat Soc A 181:843-867, section 3.3). By conjugacy of a fixed-effects NMA,
    ``Sigma_post^{-1} = X^T V^{-1} X + Sigma_prior^{-1}``; with ``V`` diagonal (independent
    contrasts), the lower triangle of ``Sigma_post^{-1} - Sigma_prior^{-1}`` is linear in the
    likelihood precisions ``p``, which are fitted by non-negative least squares
    (:func:`scipy.optimize.nnls`, Lawson-Hanson as R's ``nnls``).

    Parameters
    ----------
    post_cov : array_like, shape (K-1, K-1)
        Posterior covariance of ``d_2..d_K``.
    design : array_like, shape (N, K-1)
        One row per compared pair: +1 for treatment ``b``, -1 for ``a`` (none if ``a`` is 1).
    prior_prec : float
        Prior precision of each ``d_k`` (nmathresh's default 0.0001); unused with ``prior_vcov``.
    prior_vcov : array_like, shape (K-1, K-1), optional
        Prior covariance of ``d``.

    Returns
    -------
    lik_cov : numpy.ndarray, shape (N, N)
        Diagonal likelihood covariance, in design-row order (nmathresh orders it by contrast, the
        same when the rows are in that order). A zero fitted precision gives an infinite variance
        (nmathresh warns; here it is only returned): that data point carries no information.
    kl_divergence : float
        Kullback-Leibler divergence of the posterior implied by ``lik_cov`` (infinite variances
        left out) from ``post_cov``, as nmathresh prints it.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If the shapes disagree, a covariance is not symmetric, a design row
        is not a contrast, a contrast repeats or ``prior_prec`` is not positive.
    """
    post_arr = np.asarray(post_cov, dtype=float)
    if post_arr.ndim != 2 or post_arr.shape[0] != post_arr.shape[1] or post_arr.shape[0] == 0:
        raise _bad(f"post_cov must be a square matrix, got shape {post_arr.shape}.")
    n_basic = post_arr.shape[0]
    post = _matrix(post_arr, "post_cov", (n_basic, n_basic), symmetric=True)
    design_arr = np.asarray(design, dtype=float) if design is not None else np.empty(0)
    if design_arr.ndim != 2 or design_arr.shape[1:] != (n_basic,) or design_arr.shape[0] == 0:
        raise _bad(f"design must be an N x {n_basic} matrix, got shape {design_arr.shape}.")
    if prior_vcov is None:
        if not is_real(prior_prec) or not np.isfinite(prior_prec) or prior_prec <= 0:
            raise _bad(f"prior_prec must be a positive finite number, got {prior_prec!r}.")
        prior_vcov = np.diag(np.full(n_basic, 1.0 / float(prior_prec)))
    prior = _matrix(prior_vcov, "prior_vcov", (n_basic, n_basic), symmetric=True)
    prior_p, post_p = np.linalg.inv(prior), np.linalg.inv(post)
    diff = post_p - prior_p  # X^T V^{-1} X
    # R's D[lower.tri(D, diag = TRUE)]: column-major lower triangle.
    s_vec = np.concatenate([diff[j:, j] for j in range(n_basic)])
    r_mat, cols = _nnls_system(design_arr, n_basic)
    precision, _ = nnls(r_mat, s_vec)
    with np.errstate(divide="ignore"):
        variances = 1.0 / precision[cols]
    lik_cov = np.diag(variances)
    finite = np.isfinite(variances)
    x_fin = design_arr[finite]
    fit_p = prior_p + x_fin.T @ np.diag(1.0 / variances[finite]) @ x_fin
    # KL(N(., post) || N(., fit)) = (tr(fit^-1 post) - p + log det fit - log det post) / 2.
    _, logdet_post = np.linalg.slogdet(post)
    _, logdet_fit_p = np.linalg.slogdet(fit_p)
    kl = 0.5 * (np.trace(fit_p @ post) - n_basic - logdet_fit_p - logdet_post)
    return lik_cov, float(kl)
