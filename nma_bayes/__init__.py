"""nma_bayes: Bayesian network meta-analysis in Python, on PyMC.

Typical use::

    import nma_bayes as nb
    df = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(df, reference="cau", random_seed=1)
    fit.relative_effects()
    fit.sucra(lower_is_better=True)
"""

from . import datasets, priors
from .empirical_priors import rhodes2015, turner2015
from .errors import (
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
from .fit import fit_network
from .gls import gls_estimate
from .inconsistency import nodesplit, splittable_comparisons
from .io import read_csv_table
from .model import build_model
from .model_fit import compare_models, dev_dev
from .network import MEASURES, Network
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
from .priors import (
    HalfCauchy,
    HalfNormal,
    LogNormal,
    LogNormalTau2,
    LogStudentTTau2,
    Normal,
    Uniform,
)
from .results import NetworkFit
from .sensitivity import prior_sensitivity
from .spec import ModelSpec

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
