"""Network transforms for the inconsistency models: re-basing, UME and node-split networks.

Both are built as *transformed networks* fitted by the ordinary consistency machinery (PyMC or the
exact engine), so they inherit the exact multi-arm covariance:

* a study's contrasts can be re-expressed against any of its arms exactly: with arm variances
  ``s_a^2`` (``cov`` is the base arm's, ``var`` the others'), contrasts against arm ``a`` have
  ``Cov = diag(s_j^2) + s_a^2 11'``; the rank-one SMD term transforms linearly
  (``u'_j = u_j - u_a``, ``u'_old base = -u_a``);
* UME: every study is re-based on its first treatment in the network order, and each observed
  comparison ``k vs b`` becomes a pseudo-treatment compared with a common pseudo-reference, so its
  effect is a free parameter (Dias et al. 2013, TSD4);
* node-split of ``A`` vs ``B``: studies with both arms are re-based on ``A`` and their ``B`` arm
  becomes a pseudo-treatment ``P`` with ``d_P - d_A`` the direct effect; the indirect effect is
  ``d_B - d_A`` from the rest of the network in the same fit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..base.errors import ModelSpecError, UnknownTreatmentError
from .assembly import StudyRecord
from .network import Network
from .validation import components

__all__ = ["ume_network", "nodesplit_network", "splittable_comparisons", "REFERENCE"]

REFERENCE = "(reference)"


def _no_outcomes(net: Network, what: str) -> None:
    """Refuse a transform of a network with arm-level outcome studies (not built yet)."""
    if np.asarray(net.outcome).any():
        raise ModelSpecError(
            f"{what} is not available yet for networks with arm-level {net.likelihood} outcome "
            "studies (their arms would need re-basing on the linear-predictor scale). Fit the "
            "consistency model, or give those studies as contrasts.",
            rule="bad-option",
        )


def _no_covariates(net: Network, what: str) -> None:
    """Refuse a transform of a network with study covariates (meta-regression, not built yet)."""
    if net.covariates is not None:
        raise ModelSpecError(
            f"{what} is not supported yet with meta-regression (covariates=): the transformed "
            "network would lose the covariates. Fit the consistency model with covariates, or "
            "build the network without covariates= for this analysis.",
            rule="bad-option",
        )


def _studies(net: Network) -> list[StudyRecord]:
    """Return the network's studies as contrasts vs their base arms (inverse of assembly)."""
    out = []
    t = net.treatments
    for i, s in enumerate(net.studies):
        m = np.asarray(net.mask[i])
        out.append(
            StudyRecord(
                study=s,
                form=net.form[i],
                base=t[net.base[i]],
                arms=tuple(t[a] for a in np.asarray(net.arm[i])[m]),
                y=np.asarray(net.y[i])[m],
                var=np.asarray(net.var[i])[m],
                cov=float(net.cov[i]),
                u=np.asarray(net.u[i])[m],
                cov_u=float(net.cov_u[i]),
                base_n=float(net.base_n[i]),
                arm_n=np.asarray(net.arm_n[i])[m],
            )
        )
    return out


def _rebase(st: StudyRecord, j: int) -> StudyRecord:
    """Re-express a study's contrasts against its non-base arm ``j`` (exact)."""
    k = len(st.arms)
    others = [i for i in range(k) if i != j]
    y = np.array([st.y[i] - st.y[j] for i in others] + [-st.y[j]])
    var = np.array([st.var[i] for i in others] + [st.cov])
    u = np.array([st.u[i] - st.u[j] for i in others] + [-st.u[j]])
    arm_n = np.array([st.arm_n[i] for i in others] + [st.base_n])
    arms = tuple(st.arms[i] for i in others) + (st.base,)
    cov = float(st.var[j])
    if k == 1:  # a single contrast: keep all of its variance in `var`
        var, cov = np.array([var[0] + cov]), 0.0
    return replace(
        st, base=st.arms[j], arms=arms, y=y, var=var, cov=cov, u=u, base_n=float(st.arm_n[j]),
        arm_n=arm_n,
    )  # fmt: skip


def _rebuild(
    net: Network, studies: list[StudyRecord], treatments, reference, rule, classes=None
) -> Network:
    return Network._assemble(
        studies,
        trts=tuple(treatments),
        reference=reference,
        reference_rule=rule,
        data=net.data,
        arm_data=net.arm_data,
        columns=net.columns,
        closure_tol=net.closure_tol,
        measure=net.measure,
        lower_is_better=net.lower_is_better,
        classes=classes,
        excluded_studies=net.excluded_studies,
        smd_method=net.smd_method,
    )


def ume_network(net: Network) -> Network:
    """Build the UME model as comparison pseudo-treatments vs a pseudo-reference.

    Each contrast of a study against its base arm ``b`` gets the parameter of comparison
    ``"k vs b"`` (as multinma and TSD4 do, with the study's own base arm). When a comparison
    occurs in both orientations, the studies involved are re-based on their first treatment in
    the network order so that each comparison has one parameter. Contrasts of a treatment with
    itself keep mean 0.
    """
    _no_covariates(net, "The UME model (consistency='ume')")
    _no_outcomes(net, "The UME model")
    order = {t: i for i, t in enumerate(net.treatments)}
    studies = _studies(net)
    seen = {(st.base, a) for st in studies for a in st.arms if a != st.base}
    clash = {frozenset(p) for p in seen if (p[1], p[0]) in seen}
    out = []
    for st in studies:
        if any(frozenset((st.base, a)) in clash for a in st.arms):
            first = min([st.base, *st.arms], key=order.__getitem__)
            if first != st.base:
                st = _rebase(st, st.arms.index(first))
        arms = tuple(REFERENCE if a == st.base else f"{a} vs {st.base}" for a in st.arms)
        out.append(replace(st, base=REFERENCE, arms=arms))
    labels = sorted({a for st in out for a in st.arms} - {REFERENCE})
    return _rebuild(
        net, out, [REFERENCE, *labels], REFERENCE, "UME: comparisons vs a pseudo-reference"
    )


def _arm_sets(net: Network) -> list[tuple[str, set[str]]]:
    """Each study's label and set of treatments."""
    return [(st.study, {st.base, *st.arms}) for st in _studies(net)]


def _direct_studies(arm_sets, a: str, b: str) -> list[int]:
    return [i for i, (_, arms) in enumerate(arm_sets) if a in arms and b in arms]


def _indirect_connected(arm_sets, a: str, b: str) -> bool:
    """Whether a and b stay connected without the a-b contrasts of the studies with both."""
    sets = {}
    for study, arms in arm_sets:
        if a in arms and b in arms:
            arms = arms - {b}  # the study keeps its other arms, linked through a
        sets[study] = arms if len(arms) > 1 else {f"__{study}"}
    return any(a in c and b in c for c in components(sets))


def splittable_comparisons(net: Network) -> list[tuple[str, str]]:
    """Comparisons with both direct and independent indirect evidence (gemtc/multinma rule).

    A pair ``(a, b)`` (``a`` first in the treatment order) is splittable if some study compares
    them and the two remain connected once the ``a``-``b`` contrasts of those studies are
    removed (their other arms stay, linked through ``a``).
    """
    arm_sets = _arm_sets(net)
    t = net.treatments
    return [
        (a, b)
        for i, a in enumerate(t)
        for b in t[i + 1 :]
        if _direct_studies(arm_sets, a, b) and _indirect_connected(arm_sets, a, b)
    ]


def nodesplit_network(net: Network, a: str, b: str) -> tuple[Network, str]:
    """Network for the node-split of ``b`` vs ``a``; returns it and the pseudo-treatment name."""
    _no_covariates(net, "Node-splitting")
    _no_outcomes(net, "Node-splitting")
    for t in (a, b):
        if t not in net.treatments:
            raise UnknownTreatmentError(
                f"{t!r} is not a treatment in the network.", rule="unknown-reference"
            )
    pseudo = f"{b} (direct vs {a})"
    direct = set(_direct_studies(_arm_sets(net), a, b))
    if not direct:
        raise ModelSpecError(f"No study compares {a!r} and {b!r} directly.", rule="bad-option")
    out = []
    for i, st in enumerate(_studies(net)):
        if i in direct:
            if st.base != a:
                st = _rebase(st, st.arms.index(a))
            st = replace(st, arms=tuple(pseudo if x == b else x for x in st.arms))
        out.append(st)
    treatments = [*net.treatments, pseudo]
    # with treatment classes, the direct effect is a class of its own: a class model must not
    # shrink it towards b's class (that would mix indirect evidence back into "direct")
    classes = None if net.classes is None else {**net.classes, pseudo: pseudo}
    split = _rebuild(net, out, treatments, net.reference, net.reference_rule, classes)
    return split, pseudo
