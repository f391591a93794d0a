"""A long JAGS run of the design-by-treatment model of smoking: the reference of issue 23's test.

The design-by-treatment interaction model (Higgins et al. 2012) as nma_bayes fits it is the
consistency model of a transformed network (:func:`nma_bayes.data.transforms.
design_by_treatment_network`): each identified ``omega_{D,k}`` is a pseudo-treatment ``"k [D]"``
on the ``k`` arms of design ``D``, every study based on its design's baseline. This script writes
that network's arms in ``jags_arm.R``'s layout, fits it with JAGS (TSD2's binomial logit
random-effects program, ``d, mu ~ N(0, 100^2)``, ``sd ~ U(0, 5)``; the glm module off, as it
biased random-effects fits here before), and summarises ``omega = d[k [D]] - d[k]`` and ``tau``
from 4 chains x 25,000 iterations after 5,000 burn-in (ArviZ bulk ESS and R-hat).

    python benchmarks/jags_dbt_reference.py OUT.csv     # ~2 min; needs Debian's jags, r-cran-rjags

The bundled copy is ``nma_bayes/datasets/data/smoking/jags_design_by_treatment.csv``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import nma_bayes as nb
from nma_bayes.data.transforms import design_by_treatment_network

SCRIPT = Path(__file__).with_name("jags_arm.R")
CHAINS, ADAPT, BURNIN, ITER, SEED = 4, 2000, 5000, 25000, 2026


def transformed_arms() -> tuple[pd.DataFrame, list[str], list[tuple]]:
    """The transformed network's arms (base arm first), its treatments and kept parameters."""
    arms = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    net = nb.Network.from_data(arms=arms, likelihood="binomial", reference="No intervention")
    dbt, kept = design_by_treatment_network(net)
    treatments = [dbt.reference, *dbt.non_reference]
    index = {t: i + 1 for i, t in enumerate(treatments)}
    rows = []
    for i in range(dbt.n_studies):
        k = int(dbt.n_arms[i])
        arm_t = [dbt.treatments[dbt.base[i]], *(dbt.treatments[a] for a in dbt.arm[i, : k - 1])]
        for j, t in enumerate(arm_t):
            rows.append((i + 1, j + 1, index[t], dbt.events[i, j], dbt.trials[i, j], k))
    table = pd.DataFrame(rows, columns=["study", "arm", "t", "r", "n", "na"])
    return table, treatments, kept


def main(out: str) -> None:
    table, treatments, kept = transformed_arms()
    with tempfile.TemporaryDirectory() as tmp:
        data, draws_csv = Path(tmp) / "data.csv", Path(tmp) / "draws.csv"
        table.to_csv(data, index=False)
        cmd = ["Rscript", str(SCRIPT), str(data), str(draws_csv), "binomial", "logit", "random",
               str(ADAPT), str(BURNIN), str(ITER), str(CHAINS), str(SEED), "0"]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        draws = pd.read_csv(draws_csv)

    def d_of(t: str) -> np.ndarray:
        k = treatments.index(t)
        return np.zeros(len(draws)) if k == 0 else draws[f"d[{k + 1}]"].to_numpy()

    def per_chain(x: np.ndarray) -> np.ndarray:
        return x.reshape(CHAINS, -1)  # draws are written chain by chain

    rows = []
    quantities = [(design, k, b, d_of(pseudo) - d_of(k)) for design, k, b, pseudo in kept]
    quantities.append(("", "tau", "", draws["tau"].to_numpy()))
    for design, k, b, x in quantities:
        chains = per_chain(x)
        rows.append({
            "design": design, "treatment": k, "comparator": b,
            "quantity": "tau" if k == "tau" else "omega",
            "mean": x.mean(), "sd": x.std(ddof=1), "median": np.median(x),
            "lower95": np.quantile(x, 0.025), "upper95": np.quantile(x, 0.975),
            "ess_bulk": float(az.ess(chains, method="bulk")),
            "r_hat": float(az.rhat(chains)), "n_chains": CHAINS, "n_iter_per_chain": ITER,
        })  # fmt: skip
    pd.DataFrame(rows).to_csv(out, index=False, float_format="%.10g")


if __name__ == "__main__":
    main(sys.argv[1])
