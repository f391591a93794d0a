r"""Time bases of the survival models (NumPy/SciPy only): fractional polynomials and M-splines.

**Fractional polynomials** (Royston & Altman 1994; Jansen 2011). A power ``p`` gives the term
``t^p``, with ``p = 0`` meaning ``log t``; a repeated power gives ``t^p log t`` for its second
occurrence. :func:`fp_basis` returns the design ``[1, f_1(t), f_2(t), ...]`` of
``log h(t) = beta_0 + beta_1 f_1(t) + ...``.

**M-splines** (Ramsay 1988). For a knot sequence with boundary knots ``a < b`` repeated ``k``
times (order ``k = degree + 1``), ``M_j(t) = k B_j(t) / (t_{j+k} - t_j)``: the B-splines scaled
to integrate to 1, so that ``h_0(t) = sum_j c_j M_j(t)`` with ``c`` on the simplex is a hazard
and ``H_0(t) = sum_j c_j I_j(t)`` with ``I_j(t) = int_0^t M_j``, each between 0 and 1. Because
the B-splines sum to 1 on ``[a, b]``, the coefficients ``c_j = (t_{j+k} - t_j) / (k (b - a))``
give the constant hazard ``1 / (b - a)`` (:func:`constant_hazard_coefficients`): the centre of
multinma's random-walk prior on the coefficients (Phillippo et al. 2024). Past ``b`` the hazard
is held at its value at ``b`` (the cumulative hazard grows linearly), so that curves can be drawn
past the last follow-up; multinma evaluates the spline itself there.

Ramsay JO (1988). Monotone regression splines in action. Stat Sci 3:425-441. Royston P, Altman
DG (1994). Regression using fractional polynomials of continuous covariates. Appl Stat
43:429-467. Phillippo DM, Dias S, Ades AE, Welton NJ (2024), multilevel network meta-regression
for general likelihoods: synthesis of individual and aggregate data with applications to
survival analysis. J R Stat Soc A.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "FP_POWERS",
    "constant_hazard_coefficients",
    "fp_basis",
    "fp_labels",
    "mspline_basis",
    "quantile_knots",
]

#: The powers of Royston & Altman's fractional polynomials (0 stands for log t).
FP_POWERS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0)

#: Degree of the M-spline baseline hazard (cubic, as multinma's default).
SPLINE_DEGREE = 3


def fp_basis(t, powers: Sequence[float]) -> np.ndarray:
    """Return the design ``[1, f_1(t), ...]`` of a fractional polynomial (module docstring).

    Parameters
    ----------
    t : array_like
        Times, all > 0.
    powers : sequence of float
        The powers, e.g. ``(0,)`` (first order, log t) or ``(0, 1)``.

    Returns
    -------
    ndarray, shape (len(t), 1 + len(powers))
    """
    t = np.asarray(t, dtype=float)
    log_t = np.log(t)
    columns, previous = [np.ones_like(t)], None
    for p in powers:
        term = log_t if p == 0 else t**p
        if p == previous:  # a repeated power multiplies the previous term by log t
            term = columns[-1] * log_t
        columns.append(term)
        previous = p
    return np.stack(columns, axis=-1)


def fp_labels(powers: Sequence[float]) -> list[str]:
    """Names of the fractional polynomial's coefficients: ``intercept``, ``log(t)``, ``t^2``..."""
    names, previous = ["intercept"], None
    for p in powers:
        name = "log(t)" if p == 0 else ("t" if p == 1 else f"t^{p:g}")
        if p == previous:
            name = f"{names[-1]}*log(t)"
        names.append(name)
        previous = p
    return names


def quantile_knots(times, event: np.ndarray, *, n_internal: int = 7) -> np.ndarray:
    """Return the knots of one study's M-spline (multinma's default placement).

    Boundary knots 0 and the study's last time; ``n_internal`` internal knots at evenly spaced
    quantiles of its event times (multinma's default 7).
    """
    times = np.asarray(times, dtype=float)
    events = times[np.asarray(event, dtype=bool)]
    probs = np.arange(1, n_internal + 1) / (n_internal + 1)
    internal = np.quantile(events if events.size else times, probs)
    return np.concatenate([[0.0], internal, [times.max()]])


def _full_knots(knots: np.ndarray) -> np.ndarray:
    k = SPLINE_DEGREE + 1
    return np.concatenate([np.repeat(knots[0], k - 1), knots, np.repeat(knots[-1], k - 1)])


def constant_hazard_coefficients(knots) -> np.ndarray:
    """Simplex coefficients whose M-spline hazard is constant on the knots' range."""
    full, k = _full_knots(np.asarray(knots, dtype=float)), SPLINE_DEGREE + 1
    widths = full[k:] - full[:-k]
    return widths / widths.sum()


def mspline_basis(t, knots) -> tuple[np.ndarray, np.ndarray]:
    """Return the M-spline basis and its integral (I-splines) at times ``t``.

    Parameters
    ----------
    t : array_like
        Times >= 0.
    knots : array_like
        Boundary and internal knots, increasing (:func:`quantile_knots`).

    Returns
    -------
    M, I : ndarray, shape (len(t), len(knots) + degree - 1)
        ``M[:, j]`` the j-th M-spline at ``t``; ``I[:, j]`` its integral from 0 to ``t``. Past
        the last knot, ``M`` is held at its value there and ``I`` grows linearly.
    """
    from scipy.interpolate import BSpline

    knots = np.asarray(knots, dtype=float)
    t = np.asarray(t, dtype=float)
    full, k = _full_knots(knots), SPLINE_DEGREE + 1
    n_basis = len(full) - k
    b = knots[-1]
    inside = np.minimum(t, b)
    m = np.empty((t.size, n_basis))
    i = np.empty((t.size, n_basis))
    for j in range(n_basis):
        coef = np.zeros(n_basis)
        coef[j] = k / (full[j + k] - full[j])  # scale B_j to integrate to 1
        spline = BSpline(full, coef, SPLINE_DEGREE, extrapolate=False)
        integral = spline.antiderivative()
        # at t = b the right-open B-splines are 0: evaluate just inside the boundary
        at = np.where(inside >= b, np.nextafter(b, -np.inf), inside)
        m[:, j] = np.nan_to_num(spline(at))
        i[:, j] = np.nan_to_num(integral(at)) + m[:, j] * (t - at)
    return m, i
