"""Seeded fits run in a fresh process by ``test_reproducibility.py``; prints their draws' digests.

``python reproducible_fits.py STEP [STEP ...]``, each step one of the targets (``statins_re``,
``thrombolytics_fe``, ``full``, ``collapsed``, ``survival``) or ``battery`` (other fits: other
layouts, priors, classes, covariates, arm and contrast data, the exact engine, a survival
model). Prints one JSON object: for each target, the list of the SHA-256 digests of its
posterior draws, one per time it was fitted in this process.
"""

import hashlib
import json
import sys
import warnings

import numpy as np
import pandas as pd

import nma_bayes as nb
from nma_bayes.base.errors import NMAConvergenceWarning

#: The reference settings of the statins random-effects fit (tests/reference_helpers.py) whose
#: draws changed with the PyTensor cache (issue 22): binomial logit, 2000 + 2000 draws.
STATINS = dict(
    likelihood="binomial", reference="control", draws=2000, tune=2000, random_seed=20261130,
    prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5),
)  # fmt: skip
SHORT = dict(draws=300, tune=300, chains=2)


def statins_re(**changes):
    return nb.fit_network(nb.datasets.load_dataset("statins", "arms"), **(STATINS | changes))


def thrombolytics_fe(**changes):
    """Binomial fixed effects: compiled right after another binomial model, its draws differed
    between a process with an empty PyTensor cache and a warm one under fast-math."""
    data = nb.datasets.load_dataset("thrombolytics", "arms")
    kw = dict(likelihood="binomial", reference="SK", effects="fixed", random_seed=20261130)
    return nb.fit_network(data, **(kw | SHORT | changes))


def full(**changes):
    """The joint model of d and tau (collapse=False) on contrast data."""
    df = nb.datasets.load_dataset("parkinsons")
    kw = dict(collapse=False, random_seed=11, prior_tau=nb.HalfNormal(1.0)) | SHORT
    return nb.fit_network(df, **(kw | changes))


def collapsed(**changes):
    """The collapsed model (tau by NUTS, d drawn given tau) on contrast data."""
    df = nb.datasets.load_dataset("senn2013")
    return nb.fit_network(df, **(dict(collapse=True, random_seed=5) | SHORT | changes))


def survival(**changes):
    """A survival model of its own engine path (engines.survival): FP2 on grouped intervals."""
    km = nb.datasets.load_dataset("grouped_survival", "grouped_tte")
    kw = dict(model="fp", powers=(0, 1), reference="B", random_seed=27) | SHORT
    return nb.fit_survival(km, **(kw | changes))


def battery():
    """Other fits: the same layouts with other priors and data, and other structures."""
    statins_re(prior_d=nb.Normal(0.5, 3), prior_tau=nb.Uniform(0, 2), draws=100, tune=100)
    full(prior_d=nb.Normal(1.0, 5), prior_tau=nb.HalfNormal(2.0), random_seed=2)
    shifted = nb.datasets.load_dataset("parkinsons").assign(TE=lambda d: d["TE"] + 0.3)
    nb.fit_network(shifted, collapse=False, random_seed=11, **SHORT)  # same layout, other data
    collapsed(prior_d=nb.Normal(-1.0, 2), prior_tau=nb.Uniform(0, 3))
    classes = nb.datasets.load_dataset("psps_t2_illustrative")
    nb.fit_network(classes, classes="class", class_model="exchangeable", **SHORT)
    rng = np.random.default_rng(0)
    studies = nb.datasets.load_dataset("parkinsons")["study"].unique()
    severity = pd.Series(rng.normal(size=len(studies)), index=studies)
    regress = nb.datasets.load_dataset("parkinsons").assign(x=lambda d: d["study"].map(severity))
    nb.fit_network(regress, covariates="x", engine="pymc", **SHORT)
    nb.fit_network(nb.datasets.load_dataset("smoking", "arms"), likelihood="binomial",
                   reference="No intervention", **SHORT)  # fmt: skip
    nb.fit_network(nb.datasets.load_dataset("therapy_formats"), engine="exact", random_seed=1)
    km = nb.datasets.load_dataset("grouped_survival", "grouped_tte")
    nb.fit_survival(  # the survival target's structure, with other data and priors
        km.assign(treatment=km["treatment"].replace({"A": "C", "C": "A"})), model="fp",
        powers=(0, 1), reference="B", prior_d=nb.Normal(0.5, 3), random_seed=3, **SHORT,
    )


def digest(fit) -> str:
    post = fit.idata["posterior"]
    h = hashlib.sha256()
    for name in sorted(post.data_vars):
        h.update(name.encode() + np.ascontiguousarray(post[name].values).tobytes())
    return h.hexdigest()


def main(steps):
    targets = {"statins_re": statins_re, "thrombolytics_fe": thrombolytics_fe, "full": full,
               "collapsed": collapsed, "survival": survival}  # fmt: skip
    out = {}
    with warnings.catch_warnings():
        # short fits may flag R-hat or ESS: their draws are compared here, not their quality
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        for step in steps:
            if step == "battery":
                battery()
            else:
                out.setdefault(step, []).append(digest(targets[step]()))
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
