"""nma_bayes: Bayesian network meta-analysis in Python, on PyMC.

Typical use::

    import nma_bayes as nb
    df = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(df, reference="cau", random_seed=1)
    fit.relative_effects()
    fit.sucra(lower_is_better=True)
"""

from . import datasets
from .analyses.inconsistency import nodesplit, splittable_comparisons
from .analyses.sensitivity import prior_sensitivity
from .base.errors import (
    DisconnectedNetworkError,
    ExactEngineError,
    InvalidValueError,
    MissingColumnError,
    ModelSpecError,
    MultiArmError,
    NMAConvergenceWarning,
    NMAInputError,
    NumericalError,
    UnknownTreatmentError,
)
from .data.io import read_csv_table
from .data.network import MEASURES, Network
from .engines.gls import gls_estimate
from .fitting.fit import fit_network
from .models import priors
from .models.empirical_priors import rhodes2015, turner2015
from .models.priors import (
    HalfCauchy,
    HalfNormal,
    LogNormal,
    LogNormalTau2,
    LogStudentTTau2,
    Normal,
    Uniform,
)
from .models.pymc_graph import build_model
from .models.spec import ModelSpec
from .plots import (
    plot_class_ranks,
    plot_dev_dev,
    plot_forest,
    plot_league,
    plot_network,
    plot_nodesplit,
    plot_rank_diagnostics,
    plot_ranks,
    plot_sucra,
    plot_trace,
)
from .results.goodness_of_fit import compare_models, dev_dev
from .results.record import NetworkFit

__version__ = "0.1.0"

__all__ = [
    "fit_network",
    "read_csv_table",
    "Network",
    "MEASURES",
    "plot_network",
    "NetworkFit",
    "ModelSpec",
    "build_model",
    "gls_estimate",
    "nodesplit",
    "splittable_comparisons",
    "compare_models",
    "dev_dev",
    "plot_nodesplit",
    "plot_forest",
    "plot_league",
    "plot_ranks",
    "plot_sucra",
    "plot_class_ranks",
    "plot_trace",
    "plot_rank_diagnostics",
    "plot_dev_dev",
    "datasets",
    "priors",
    "Normal",
    "HalfNormal",
    "Uniform",
    "LogNormal",
    "HalfCauchy",
    "LogNormalTau2",
    "LogStudentTTau2",
    "turner2015",
    "rhodes2015",
    "prior_sensitivity",
    "NMAInputError",
    "MissingColumnError",
    "InvalidValueError",
    "MultiArmError",
    "DisconnectedNetworkError",
    "ExactEngineError",
    "NumericalError",
    "UnknownTreatmentError",
    "ModelSpecError",
    "NMAConvergenceWarning",
]
