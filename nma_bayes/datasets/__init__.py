"""Published NMA data sets bundled with nma_bayes, with their provenance.

Each data set is a folder under ``nma_bayes/datasets/data/`` holding tidy CSVs, a ``README.md``
(sources with commits and DOIs, sign conventions) and ``reference_results.csv`` (published or
independently computed posterior summaries used by the test suite). In every contrast file ``TE``
is the effect of ``treat1`` relative to ``treat2`` and ``treat2`` is the study's base arm. Arm-level
count files (``smoking``, ``thrombolytics``, ``diabetes``, ``dietary_fat``, ``certolizumab``,
``statins``) have the columns ``study, treatment, events, n`` (plus ``exposure`` in person-years for
``dietary_fat`` and follow-up ``time`` in years for ``diabetes``), the study's base arm first;
study-level covariates are in a ``studies`` file. ``psoriasis`` is ordered categorical (PASI
50/75/90): ``arms_long_cumulative`` has one row per arm and reported cutpoint with the number
reaching at least that cutpoint (``likelihood="ordered"``; see its README for the layouts).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from ..base.errors import NMAInputError

__all__ = ["DatasetInfo", "DATASETS", "list_datasets", "load_dataset", "reference_results", "info"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a bundled data set is and how to analyse it."""

    name: str
    title: str
    measure: str
    lower_is_better: bool
    reference: str
    files: tuple[str, ...]
    citation: str


#: netmeta 3.3-1 evidence-structure references bundled with the five data sets that have them
#: (Q decomposition, contribution matrices, network measures; see each README).
_NETMETA_EVIDENCE = tuple(
    f"netmeta_inconsistency_{part}"
    for part in (
        "decomp",
        "netcontrib",
        "netcontrib_study",
        "netmeasures",
        "netmeasures_Htilde",
        "netheat",
    )
)
#: netmeta's comparison-adjusted funnel and its tests: only the four networks with >= 10 studies.
_NETMETA_FUNNEL = ("netmeta_inconsistency_funnel", "netmeta_inconsistency_funneltest")

_TSD3 = (
    "Dias S, Sutton AJ, Welton NJ, Ades AE (2013). Evidence synthesis for decision making 3: "
    "heterogeneity - subgroups, meta-regression, bias, and bias-adjustment. Med Decis Making "
    "33(5):618-640. doi:10.1177/0272989X13485157 (NICE DSU Technical Support Document 3). "
)

DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            "therapy_formats",
            "CBT delivery formats for depression (teaching data after Cuijpers et al. 2019)",
            "SMD",
            True,
            "cau",
            (
                "contrasts",
                "contrasts_netmeta_allpairs",
                "treatments",
                *_NETMETA_EVIDENCE,
                *_NETMETA_FUNNEL,
            ),
            "Harrer M, Cuijpers P, Furukawa TA, Ebert DD (2021). Doing Meta-Analysis with R: A "
            "Hands-On Guide, ch. Network Meta-Analysis. CRC Press. doi:10.1201/9781003107347. "
            "Data: R package dmetar 0.1.0 (TherapyFormats, TherapyFormatsGeMTC).",
        ),
        DatasetInfo(
            "parkinsons",
            "Parkinson's disease, mean off-time reduction (NICE DSU TSD2 Example 5)",
            "MD",
            True,
            "Placebo",
            (
                "contrasts",
                "arms",
                "smd_escalc",
                "smd_netmeta_pairwise",
                "smd_netmeta_nma",
                *_NETMETA_EVIDENCE,
            ),
            "Dias S, Welton NJ, Sutton AJ, Ades AE (2011, updated 2016). NICE DSU Technical "
            "Support Document 2. Data from Franchini AJ et al. (2012) Res Synth Methods 3:142-160; "
            "as distributed in R package multinma (parkinsons).",
        ),
        DatasetInfo(
            "social_anxiety",
            "Social anxiety disorder: 41 treatments in 17 classes, 35 multi-arm trials",
            "SMD",
            True,
            "Waitlist",
            ("contrasts", "treatments"),
            "Mayo-Wilson E, Dias S, Mavranezouli I, et al. (2014). Psychological and "
            "pharmacological interventions for social anxiety disorder in adults: a systematic "
            "review and network meta-analysis. Lancet Psychiatry 1(5):368-376. "
            "doi:10.1016/S2215-0366(14)70329-3. Data: R package multinma (social_anxiety).",
        ),
        DatasetInfo(
            "senn2013",
            "Glucose-lowering agents added to sulfonylurea, HbA1c",
            "MD",
            True,
            "plac",
            ("contrasts", "contrasts_netmeta_allpairs", *_NETMETA_EVIDENCE, *_NETMETA_FUNNEL),
            "Senn S, Gavini F, Magrez D, Scheen A (2013). Issues in performing a network "
            "meta-analysis. Stat Methods Med Res 22(2):169-189. doi:10.1177/0962280211432220. "
            "Data: R package netmeta (Senn2013).",
        ),
        DatasetInfo(
            "stowe2010",
            "Adjuvant treatments to levodopa in Parkinson's disease, off-time reduction",
            "MD",
            True,
            "Placebo",
            (
                "arms",
                "contrasts",
                "smd_escalc",
                "smd_netmeta_pairwise",
                "smd_netmeta_nma",
                *_NETMETA_EVIDENCE,
                *_NETMETA_FUNNEL,
            ),
            "Stowe R, Ives N, Clarke CE, et al. (2010). Evaluation of the efficacy and safety of "
            "adjuvant treatment to levodopa therapy in Parkinson's disease patients with motor "
            "complications. Cochrane Database Syst Rev. doi:10.1002/14651858.CD007166.pub2. "
            "Analysed in Balduzzi S et al. (2023) J Stat Softw 106(2). Data: R package netmeta.",
        ),
        DatasetInfo(
            "psps_t2_illustrative",
            "ILLUSTRATIVE (simulated) PSPS-T2 network: 13 RCTs, 10 treatments in 5 classes, pain",
            "SMD",
            True,
            "Conventional medical management",
            ("contrasts", "treatments"),
            "SIMULATED data, not the review's: shaped like, and with class contrasts set to the "
            "headline results of, Goudman L, Russo M, Pilitsis JG, et al. (2025). Treatment "
            "modalities for patients with Persistent Spinal Pain Syndrome Type II: a systematic "
            "review and network meta-analysis. Commun Med 5:63. doi:10.1038/s43856-025-00778-x.",
        ),
        DatasetInfo(
            "smoking",
            "Smoking cessation: 4 interventions, 24 RCTs, quit counts (NICE DSU TSD4)",
            "logOR",
            False,
            "No intervention",
            ("arms", *_NETMETA_EVIDENCE, *_NETMETA_FUNNEL, "jags_tsd4_ume", "jags_nodesplit",
             "jags_design_by_treatment"),
            "Hasselblad V (1998). Meta-analysis of multitreatment studies. Med Decis Making "
            "18(1):37-43. doi:10.1177/0272989X9801800110. Reference analysis: Dias S, Welton NJ, "
            "Sutton AJ, et al. (2011) NICE DSU Technical Support Document 4. Data: R package "
            "multinma (smoking).",
        ),
        DatasetInfo(
            "thrombolytics",
            "Thrombolytic treatments for acute myocardial infarction, 30-35 day mortality (TSD4)",
            "logOR",
            True,
            "SK",
            ("arms",),
            "Boland A et al. (2003). Early thrombolysis for the treatment of acute myocardial "
            "infarction: a systematic review and economic evaluation. Health Technol Assess 7(15). "
            "doi:10.3310/hta7150; Lu G, Ades AE (2006) JASA 101:447-459. Reference analysis: NICE "
            "DSU Technical Support Document 4. Data: R package multinma (thrombolytics).",
        ),
        DatasetInfo(
            "diabetes",
            "Incident diabetes with antihypertensives, cloglog, follow-up time (TSD2 Example 3)",
            "logHR",
            True,
            "Diuretic",
            ("arms",),
            "Elliott WJ, Meyer PM (2007). Incident diabetes in clinical trials of antihypertensive "
            "drugs: a network meta-analysis. Lancet 369(9557):201-207. "
            "doi:10.1016/S0140-6736(07)60108-1. Reference analysis: NICE DSU Technical Support "
            "Document 2, Example 3. Data: R package multinma (diabetes).",
        ),
        DatasetInfo(
            "dietary_fat",
            "Reduced-fat diets and mortality, log rate ratio over person-years (TSD2 Example 2)",
            "logRateRatio",
            True,
            "control",
            ("arms", "arms_tsd2_three_arm"),
            "Hooper L, Summerbell CD, Higgins JPT, et al. (2000). Reduced or modified dietary fat "
            "for preventing cardiovascular disease. Cochrane Database Syst Rev (2):CD002137. "
            "doi:10.1002/14651858.CD002137. Reference analysis: NICE DSU Technical Support "
            "Document 2, Example 2. Data: R package gemtc (dietfat).",
        ),
        DatasetInfo(
            "certolizumab",
            "Biologics for rheumatoid arthritis, ACR50, disease-duration covariate (TSD3)",
            "logOR",
            False,
            "Placebo",
            ("arms", "studies"),
            _TSD3 + "Data: R package gemtc (certolizumab).",
        ),
        DatasetInfo(
            "statins",
            "Statins vs control, all-cause mortality, primary/secondary prevention subgroup (TSD3)",
            "logOR",
            True,
            "control",
            ("arms", "studies"),
            _TSD3 + "Data: R package gemtc (hfPrevention); also multinma (statins).",
        ),
        DatasetInfo(
            "psoriasis",
            "Plaque psoriasis, PASI 50/75/90, ordered categorical, probit (TSD2 psoriasis example)",
            "probit",
            False,
            "Supportive care",
            ("arms_long_cumulative", "arms_long_categories", "arms", "tsd2_winbugs_wide"),
            "Woolacott N, Hawkins N, Mason A, et al. (2006). Etanercept and efalizumab for the "
            "treatment of psoriasis: a systematic review. Health Technol Assess 10(46). "
            "doi:10.3310/hta10460. Analysed in Dias S, Welton NJ, Sutton AJ, Ades AE (2011, "
            "updated 2016), NICE DSU Technical Support Document 2. Data: R package multinma "
            "(hta_psoriasis).",
        ),
        DatasetInfo(
            "grouped_survival",
            "Grouped (interval) time-to-event data from digitised KM curves (gemtcPlus example)",
            "logHR",
            True,
            "B",
            ("grouped_tte",),
            "Roche gemtcPlus 1.0.0 (grouped_TTE): anonymised example data, source not stated. "
            "Methods: Jansen JP (2011). Network meta-analysis of survival data with fractional "
            "polynomials. BMC Med Res Methodol 11:61. doi:10.1186/1471-2288-11-61.",
        ),
        DatasetInfo(
            "ndmm_survival",
            "Newly diagnosed multiple myeloma, progression-free survival (simulated IPD and "
            "reconstructed event times; multinma)",
            "logHR",
            True,
            "Pbo",
            ("ndmm_ipd", "ndmm_agd", "ndmm_agd_covs"),
            "Simulated after Leahy J, Walsh C (2019). Assessing the impact of a matching-adjusted "
            "indirect comparison in a Bayesian network meta-analysis. Res Synth Methods "
            "10(4):546-568. doi:10.1002/jrsm.1372. Data: R package multinma (ndmm_ipd, ndmm_agd).",
        ),
    )
}


def _info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise NMAInputError(f"Unknown data set {name!r}. Bundled data sets: {', '.join(DATASETS)}.")
    return DATASETS[name]


def _read(name: str, file: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", name, f"{file}.csv").open("rb") as fh:
        return pd.read_csv(fh)


def list_datasets() -> pd.DataFrame:
    """Table of the bundled data sets: name, title, effect measure, direction, reference, files."""
    return pd.DataFrame(
        [
            {
                "name": d.name,
                "title": d.title,
                "measure": d.measure,
                "lower_is_better": d.lower_is_better,
                "reference": d.reference,
                "files": ", ".join(d.files),
            }
            for d in DATASETS.values()
        ]
    )


def load_dataset(name: str, kind: str = "contrasts") -> pd.DataFrame:
    """Load a bundled data set.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`' names, e.g. ``"therapy_formats"``.
    kind : str
        Which file: ``"contrasts"`` (default; base-arm contrasts with ``se_base``) or another file
        listed in ``DATASETS[name].files`` (e.g. ``"contrasts_netmeta_allpairs"``).

    Returns
    -------
    DataFrame
    """
    info_ = _info(name)
    if kind not in info_.files:
        raise NMAInputError(
            f"Data set {name!r} has no file {kind!r}; available: {', '.join(info_.files)}."
        )
    return _read(name, kind)


def reference_results(name: str) -> pd.DataFrame:
    """Return the published (or independently computed) results of a data set, by ``source``."""
    _info(name)
    return _read(name, "reference_results")


def info(name: str) -> str:
    """Return the data set's README: sources, sign conventions, reference results."""
    _info(name)
    return resources.files(__package__).joinpath("data", name, "README.md").read_text("utf-8")
