"""Summary-level threshold analysis of a network meta-analysis (Phillippo et al. 2018).

For every data point (a study's contrast, or a pooled contrast in a contrast-level analysis),
:func:`threshold_table` finds how far its estimate can be adjusted before the optimal treatment
changes, which treatment becomes optimal at each end, and the decision-invariant interval. It is
fed posterior summaries only (the means of the basic parameters and a posterior covariance) and
the likelihood covariance of the data, so any engine's posterior (or a published one) can be used.
:func:`recon_vcov` reconstructs a contrast-level likelihood covariance from a posterior covariance
by non-negative least squares, for a contrast-level analysis when the study data are not at hand.

Both mirror the R package nmathresh 0.1.6 (``nma_thresh`` with the maximal-efficacy decision rule,
``get.int``, ``recon_vcov``; CRAN mirror ``cran/nmathresh``), and the method of

    Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
    recommendations to bias in network meta-analysis. *J R Stat Soc A* 181:843-867,
    doi:10.1111/rssa.12341.

Conventions (nmathresh's): treatments are coded ``1..K``, the basic parameters are ``d_2..d_K``
against treatment 1, a contrast ``d_ab`` (``a < b``) is ``d_b - d_a``, and the ``K(K-1)/2``
contrasts are ordered ``(1,2), (1,3), ..., (1,K), (2,3), ...``. Thresholds are adjustments to a
data point's estimate: the invariant interval is ``y + [lower, upper]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ..base.errors import ModelSpecError
from ..base.validate import check_choice, check_lower_is_better, is_real
from .threshold_result import Thresholds

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


def _get_int(column: np.ndarray, others: list[int]) -> tuple[float, int | None, float, int | None]:
    """Return nmathresh's ``get.int`` (maximal-efficacy rule, one k*) for one column of ``U_k*``.

    The upper threshold is the smallest positive finite solution, the lower the largest negative
    one; infinite at an end without a solution. ``others[i]`` is the treatment (1-based) that is
    not k* in contrast ``i``: the new optimal treatment at a threshold. A NaN solution (contrast
    0/0, where nmathresh stops with an error) counts as no solution.
    """
    finite = np.isfinite(column)
    pos = finite & (column > 0)
    neg = finite & (column < 0)
    hi, hi_k, lo, lo_k = np.inf, None, -np.inf, None
    if pos.any():
        hi = float(column[pos].min())
        hi_k = others[int(np.flatnonzero(column == hi)[0])]
    if neg.any():
        lo = float(column[neg].max())
        lo_k = others[int(np.flatnonzero(column == lo)[0])]
    return lo, lo_k, hi, hi_k


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
) -> Thresholds:
    """Bias-adjustment thresholds and invariant intervals of every data point.

    nmathresh 0.1.6 ``nma_thresh`` with the maximal-efficacy decision rule (``mcid = 0``,
    ``trt.rank = 1``, all treatments; ``opt.max = not lower_is_better``), following Phillippo
    et al. (2018, J R Stat Soc A 181:843-867, sections 2-3). With ``D`` the contrasts of the
    basic parameters, ``H`` the influence matrix and ``k*`` the optimal treatment, the threshold
    solutions are ``U[ab, m] = -E(d_ab) / (D H)[ab, m]`` (the adjustment of data point ``m`` at
    which ``E(d_ab)`` reaches 0); only contrasts with ``k*`` matter (``U_k*``). A data point's
    upper threshold is the smallest positive solution of its column, the lower the largest
    negative one (infinite where there is none). For a multi-arm study each data point is
    adjusted alone (nmathresh's per-data-point thresholds; its 2-D ``thresh_2d`` lines are
    ``U_k*``'s columns).

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

    Returns
    -------
    Thresholds
        ``kstar``, ``H``, ``U``, ``Ukstar`` and the per-data-point table (``to_frame()``).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If shapes disagree, a covariance is not symmetric, ``nmatype`` is
        not ``"fixed"``/``"random"`` or a label list has the wrong length.
    """
    lower_is_better = check_lower_is_better(lower_is_better)
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

    pairs = contrast_pairs(n_basic + 1)
    d_mat = _contrast_matrix(pairs, n_basic)
    contr = d_mat @ mean
    h_mat = _influence(post, lik, design, n_basic, fixed)
    with np.errstate(divide="ignore", invalid="ignore"):
        # As R: 1 / 0 is +-Inf (no threshold), and -0 * Inf is NaN (treated as none).
        u_mat = (1.0 / (d_mat @ h_mat)) * (-contr)[:, None]
    # k*: R's order(c(0, mean), decreasing = opt.max)[1], the first on ties.
    effects = np.concatenate([[0.0], mean])
    kstar = int(np.argmin(effects) if lower_is_better else np.argmax(effects)) + 1
    rows = [i for i, (a, b) in enumerate(pairs) if (a == kstar) != (b == kstar)]
    ukstar = u_mat[rows]
    kstar_pairs = [pairs[i] for i in rows]
    others = [b if a == kstar else a for a, b in kstar_pairs]
    records = []
    for m in range(n_data):
        lo, lo_k, hi, hi_k = _get_int(ukstar[:, m], others)
        records.append({
            "data_point": m + 1,
            "study": None if studies is None else studies[m],
            "contrast": None if contrasts is None else contrasts[m],
            "y": np.nan if y_arr is None else y_arr[m],
            "threshold_lower": lo,
            "threshold_upper": hi,
            "new_optimal_lower": None if lo_k is None else names[lo_k - 1],
            "new_optimal_upper": None if hi_k is None else names[hi_k - 1],
        })  # fmt: skip
    table = pd.DataFrame.from_records(records)
    for col in ("study", "contrast", "new_optimal_lower", "new_optimal_upper"):
        # Treatment codes stay integers (or names), None where infinite: not float NaN.
        table[col] = pd.Series([r[col] for r in records], dtype=object)
    table["invariant_lower"] = table["y"] + table["threshold_lower"]
    table["invariant_upper"] = table["y"] + table["threshold_upper"]
    table["se"] = np.sqrt(np.diag(lik))  # the data point's likelihood SE (inf: no information)
    return Thresholds(
        table=table,
        H=h_mat,
        U=u_mat,
        Ukstar=ukstar,
        contrasts=tuple((names[a - 1], names[b - 1]) for a, b in pairs),
        ukstar_contrasts=tuple((names[a - 1], names[b - 1]) for a, b in kstar_pairs),
        kstar=names[kstar - 1],
        treatments=tuple(names),
        nmatype="fixed" if fixed else "random",
        lower_is_better=lower_is_better,
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
