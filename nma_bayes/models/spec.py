"""Model specification: what is fitted, separate from the data and from the PyMC graph.

A :class:`ModelSpec` says which model (random or fixed effects) and which priors. It is
validated on construction and describes itself in words for summaries and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..base.errors import ModelSpecError, format_items
from .priors import (
    CLASS_SD_FAMILIES,
    DEFAULT_PRIOR_BASELINE,
    DEFAULT_PRIOR_BETA,
    DEFAULT_PRIOR_BETA_SD,
    DEFAULT_PRIOR_CLASS_MEAN,
    DEFAULT_PRIOR_CLASS_SD,
    DEFAULT_PRIOR_CUTPOINT,
    DEFAULT_PRIOR_D,
    DEFAULT_PRIOR_TAU,
    TAU_FAMILIES,
    Normal,
    Prior,
)

__all__ = ["ModelSpec", "EFFECTS", "CLASS_MODELS"]

EFFECTS = ("random", "fixed")
CLASS_MODELS = (None, "exchangeable", "common")


@dataclass(frozen=True)
class ModelSpec:
    """Specification of a contrast-based NMA model (Dias et al., NICE DSU TSD2).

    Parameters
    ----------
    effects : {"random", "fixed"}
        ``"random"``: study-specific effects ``delta_i ~ N(d_t - d_b, tau^2)`` with covariance
        ``tau^2 / 2`` between contrasts of the same multi-arm study, integrated out analytically.
        ``"fixed"``: one common effect per comparison (``tau = 0``).
    prior_d : Normal
        Prior of each relative effect ``d_t`` (vs the reference). Default ``normal(0, 10^2)``.
    prior_tau : HalfNormal, Uniform or LogNormal
        Prior of the between-study SD ``tau`` (random effects only).
        Default ``half-normal(0, 1^2)``.
    class_model : {None, "exchangeable", "common"}
        Treatment class model (Dias et al. 2011, TSD2; multinma): ``"exchangeable"``, effects of
        the treatments of a class are ``N(class mean, class SD^2)``; ``"common"``, all treatments
        of a class share one effect; ``None``, no class model.
    prior_class_mean : Normal
        Prior of the class means (exchangeable model). Default ``normal(0, 10^2)``. The common
        class model uses ``prior_d`` for its class effects.
    prior_class_sd : HalfNormal, Uniform, LogNormal or TruncatedNormal
        Prior of the within-class SDs (exchangeable model). Default ``half-normal(0, 0.5^2)``.
    class_sd : tuple of (str, tuple of str)
        Groups of classes that share one within-class SD, e.g.
        ``(("SSRIs and NSSA", ("SSRI/SNRI", "NSSA")),)``. A class with a single treatment has a
        common effect (its treatment's effect is the class mean) unless it shares an SD here.
    prior_baseline : Normal
        Prior of each study baseline ``mu_i`` (the base arm's linear predictor) of arm-level
        outcome models: independent, default ``normal(0, 100^2)`` (TSD2). Unused otherwise.
    interaction : {None, "shared", "exchangeable", "independent", "class"}
        Treatment-by-covariate interaction of a meta-regression (Dias et al. 2011, TSD3; see
        :mod:`nma_bayes.models.regression`); ``None`` means ``"shared"`` when the network has
        covariates. Refused without covariates.
    prior_beta : Normal
        Prior of each interaction coefficient (shared, independent or class), or of their
        common mean (exchangeable). Default ``normal(0, 10^2)``.
    prior_beta_sd : HalfNormal, Uniform, LogNormal or TruncatedNormal
        Prior of the SD of exchangeable interactions. Default ``half-normal(0, 1^2)``.
    center : None, bool or dict
        Centring of numeric covariates: ``None``/``True`` the mean over studies, ``False`` none,
        ``{covariate: value}`` chosen values (others at their mean). Stored as sorted pairs.
    prior_cutpoint : Uniform, HalfNormal, LogNormal or TruncatedNormal
        Prior of each increment ``c_{j+1} - c_j`` of the cutpoints of an ordered categorical
        model (``c_1 = 0``). Default ``uniform(0, 10)`` (multinma puts a flat positive prior on
        them; the data identify every reported cutpoint). Unused otherwise.
    """

    effects: str = "random"
    prior_d: Prior = field(default=DEFAULT_PRIOR_D)
    prior_tau: Prior = field(default=DEFAULT_PRIOR_TAU)
    class_model: str | None = None
    prior_class_mean: Prior = field(default=DEFAULT_PRIOR_CLASS_MEAN)
    prior_class_sd: Prior = field(default=DEFAULT_PRIOR_CLASS_SD)
    class_sd: tuple = ()
    prior_baseline: Prior = field(default=DEFAULT_PRIOR_BASELINE)
    interaction: str | None = None
    prior_beta: Prior = field(default=DEFAULT_PRIOR_BETA)
    prior_beta_sd: Prior = field(default=DEFAULT_PRIOR_BETA_SD)
    center: object = None
    prior_cutpoint: Prior = field(default=DEFAULT_PRIOR_CUTPOINT)

    def __post_init__(self):
        self._check_regression()
        if not isinstance(self.prior_cutpoint, CLASS_SD_FAMILIES):
            names = ", ".join(c.__name__ for c in CLASS_SD_FAMILIES)
            raise ModelSpecError(
                f"prior_cutpoint must be one of {names} (a prior on positive increments), got "
                f"{type(self.prior_cutpoint).__name__}.",
                rule="bad-prior",
            )
        if self.effects not in EFFECTS:
            raise ModelSpecError(
                f"effects={self.effects!r} is not a model: use 'random' or 'fixed'.",
                rule="bad-option",
            )
        if not isinstance(self.prior_d, Normal):
            raise ModelSpecError(
                f"prior_d must be nma_bayes.Normal, got {type(self.prior_d).__name__}.",
                rule="bad-prior",
            )
        if not isinstance(self.prior_baseline, Normal):
            raise ModelSpecError(
                "prior_baseline must be nma_bayes.Normal, got "
                f"{type(self.prior_baseline).__name__}.",
                rule="bad-prior",
            )
        if self.class_model not in CLASS_MODELS:
            raise ModelSpecError(
                f"class_model={self.class_model!r}: use 'exchangeable', 'common' or None.",
                rule="bad-option",
            )
        if not isinstance(self.prior_class_mean, Normal):
            raise ModelSpecError(
                "prior_class_mean must be nma_bayes.models.priors.Normal.", rule="bad-prior"
            )
        if not isinstance(self.prior_class_sd, CLASS_SD_FAMILIES):
            names = ", ".join(c.__name__ for c in CLASS_SD_FAMILIES)
            raise ModelSpecError(f"prior_class_sd must be one of {names}.", rule="bad-prior")
        if self.class_sd and self.class_model != "exchangeable":
            raise ModelSpecError(
                "class_sd (shared within-class SDs) applies to class_model='exchangeable' only.",
                rule="bad-option",
            )
        if not isinstance(self.prior_tau, TAU_FAMILIES):
            names = ", ".join(c.__name__ for c in TAU_FAMILIES)
            raise ModelSpecError(
                f"prior_tau must be one of {names}, got {type(self.prior_tau).__name__}.",
                rule="bad-prior",
            )

    def _check_regression(self) -> None:
        from .regression import INTERACTIONS

        if self.interaction is not None and self.interaction not in INTERACTIONS:
            raise ModelSpecError(
                f"interaction={self.interaction!r}: use one of {INTERACTIONS}.", rule="bad-option"
            )
        if not isinstance(self.prior_beta, Normal):
            raise ModelSpecError("prior_beta must be nma_bayes.Normal.", rule="bad-prior")
        if not isinstance(self.prior_beta_sd, CLASS_SD_FAMILIES):
            names = ", ".join(c.__name__ for c in CLASS_SD_FAMILIES)
            raise ModelSpecError(f"prior_beta_sd must be one of {names}.", rule="bad-prior")
        if isinstance(self.center, dict):  # hashable, order-independent
            bad = [k for k in self.center if not isinstance(k, str)]
            if bad:
                raise ModelSpecError(
                    f"center= must map covariate names (strings) to values, but its keys "
                    f"{format_items(bad)} are not strings. Name each numeric covariate as in "
                    "covariates=, e.g. center={'age': 50}.",
                    rule="bad-option",
                )
            object.__setattr__(self, "center", tuple(sorted(self.center.items())))

    def _describe_regression(self, network, reg=None) -> dict[str, str]:
        """Describe the meta-regression part of the model (for :meth:`describe`)."""
        from .regression import RegressionDesign

        if reg is None:
            reg = RegressionDesign.from_network(network, self)
        centres = ", ".join(f"{k} at {v:.6g}" for k, v in reg.center.items())
        levels = ", ".join(f"{k} vs {v[0]}" for k, v in reg.levels.items())
        words = {
            "shared": "shared (one beta for every treatment vs the reference)",
            "independent": "independent (one beta per treatment)",
            "exchangeable": "exchangeable (beta_k ~ N(B, sigma_beta^2))",
            "class": "one beta per treatment class",
        }
        out = {
            "meta-regression": (
                f"{', '.join(reg.covariates)} (Dias et al. 2011, TSD3); interaction "
                f"{words[reg.interaction]}"
            ),
            "covariate centring": "; ".join(p for p in (centres, levels) if p) or "none",
            "prior beta": self.prior_beta.describe()
            + (" (their mean)" if reg.interaction == "exchangeable" else ""),
        }
        if reg.interaction == "exchangeable":
            out["prior beta SD"] = self.prior_beta_sd.describe()
        return out

    @property
    def random(self) -> bool:
        """Whether the model has random effects."""
        return self.effects == "random"

    def structure_key(self) -> tuple:
        """Return what determines the PyMC graph's structure (not its numbers).

        Two specs with the same key share a compiled model; only data change between them.
        """
        key = (self.effects, self.prior_d.family, self.prior_tau.family if self.random else None,
               self.prior_cutpoint.family)  # fmt: skip
        if self.class_model is None:
            return key
        return (*key, self.class_model, self.prior_class_sd.family, self.class_sd)

    def describe(self, network=None, *, regression=None) -> dict[str, str]:
        """Return the model and its priors in words, for summaries and reports.

        With the ``network`` the likelihood is named as fitted (arm-level outcomes or contrasts);
        ``regression`` is its meta-regression design if already built (built here otherwise).
        """
        out = {
            "model": (
                "random effects (Dias et al. 2011, TSD2), study effects integrated out"
                if self.random
                else "fixed (common) effect (Dias et al. 2011, TSD2)"
            ),
            "likelihood": "normal on study contrasts, exact multi-arm covariance",
            "prior d": self.prior_d.describe(),
        }
        if network is not None and np.asarray(network.outcome).any():
            arms = f"{network.likelihood} ({network.link} link) on arm-level outcomes"
            mixed = np.asarray(network.outcome).all()
            out["likelihood"] = arms if mixed else arms + "; normal on the contrast studies"
            kind = "random effects" if self.random else "fixed (common) effect"
            extra = " and non-centred study effects" if self.random else ""
            out["model"] = f"{kind} (Dias et al. 2011, TSD2), arm-based with study baselines{extra}"
            out["prior baselines"] = self.prior_baseline.describe() + ", independent per study"
            if network.link == "log":
                out["prior baselines"] += ", truncated to mu <= 0 (gemtc)"
            if network.likelihood == "ordered":
                out["prior cutpoints"] = (self.prior_cutpoint.describe() + " on each increment; "
                                          "the first cutpoint is 0")  # fmt: skip
        if self.random:
            out["prior tau"] = self.prior_tau.describe()
        if network is not None and getattr(network, "covariates", None) is not None:
            out.update(self._describe_regression(network, regression))
        if self.class_model == "exchangeable":
            out["class model"] = "exchangeable: d ~ N(class mean, class SD^2)"
            out["prior class mean"] = self.prior_class_mean.describe()
            out["prior class SD"] = self.prior_class_sd.describe()
            if self.class_sd:
                out["shared class SDs"] = "; ".join(
                    f"{name}: {', '.join(cls)}" for name, cls in self.class_sd
                )
        elif self.class_model == "common":
            out["class model"] = "common: one effect per class (prior d applies to it)"
        return out
