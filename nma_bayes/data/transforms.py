"""Network transforms for the inconsistency models: re-basing, UME and node-split networks.

Both are built as *transformed networks* fitted by the ordinary consistency machinery (PyMC or the
exact engine, any likelihood), so they inherit the exact multi-arm covariance:

* a study's contrasts can be re-expressed against any of its arms exactly: with arm variances
  ``s_a^2`` (``cov`` is the base arm's, ``var`` the others'), contrasts against arm ``a`` have
  ``Cov = diag(s_j^2) + s_a^2 11'``; the rank-one SMD term transforms linearly
  (``u'_j = u_j - u_a``, ``u'_old base = -u_a``). An arm-level outcome study (binomial,
  Poisson, normal arms) is re-based by reordering its arms: its baseline ``mu_i`` becomes the
  linear predictor of the new base arm, and the TSD2 random effects are invariant to the choice
  of base arm (variance ``tau^2``, covariance ``tau^2/2`` whichever arm is the base);
* UME: each observed comparison ``k vs b`` of a study with base arm ``b`` becomes a
  pseudo-treatment compared with a common pseudo-reference, so its effect is a free parameter
  (Dias et al. 2013, TSD4, with the multi-arm correction; studies re-based where a comparison
  occurs in both orientations);
* node-split of ``A`` vs ``B`` (``A`` before ``B`` in the network order): studies with both arms
  are re-based on ``A`` and their ``B`` arm becomes a pseudo-treatment ``P`` with ``d_P - d_A``
  the direct effect; their other arms keep the consistency parameters; the indirect effect is
  ``d_B - d_A`` from the rest of the network in the same fit. This is multinma's convention
  (``nma(consistency = "nodesplit")``: an inconsistency factor ``omega = d_P - d_B`` on the arm
  of the split treatment that comes later in the treatment order, every arm kept), for every
  likelihood.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from ..base.errors import ModelSpecError, UnknownTreatmentError
from .assembly import StudyRecord
from .network import Network
from .validation import components

__all__ = [
    "ume_network",
    "nodesplit_network",
    "splittable_comparisons",
    "design_by_treatment_network",
    "network_records",
    "separated_designs",
    "rebuild_network",
    "REFERENCE",
]

REFERENCE = "(reference)"


def _no_covariates(net: Network, what: str) -> None:
    """Refuse a transform of a network with study covariates (meta-regression, not built yet)."""
    if net.covariates is not None:
        raise ModelSpecError(
            f"{what} is not supported yet with meta-regression (covariates=): the transformed "
            "network would lose the covariates. Fit the consistency model with covariates, or "
            "build the network without covariates= for this analysis.",
            rule="bad-option",
        )


def network_records(net: Network) -> list[StudyRecord]:
    """Return the network's studies as contrasts vs their base arms (inverse of assembly)."""
    out = []
    t = net.treatments
    for i, s in enumerate(net.studies):
        m = np.asarray(net.mask[i])
        k = int(m.sum()) + 1  # arms, base first
        outcomes = {}
        if net.outcome[i]:  # arm-level outcomes: slot 0 the base arm, then the arms of `arm`
            outcomes = {name: np.asarray(getattr(net, name)[i, :k], dtype=float)
                        for name in ("events", "trials", "offset")}  # fmt: skip
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
                **outcomes,
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
    outcomes = {}
    if st.events is not None:  # arm-level outcomes: the same reordering (slot 0 = base arm)
        slots = [j + 1, *(i + 1 for i in others), 0]
        outcomes = {name: getattr(st, name)[slots] for name in ("events", "trials", "offset")}
    return replace(
        st, base=st.arms[j], arms=arms, y=y, var=var, cov=cov, u=u, base_n=float(st.arm_n[j]),
        arm_n=arm_n, **outcomes,
    )  # fmt: skip


def rebuild_network(
    net: Network, studies: list[StudyRecord], treatments, reference, rule, classes=None
) -> Network:
    """Assemble a transformed network from study records, keeping ``net``'s other settings."""
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
        likelihood=net.likelihood,
        link=net.link,
        categories=net.categories,
    )


def ume_network(net: Network) -> Network:
    """Build the UME model as comparison pseudo-treatments vs a pseudo-reference.

    Each contrast of a study against its base arm ``b`` gets the parameter of comparison
    ``"k vs b"`` (TSD4's UME with the multi-arm correction, as multinma fits it: a three-arm
    ``A, C, D`` study with base ``A`` informs ``d_AC`` and ``d_AD``, and its ``C``-``D``
    contrast is their difference). The base arm is the study's own: the comparator of its
    contrasts, or the first row of an arm-level study. When a comparison occurs in both
    orientations, the studies involved are re-based on their first treatment in the network
    order so that each comparison has one parameter. Contrasts of a treatment with itself keep
    mean 0. Works for contrast and arm-level outcome studies alike.
    """
    _no_covariates(net, "The UME model (consistency='ume')")
    order = {t: i for i, t in enumerate(net.treatments)}
    studies = network_records(net)
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
    return rebuild_network(
        net, out, [REFERENCE, *labels], REFERENCE, "UME: comparisons vs a pseudo-reference"
    )


def _arm_sets(net: Network) -> list[tuple[str, set[str]]]:
    """Each study's label and set of treatments."""
    return [(st.study, {st.base, *st.arms}) for st in network_records(net)]


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
    for i, st in enumerate(network_records(net)):
        if i in direct:
            if st.base != a:
                st = _rebase(st, st.arms.index(a))
            st = replace(st, arms=tuple(pseudo if x == b else x for x in st.arms))
        out.append(st)
    treatments = [*net.treatments, pseudo]
    # with treatment classes, the direct effect is a class of its own: a class model must not
    # shrink it towards b's class (that would mix indirect evidence back into "direct")
    classes = None if net.classes is None else {**net.classes, pseudo: pseudo}
    split = rebuild_network(net, out, treatments, net.reference, net.reference_rule, classes)
    return split, pseudo


def _design_rows(net: Network, studies: list[StudyRecord]):
    """Designs (treatment tuples in network order) of the studies, and the inconsistency rows.

    Returns the design of every study and the candidate rows ``(design, treatment)`` (one per
    non-baseline treatment of each distinct design), designs with fewer studies first (ties:
    smaller designs, then network order), so that the greedy choice of
    :func:`design_by_treatment_network` puts inconsistency parameters on the least-supported
    designs.
    """
    order = {t: i for i, t in enumerate(net.treatments)}
    members = [tuple(sorted({st.base, *st.arms}, key=order.__getitem__)) for st in studies]
    count = Counter(members)
    distinct = sorted(count, key=lambda d: (count[d], len(d), [order[t] for t in d]))
    return members, [(d, k) for d in distinct for k in d[1:]]


def design_by_treatment_network(net: Network) -> tuple[Network, list[tuple[str, str, str, str]]]:
    r"""Network of the design-by-treatment interaction model (Higgins et al. 2012).

    In a study of design ``D`` (its set of treatments) with baseline ``b_D`` (the design's first
    treatment in the network order), the effect of arm ``k`` is
    ``d_k - d_{b_D} + omega_{D,k}``. Not every ``omega`` is identified: candidate rows
    ``(D, k)`` are taken in the order of :func:`_design_rows` and an ``omega_{D,k}`` is kept when
    it adds a dimension to the span of the consistency effects and the kept ``omega``'s (a
    greedy rank check on the design-level matrix, as regression software drops aliased
    interaction columns; White et al. 2012). The number kept is the degrees of freedom of the
    between-designs Q (Krahn et al. 2013). Each kept ``omega_{D,k}`` becomes a pseudo-treatment
    ``"k [D]"`` on the ``k`` arms of design ``D`` (studies re-based on ``b_D``), whose effect is
    ``d_k + omega_{D,k}``; so the model is fitted by the ordinary machinery, for every
    likelihood, and ``omega = d_{k [D]} - d_k``.

    Returns
    -------
    tuple
        The network and the kept parameters ``(design label "A:B:C", treatment k, baseline
        b_D, pseudo-treatment)``, in the order of :func:`_design_rows`.
    """
    _no_covariates(net, "The design-by-treatment model")
    studies = network_records(net)
    members, rows = _design_rows(net, studies)
    others = [t for t in net.treatments if t != net.reference]
    position = {t: i for i, t in enumerate(others)}
    basis = np.zeros((len(rows), len(position)))
    for r, (design, k) in enumerate(rows):  # row (D, k) of the consistency part: d_k - d_{b_D}
        for t, sign in ((k, 1.0), (design[0], -1.0)):
            if t in position:
                basis[r, position[t]] += sign
    rank = np.linalg.matrix_rank(basis)
    kept = []
    for r, (design, k) in enumerate(rows):
        trial = np.column_stack([basis, np.eye(len(rows))[:, r]])
        if np.linalg.matrix_rank(trial) > rank:  # omega_{D,k} is not aliased: keep it
            basis, rank = trial, rank + 1
            kept.append((":".join(design), k, design[0], f"{k} [{':'.join(design)}]"))
    pseudo = {(label, k): name for label, k, _, name in kept}
    out = []
    for st, design in zip(studies, members, strict=True):
        if st.base != design[0]:
            st = _rebase(st, st.arms.index(design[0]))
        label = ":".join(design)
        out.append(replace(st, arms=tuple(pseudo.get((label, a), a) for a in st.arms)))
    treatments = [*net.treatments, *(name for *_, name in kept)]
    return rebuild_network(net, out, treatments, net.reference, net.reference_rule), kept


def separated_designs(net: Network, kept) -> list[tuple[str, str, str]]:
    """Inconsistency parameters of binomial or Poisson designs whose effect has no finite MLE.

    ``kept`` as returned by :func:`design_by_treatment_network`. The own effect of ``k`` vs
    ``b`` in design ``D`` is separated (its likelihood keeps increasing towards one infinity)
    when every study of ``D`` has ``r_k = 0`` or ``r_b = n_b`` (towards minus infinity), or every
    one has ``r_k = n_k`` or ``r_b = 0`` (plus infinity); Poisson arms have no upper bound. A
    study of ``D`` given as contrasts is never separated. Returns ``(design, k, b)``.
    """
    if net.likelihood not in ("binomial", "poisson"):
        return []
    studies = network_records(net)
    members, _ = _design_rows(net, studies)
    tables: dict[str, list] = {}
    for st, design in zip(studies, members, strict=True):
        table = None  # contrasts: never separated
        if st.events is not None:
            table = dict(zip((st.base, *st.arms), zip(st.events, st.trials, strict=True),
                             strict=True))  # fmt: skip
        tables.setdefault(":".join(design), []).append(table)
    binomial = net.likelihood == "binomial"
    out = []
    for design, k, b, _ in kept:
        studies = tables[design]
        if any(t is None for t in studies):
            continue
        low = all(t[k][0] == 0 or (binomial and t[b][0] == t[b][1]) for t in studies)
        high = all((binomial and t[k][0] == t[k][1]) or t[b][0] == 0 for t in studies)
        if low or high:
            out.append((design, k, b))
    return out
