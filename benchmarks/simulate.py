"""Simulate connected contrast-format networks on the standardised mean difference (SMD) scale.

The data-generating model is the one :func:`nma_bayes.fit_network` fits (Dias et al. 2011,
NICE DSU TSD2, random effects), written at the arm level:

* true effects vs ``T01``: ``d_t ~ N(0, 0.5^2)`` (``d_T01 = 0``);
* each arm ``k`` of study ``i`` gets a random effect ``u_ik ~ N(0, tau^2/2)`` and a sampling
  error ``e_ik ~ N(0, 1/n_ik)`` with ``n_ik ~ U{20, ..., 200}`` patients (the variance of an arm
  mean on the SMD scale);
* the contrast of arm ``k`` vs the study's base arm ``b`` is
  ``TE_ik = d_tk - d_tb + (u_ik - u_ib) + (e_ik - e_ib)``, so the study-specific effects have
  variance ``tau^2`` and, within a multi-arm study, covariance ``tau^2/2``; the sampling errors
  have variance ``1/n_ik + 1/n_ib`` (``seTE^2``; ``seTE ~ sqrt(2/n)`` for equal arms) and
  covariance ``1/n_ib`` (``se_base^2``).

Multi-arm studies are written in base form: one row per non-base arm against the common base arm
``treat2`` (the study's lowest-numbered treatment), all rows sharing ``se_base``.

The network is connected by construction: the first ``n_treatments - 1`` studies form a random
spanning tree over the treatments (each treatment, in random order, is compared with one already
placed); the remaining studies compare random pairs or, with probability ``frac_multiarm``,
random sets of 3 to ``max_arms`` treatments. ``T01`` (the reference, think "placebo" or
"usual care") is drawn three times as often as any other treatment, as in most real networks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_network", "treatment_label"]

COLUMNS = ["study", "treat1", "treat2", "TE", "seTE", "se_base", "n_arms"]


def treatment_label(i: int) -> str:
    """Label of the ``i``-th treatment (0-based): ``T01``, ``T02``, ..."""
    return f"T{i + 1:02d}"


def simulate_network(
    n_studies: int,
    n_treatments: int,
    *,
    seed: int,
    tau: float = 0.2,
    frac_multiarm: float = 0.1,
    max_arms: int = 4,
) -> pd.DataFrame:
    """Simulate a connected network of studies in contrast (base-arm) format.

    Parameters
    ----------
    n_studies : int
        Number of studies; at least ``n_treatments - 1`` (a spanning tree is needed to connect
        the network).
    n_treatments : int
        Number of treatments (at least 2), labelled ``T01``, ``T02``, ...; ``T01`` is the
        natural reference.
    seed : int
        Seed of the random generator; the same arguments give the same data frame.
    tau : float
        Between-study standard deviation of the relative effects.
    frac_multiarm : float
        Probability that a study beyond the spanning tree has more than two arms.
    max_arms : int
        Largest number of arms of a multi-arm study (at least 3 when ``frac_multiarm > 0``).

    Returns
    -------
    DataFrame
        Columns ``study, treat1, treat2, TE, seTE, se_base, n_arms``: one row per non-base arm,
        ``TE`` the effect of ``treat1`` minus ``treat2``; ``se_base`` is NaN for two-arm studies.
        ``df.attrs`` holds the true ``d`` (vs ``T01``) and ``tau``.
    """
    if n_treatments < 2:
        raise ValueError(f"n_treatments must be >= 2, got {n_treatments}")
    if n_studies < n_treatments - 1:
        raise ValueError(
            f"n_studies={n_studies} cannot connect {n_treatments} treatments "
            f"(need at least {n_treatments - 1})"
        )
    if not 0.0 <= frac_multiarm <= 1.0:
        raise ValueError(f"frac_multiarm must be in [0, 1], got {frac_multiarm}")
    if frac_multiarm > 0 and max_arms < 3:
        raise ValueError(f"max_arms must be >= 3 for multi-arm studies, got {max_arms}")
    if tau < 0:
        raise ValueError(f"tau must be >= 0, got {tau}")

    rng = np.random.default_rng(seed)
    d = np.concatenate([[0.0], rng.normal(0.0, 0.5, n_treatments - 1)])
    weights = np.ones(n_treatments)
    weights[0] = 3.0
    weights /= weights.sum()
    max_arms = min(max_arms, n_treatments)

    designs: list[np.ndarray] = []
    order = rng.permutation(n_treatments)
    for j in range(1, n_treatments):
        designs.append(np.array([order[rng.integers(j)], order[j]]))
    for _ in range(n_studies - len(designs)):
        n_arms = 2
        if max_arms >= 3 and rng.random() < frac_multiarm:
            n_arms = int(rng.integers(3, max_arms + 1))
        designs.append(rng.choice(n_treatments, size=n_arms, replace=False, p=weights))
    designs = [designs[i] for i in rng.permutation(len(designs))]

    rows = []
    for i, arms in enumerate(designs):
        arms = np.sort(arms)  # base arm = lowest-numbered treatment
        n = rng.integers(20, 201, size=arms.size)
        arm_var = 1.0 / n
        u = rng.normal(0.0, tau / np.sqrt(2.0), size=arms.size)
        e = rng.normal(0.0, np.sqrt(arm_var))
        base = arms[0]
        for k in range(1, arms.size):
            te = d[arms[k]] - d[base] + (u[k] - u[0]) + (e[k] - e[0])
            rows.append(
                (
                    f"S{i + 1:04d}",
                    treatment_label(int(arms[k])),
                    treatment_label(int(base)),
                    float(te),
                    float(np.sqrt(arm_var[k] + arm_var[0])),
                    float(np.sqrt(arm_var[0])) if arms.size > 2 else np.nan,
                    int(arms.size),
                )
            )
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["d"] = {treatment_label(t): float(d[t]) for t in range(n_treatments)}
    df.attrs["tau"] = float(tau)
    return df


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_studies", type=int)
    parser.add_argument("n_treatments", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = simulate_network(args.n_studies, args.n_treatments, seed=args.seed)
    print(out.to_string(index=False))
