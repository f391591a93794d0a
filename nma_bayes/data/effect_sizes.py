"""Contrasts of one study's non-base arms against its base arm, from arm-level continuous data.

:func:`study_contrasts` turns the arm-level means, SDs (or SEs) and sample sizes of ONE study into
the ``k`` contrasts of its non-base arms against its base arm (arm 0, in the order given) and
their within-study covariance, in the structured form

    Cov(y) = diag(var) + cov * 1 1' + cov_u * u u'   (k x k),

returned as an :class:`ArmContrasts`. Measures:

``"MD"``
    Mean difference; the covariance is exact (``u = 0``).
``"SMD"``, ``smd_method="escalc"`` (default)
    Hedges' g exactly as metafor ``escalc(measure="SMD")``; covariance of two g's sharing the base
    arm by the delta method (Gleser & Olkin 2009), in the large-sample form consistent with escalc.
``"SMD"``, ``smd_method="netmeta"``
    Standardised mean difference exactly as netmeta ``pairwise(sm="SMD")`` (netmeta 3.3.1): Cohen's
    d (no bias correction) on the SD pooled over ALL arms of the study; covariance consistent with
    netmeta's variance, so that every pairwise variance netmeta reports is reproduced exactly.

References
----------
Gleser, L. J. & Olkin, I. (2009). Stochastically dependent effect sizes. In H. Cooper, L. V.
Hedges & J. C. Valentine (eds), *The Handbook of Research Synthesis and Meta-Analysis*, 2nd ed.,
ch. 19. New York: Russell Sage Foundation.

Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
estimators. *Journal of Educational Statistics*, 6, 107-128.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["ArmContrasts", "hedges_correction", "pairwise_smd", "study_contrasts"]

SMDMethod = Literal["escalc", "netmeta"]
_SMD_METHODS = ("escalc", "netmeta")


@dataclass(frozen=True)
class ArmContrasts:
    """Contrasts of a study's non-base arms vs its base arm, with structured covariance.

    ``Cov(y) = diag(var) + cov * 1 1' + cov_u * u u'``.

    Attributes
    ----------
    y : numpy.ndarray
        Contrasts (non-base arm minus base arm), shape ``(k,)``.
    var : numpy.ndarray
        Arm-specific (diagonal) part of the covariance, shape ``(k,)``, all positive.
    cov : float
        Part shared by every pair of contrasts (the base arm's contribution), ``>= 0``.
    u : numpy.ndarray
        Direction of the rank-one term, shape ``(k,)`` (zero for MD).
    cov_u : float
        Scale of the rank-one term, ``>= 0``.
    """

    y: np.ndarray
    var: np.ndarray
    cov: float
    u: np.ndarray
    cov_u: float

    @property
    def k(self) -> int:
        """Number of contrasts (non-base arms)."""
        return int(self.y.shape[0])

    def covariance(self) -> np.ndarray:
        """Return the dense ``k x k`` within-study covariance matrix.

        Returns
        -------
        numpy.ndarray
            ``diag(var) + cov * 1 1' + cov_u * u u'``.
        """
        return np.diag(self.var) + self.cov + self.cov_u * np.outer(self.u, self.u)

    def variances(self) -> np.ndarray:
        """Return the total variance of each contrast (the diagonal of :meth:`covariance`).

        Returns
        -------
        numpy.ndarray
            ``var + cov + cov_u * u**2``, shape ``(k,)``.
        """
        return self.var + self.cov + self.cov_u * self.u**2


def hedges_correction(m: np.ndarray | float) -> np.ndarray:
    """Return Hedges' exact small-sample bias correction factor ``J(m)``.

    ``J(m) = Gamma(m/2) / (sqrt(m/2) * Gamma((m-1)/2))``, computed on the log scale (metafor's
    ``.cmicalc``). ``J(m) ~ 1 - 3/(4m - 1)``.

    Parameters
    ----------
    m : array_like
        Degrees of freedom (``n1 + n2 - 2`` for a pair of arms), each ``> 1``.

    Returns
    -------
    numpy.ndarray
        The factors, same shape as ``m``.
    """
    m = np.asarray(m, dtype=float)
    lg = np.vectorize(math.lgamma, otypes=[float])
    return np.exp(lg(m / 2.0) - 0.5 * np.log(m / 2.0) - lg((m - 1.0) / 2.0))


def _check_method(smd_method: str) -> None:
    if smd_method not in _SMD_METHODS:
        raise ValueError(f"smd_method must be one of {_SMD_METHODS}, got {smd_method!r}")


def pairwise_smd(
    mean1,
    sd1,
    n1,
    mean2,
    sd2,
    n2,
    *,
    smd_method: SMDMethod = "escalc",
    sd_pooled=None,
    n_total=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised mean difference of arm 1 minus arm 2 and its large-sample variance.

    ``smd_method="escalc"`` (metafor ``escalc(measure="SMD")``, Hedges' g)::

        s_p = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2))
        g   = J(n1+n2-2) * (mean1 - mean2) / s_p          (J exact, see hedges_correction)
        v   = 1/n1 + 1/n2 + g^2 / (2 (n1+n2))

    ``smd_method="netmeta"`` (netmeta 3.3.1 ``pairwise(sm="SMD")``; Cohen's d, no correction)::

        g = (mean1 - mean2) / sd_pooled
        v = 1/n1 + 1/n2 + g^2 / (2 n_total)

    where, by default, ``sd_pooled`` is ``s_p`` above and ``n_total = n1 + n2``; for an arm of a
    multi-arm study netmeta uses the SD pooled over all arms of the study,
    ``sqrt(sum((n_i-1) sd_i^2) / sum(n_i-1))``, and the study's total sample size ``sum(n_i)``:
    pass them as ``sd_pooled`` and ``n_total``.

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like
        Means, SDs and sample sizes of the two arms (broadcast together).
    smd_method : {"escalc", "netmeta"}
        Which definition to follow (see above).
    sd_pooled, n_total : array_like, optional
        netmeta only: pooled SD and total sample size of the study (defaults: the pair's).

    Returns
    -------
    g : numpy.ndarray
        The SMD (arm 1 minus arm 2).
    var : numpy.ndarray
        Its large-sample variance.
    """
    _check_method(smd_method)
    mean1, sd1, n1, mean2, sd2, n2 = (
        np.asarray(a, dtype=float) for a in (mean1, sd1, n1, mean2, sd2, n2)
    )
    m = n1 + n2 - 2.0
    if smd_method == "escalc":
        if sd_pooled is not None or n_total is not None:
            raise ValueError("sd_pooled and n_total apply to smd_method='netmeta' only")
        s_p = np.sqrt(((n1 - 1.0) * sd1**2 + (n2 - 1.0) * sd2**2) / m)
        g = hedges_correction(m) * (mean1 - mean2) / s_p
        return g, 1.0 / n1 + 1.0 / n2 + g**2 / (2.0 * (n1 + n2))
    if sd_pooled is None:
        sd_pooled = np.sqrt(((n1 - 1.0) * sd1**2 + (n2 - 1.0) * sd2**2) / m)
    n_total = n1 + n2 if n_total is None else np.asarray(n_total, dtype=float)
    g = (mean1 - mean2) / np.asarray(sd_pooled, dtype=float)
    return g, 1.0 / n1 + 1.0 / n2 + g**2 / (2.0 * n_total)


def _arm_arrays(mean, sd, n, se) -> tuple[np.ndarray, ...]:
    arrays = {"mean": mean, "sd": sd, "n": n, "se": se}
    out = {}
    for name, a in arrays.items():
        if a is None:
            out[name] = None
            continue
        a = np.asarray(a, dtype=float)
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D over the study's arms, got shape {a.shape}")
        out[name] = a
    lengths = {name: a.shape[0] for name, a in out.items() if a is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arm arrays differ in length: {lengths}")
    if out["mean"].shape[0] < 2:
        raise ValueError(f"a study needs at least 2 arms, got {out['mean'].shape[0]}")
    return out["mean"], out["sd"], out["n"], out["se"]


def study_contrasts(
    mean,
    sd,
    n,
    *,
    measure: Literal["MD", "SMD"],
    se=None,
    smd_method: SMDMethod = "escalc",
) -> ArmContrasts:
    """Contrasts of one study's non-base arms vs its base arm (arm 0), with their covariance.

    With ``j, l = 1..k`` the non-base arms and arm 0 the base arm:

    **MD** (exact). ``y_j = mean_j - mean_0``; arm variance ``s_a^2 = se_a^2`` if ``se`` is given,
    else ``sd_a^2 / n_a``; ``var_j = s_j^2``, ``cov = s_0^2``, ``u = 0``, ``cov_u = 0``.

    **SMD, escalc** (default). ``y_j = g_j``, Hedges' g of arm j vs arm 0 with the pair's pooled
    SD (``pairwise_smd(..., smd_method="escalc")``; matches metafor to ~1e-13), with variance
    ``v_j = 1/n_j + 1/n_0 + g_j^2 / (2 N_j)``, ``N_j = n_j + n_0``. Covariance (delta method,
    Gleser & Olkin 2009, ch. 19, adapted to pairwise pooled SDs): the mean differences share
    arm 0 (``1/n_0`` on the d scale); the pooled variances ``s_pj^2, s_pl^2`` share arm 0's sample
    variance with weights ``(n_0-1)/m_j`` and ``(n_0-1)/m_l`` (``m_j = N_j - 2``), so
    ``Cov(s_pj^2, s_pl^2) = 2 sigma^4 (n_0-1) / (m_j m_l)`` and ``Cov(d_j, d_l) = 1/n_0 +
    d_j d_l (n_0-1) / (2 m_j m_l)``, whose diagonal analogue is ``d_j^2 / (2 m_j)``. escalc
    replaces ``m_j`` by ``N_j`` on the diagonal; doing the same throughout (``n_0 - 1 -> n_0``,
    ``m -> N``, which keeps the diagonal equal to escalc's ``v_j``)::

        Cov(g_j, g_l) = 1/n_0 + g_j g_l n_0 / (2 N_j N_l)      (j != l)

    i.e. ``cov = 1/n_0``, ``u_j = g_j / N_j``, ``cov_u = n_0 / 2`` and ``var_j = v_j - cov -
    cov_u u_j^2 = 1/n_j + g_j^2 / (2 N_j) * (1 - n_0 / N_j) = 1/n_j + g_j^2 n_j / (2 N_j^2)``,
    which is ``> 0`` (arm j's own mean and SD).

    **SMD, netmeta**. One SD pooled over all ``a`` arms, ``S^2 = sum_i (n_i-1) sd_i^2 /
    sum_i (n_i-1)``, and ``N = sum_i n_i``; ``g_j = (mean_j - mean_0) / S`` (no bias correction)
    and ``v_j = 1/n_j + 1/n_0 + g_j^2 / (2N)`` (matches netmeta 3.3.1 ``pairwise(sm="SMD")`` to
    ~1e-15). As ``Var(S^2) = 2 sigma^4 / sum(n_i-1)`` (``~ 2 sigma^4 / N`` as in the variance)::

        Cov(g_j, g_l) = 1/n_0 + g_j g_l / (2N)

    i.e. ``cov = 1/n_0``, ``u = g``, ``cov_u = 1/(2N)``, ``var_j = 1/n_j > 0``. Then ``Var(g_j -
    g_l) = 1/n_j + 1/n_l + (g_j - g_l)^2 / (2N)``: netmeta's variance for every pair of arms.

    Parameters
    ----------
    mean, sd, n : array_like
        1-D over the study's arms; arm 0 is the base arm. ``sd`` may be ``None`` for MD with
        ``se`` given.
    measure : {"MD", "SMD"}
        Mean difference or standardised mean difference.
    se : array_like, optional
        MD only: the arms' standard errors (used instead of ``sd / sqrt(n)``).
    smd_method : {"escalc", "netmeta"}
        SMD only: which definition of the SMD to follow (see above).

    Returns
    -------
    ArmContrasts
        The ``k = len(mean) - 1`` contrasts and their structured covariance.

    Raises
    ------
    ValueError
        On arrays of different lengths, fewer than 2 arms, or an unknown ``measure`` or
        ``smd_method``, or missing ``sd``/``n`` where needed.

    References
    ----------
    Gleser, L. J. & Olkin, I. (2009). Stochastically dependent effect sizes. In H. Cooper,
    L. V. Hedges & J. C. Valentine (eds), *The Handbook of Research Synthesis and
    Meta-Analysis*, 2nd ed., ch. 19.
    """
    mean, sd, n, se = _arm_arrays(mean, sd, n, se)
    if measure == "MD":
        if se is None:
            if sd is None or n is None:
                raise ValueError("measure='MD' needs `se`, or `sd` and `n`")
            s2 = sd**2 / n
        else:
            s2 = se**2
        k = mean.shape[0] - 1
        return ArmContrasts(
            y=mean[1:] - mean[0], var=s2[1:].copy(), cov=float(s2[0]), u=np.zeros(k), cov_u=0.0
        )
    if measure != "SMD":
        raise ValueError(f"measure must be 'MD' or 'SMD', got {measure!r}")
    _check_method(smd_method)
    if se is not None:
        raise ValueError("`se` applies to measure='MD' only; SMD needs `sd` and `n`")
    if sd is None or n is None:
        raise ValueError("measure='SMD' needs `sd` and `n`")
    n0, nj = n[0], n[1:]
    if smd_method == "escalc":
        g, _ = pairwise_smd(mean[1:], sd[1:], nj, mean[0], sd[0], n0, smd_method="escalc")
        big_n = nj + n0
        return ArmContrasts(
            y=g,
            var=1.0 / nj + g**2 * nj / (2.0 * big_n**2),
            cov=float(1.0 / n0),
            u=g / big_n,
            cov_u=float(n0 / 2.0),
        )
    sd_pooled = np.sqrt(np.sum((n - 1.0) * sd**2) / np.sum(n - 1.0))
    n_total = float(np.sum(n))
    g, _ = pairwise_smd(
        mean[1:],
        sd[1:],
        nj,
        mean[0],
        sd[0],
        n0,
        smd_method="netmeta",
        sd_pooled=sd_pooled,
        n_total=n_total,
    )
    return ArmContrasts(
        y=g, var=1.0 / nj, cov=float(1.0 / n0), u=g.copy(), cov_u=1.0 / (2.0 * n_total)
    )
