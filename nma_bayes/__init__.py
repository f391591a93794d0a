"""nma_bayes: Bayesian network meta-analysis in Python, on PyMC.

Typical use::

    import nma_bayes as nb
    df = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(df, reference="cau", random_seed=1)
    fit.relative_effects()
    fit.sucra(lower_is_better=True)
"""

from . import datasets
from .analyses.batch import BatchError, fit_many
from .analyses.cinema import cinema
from .analyses.design_by_treatment import design_by_treatment
from .analyses.inconsistency import nodesplit
from .analyses.influence import LeaveOneOut, leave_one_out
from .analyses.sensitivity import prior_sensitivity
from .base.errors import (
    DisconnectedNetworkError,
    ExactEngineError,
    IdentificationWarning,
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
from .data.transforms import splittable_comparisons
from .engines.gls import gls_estimate
from .engines.nuts import clear_cache, warmup
from .fitting.entry import fit_network
from .fitting.network_fit import NetworkFit
from .fitting.survival import fit_survival
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
from .models.spec import ModelSpec
from .plots import (
    plot_class_ranks,
    plot_confidence,
    plot_contribution,
    plot_dev_dev,
    plot_forest,
    plot_funnel,
    plot_hazard_ratios,
    plot_influence,
    plot_league,
    plot_leverage,
    plot_netheat,
    plot_network,
    plot_nodesplit,
    plot_prob_difference,
    plot_rank_diagnostics,
    plot_ranks,
    plot_regression,
    plot_sucra,
    plot_survival,
    plot_thresholds,
    plot_trace,
)
from .report.survival_report import survival_report_html, write_survival_report
from .results.cinema_result import Confidence
from .results.contribution import ContributionMatrix, contribution_matrix
from .results.evidence_flow import EvidenceSummary, evidence_summary
from .results.funnel import Funnel, funnel
from .results.goodness_of_fit import compare_models, dev_dev
from .results.inconsistency_result import DesignByTreatment
from .results.leverage import Leverage
from .results.leverage import leverage_table as leverage
from .results.netheat import NetHeat, netheat
from .results.q_decomposition import QDecomposition, decompose_q
from .results.survival import hazard_ratios, kaplan_meier, rmst_rankings, survival_summary
from .results.survival_curves import ExternalBaseline
from .results.survival_fit import SurvivalFit
from .results.threshold import Thresholds, recon_vcov, threshold_table
from .results.threshold_fit import threshold_analysis

__version__ = "0.1.0"

#: Public names whose modules import heavy libraries, loaded on first access (PEP 562):
#: ``build_model`` needs PyMC and PyTensor (~1.5 s), which an exact-engine session never uses.
#: ``run_sbc`` needs ``scipy.stats`` (its summary tests), which a plain fit never uses.
_LAZY = {"build_model": "nma_bayes.models.pymc_graph", "run_sbc": "nma_bayes.analyses.calibration"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'nma_bayes' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])


__all__ = [
    "fit_network",
    "fit_survival",
    "hazard_ratios",
    "survival_summary",
    "kaplan_meier",
    "rmst_rankings",
    "SurvivalFit",
    "ExternalBaseline",
    "write_survival_report",
    "survival_report_html",
    "fit_many",
    "BatchError",
    "run_sbc",
    "clear_cache",
    "warmup",
    "read_csv_table",
    "Network",
    "MEASURES",
    "plot_network",
    "NetworkFit",
    "ModelSpec",
    "build_model",
    "gls_estimate",
    "nodesplit",
    "cinema",
    "Confidence",
    "design_by_treatment",
    "DesignByTreatment",
    "splittable_comparisons",
    "compare_models",
    "dev_dev",
    "leverage",
    "Leverage",
    "plot_nodesplit",
    "plot_forest",
    "plot_league",
    "plot_ranks",
    "plot_sucra",
    "plot_survival",
    "plot_hazard_ratios",
    "plot_class_ranks",
    "plot_trace",
    "plot_rank_diagnostics",
    "plot_dev_dev",
    "plot_leverage",
    "plot_thresholds",
    "plot_regression",
    "plot_prob_difference",
    "plot_influence",
    "leave_one_out",
    "LeaveOneOut",
    "decompose_q",
    "threshold_table",
    "threshold_analysis",
    "recon_vcov",
    "Thresholds",
    "QDecomposition",
    "evidence_summary",
    "EvidenceSummary",
    "contribution_matrix",
    "ContributionMatrix",
    "netheat",
    "NetHeat",
    "funnel",
    "Funnel",
    "plot_netheat",
    "plot_funnel",
    "plot_contribution",
    "plot_confidence",
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
    "IdentificationWarning",
]
