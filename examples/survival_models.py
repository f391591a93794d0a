"""Survival NMA beyond piecewise exponential: fractional polynomials and parametric models.

1. gemtcPlus's grouped Kaplan-Meier data (7 studies, 6 treatments): a first- and a second-order
   fractional polynomial (Jansen 2011), their DICs, and the hazard ratios of A vs B over time.
2. multinma's multiple-myeloma event times (5 studies, 3 treatments; time in years): Weibull
   and M-spline proportional-hazards models, their log hazard ratios and DICs, and survival, median
   and RMST in Morgan2012's population under the M-spline model, with the study's Kaplan-Meier
   steps for comparison, and Weibull curves in an external population (ExternalBaseline). A
   report is written to a temporary folder.

Run:  python examples/survival_models.py
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import nma_bayes as nb

DRAWS = int(os.environ.get("NMA_EXAMPLE_DRAWS", "1000"))


def grouped() -> None:
    km = nb.datasets.load_dataset("grouped_survival", "grouped_tte")
    fits = {name: nb.fit_survival(km, model="fp", powers=powers, reference="B",
                                  prior_d=nb.Normal(0, 100), draws=DRAWS, random_seed=1)
            for name, powers in (("FP1 (0)", (0,)), ("FP2 (0, 1)", (0, 1)))}  # fmt: skip
    print("Fractional polynomials, fixed effects: model fit")
    print(pd.concat([f.model_fit().assign(model=n) for n, f in fits.items()]).round(1)
          .to_string(index=False))  # fmt: skip
    hr = nb.hazard_ratios(fits["FP2 (0, 1)"], [3, 6, 12, 24])
    print("\nFP2: hazard ratios vs B over time (posterior median, 95% CrI)")
    print(hr[hr.treatment == "A"][["time", "treatment", "median", "ci_lower", "ci_upper"]]
          .round(3).to_string(index=False))  # fmt: skip


def event_times() -> None:
    ipd = nb.datasets.load_dataset("ndmm_survival", "ndmm_ipd")
    agd = nb.datasets.load_dataset("ndmm_survival", "ndmm_agd")
    data = pd.concat([ipd[["study", "trt", "eventtime", "status"]], agd], ignore_index=True)
    data = data.rename(columns={"trt": "treatment"}).assign(time=data["eventtime"] / 12)
    rows = []
    fits = {}
    for model in ("weibull", "mspline"):
        fits[model] = nb.fit_survival(data, model=model, reference="Pbo",
                                      prior_d=nb.Normal(0, 100), draws=DRAWS, random_seed=1)
        effects = fits[model].relative_effects().set_index("treatment")
        rows.append({"model": model, "effects": fits[model].measure,
                     **{t: f"{effects.loc[t, 'mean']:.3f} ({effects.loc[t, 'sd']:.3f})"
                        for t in ("Len", "Thal")},
                     "DIC": round(float(fits[model].model_fit()["DIC"].iloc[0]), 1)})  # fmt: skip
    print("\nEvent times (ndmm): effects vs Pbo, mean (SD), and DIC")
    print(pd.DataFrame(rows).to_string(index=False))
    print("multinma's M-spline PH vignette: Len -0.52 (0.05), Thal -0.11 (0.09)")
    out = nb.survival_summary(fits["mspline"], np.arange(0, 7.0, 1.0),
                              baseline_study="Morgan2012", horizon=5)  # fmt: skip
    km = nb.kaplan_meier(data, study="Morgan2012")
    print("\nM-spline: median PFS (years) and RMST to 5 years in Morgan2012's population")
    print(out["median"].round(2).to_string(index=False))
    print(out["rmst"].round(2).to_string(index=False))
    print(f"Kaplan-Meier steps of Morgan2012: {len(km)} (overlaid by plot_survival(km=...))")
    path = Path(tempfile.mkdtemp()) / "survival_report.html"
    nb.write_survival_report(fits["mspline"], path, times=[1, 2, 3, 5],
                             baseline_study="Morgan2012", data=data)  # fmt: skip
    print(f"report: {path.stat().st_size // 1024} KiB")
    # an external population: log lambda of Pbo ~ N(-1.2, 0.1^2), log shape ~ N(0.2, 0.05^2)
    pop = nb.ExternalBaseline(mu=nb.Normal(-1.2, 0.1), aux=nb.Normal(0.2, 0.05))
    ext = nb.survival_summary(fits["weibull"], [1.0, 3.0], baseline=pop)["survival"]
    print("\nWeibull: survival in an external population (posterior median, 95% CrI)")
    print(ext[["treatment", "time", "median", "ci_lower", "ci_upper"]].round(3)
          .to_string(index=False))  # fmt: skip


if __name__ == "__main__":
    grouped()
    event_times()
