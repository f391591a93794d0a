"""Bundled data sets: loaders, errors, and identity with the published copies."""

from pathlib import Path

import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base.errors import NMAInputError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# Arm-level count data sets: (rows, studies, treatments) of each arm file, the columns after the
# common four (``study, treatment, events, n``), and the reference table's sources and models.
ARM_COUNT_DATASETS = {
    "smoking": {
        "arms": (50, 24, 4, ["study_id", "arm", "treatment_code"]),
        "sources": {
            "TSD4",
            "TSD4_UME_multinma_modified",
            "gemtc_regression_LuAdes2006_variant_data",
        },
        "models": {"RE", "RE_UME"},
    },
    "thrombolytics": {
        "arms": (102, 50, 9, ["study_id", "arm", "treatment_code"]),
        "sources": {"TSD4"},
        "models": {"FE", "FE_UME"},
    },
    "diabetes": {
        "arms": (48, 22, 6, ["time", "study_id", "arm", "treatment_code"]),
        "sources": {"TSD2"},
        "models": {"FE", "RE"},
    },
    "dietary_fat": {
        "arms": (20, 10, 2, ["exposure"]),
        "arms_tsd2_three_arm": (21, 10, 2, ["exposure"]),
        "sources": {
            "tsd2_published",
            "jags_tsd2_RE",
            "jags_tsd2_FE",
            "jags_tsd2_RE_three_arm",
            "jags_tsd2_FE_three_arm",
        },
        "models": {"FE", "RE"},
    },
    "certolizumab": {
        "arms": (24, 12, 7, []),
        "sources": {
            "tsd3_published",
            "jags_tsd2_RE",
            "jags_tsd2_FE",
            "jags_tsd3_shared_interaction_RE",
            "jags_tsd3_shared_interaction_FE",
        },
        "models": {
            "FE",
            "RE",
            "FE_shared_interaction",
            "RE_shared_interaction",
            "FE_baseline_risk",
            "RE_baseline_risk",
        },
    },
    "statins": {
        "arms": (38, 19, 2, []),
        "sources": {
            "tsd3_published",
            "jags_tsd2_RE",
            "jags_tsd2_FE",
            "jags_tsd3_shared_interaction_RE",
            "jags_tsd3_shared_interaction_FE",
        },
        "models": {"FE", "RE", "FE_shared_interaction", "RE_shared_interaction"},
    },
}
ARM_FILES = [(n, k) for n, spec in ARM_COUNT_DATASETS.items() for k in spec if k.startswith("arms")]

# Bundled files whose columns differ from the published copy (documented in each README): the
# published columns renamed as given, then put in the bundled order. Values and rows are unchanged.
COLUMN_CHANGES = {
    ("smoking", "arms"): {"r": "events"},
    ("thrombolytics", "arms"): {"r": "events"},
    ("diabetes", "arms"): {"r": "events"},
    ("dietary_fat", "arms"): {},  # reordered only: exposure after n
    ("dietary_fat", "arms_tsd2_three_arm"): {},
}


def test_list_and_load():
    table = nb.datasets.list_datasets()
    assert list(table["name"]) == [
        "therapy_formats",
        "parkinsons",
        "social_anxiety",
        "senn2013",
        "stowe2010",
        "psps_t2_illustrative",
        *ARM_COUNT_DATASETS,
        "psoriasis",
        "grouped_survival",
        "ndmm_survival",
    ]
    df = nb.datasets.load_dataset("social_anxiety")
    assert len(df) == 147 and {"study", "treat1", "treat2", "TE", "seTE", "se_base"} <= set(df)
    assert "Mayo-Wilson" in nb.datasets.DATASETS["social_anxiety"].citation
    assert "TSD2" in nb.datasets.info("parkinsons")
    assert set(nb.datasets.reference_results("senn2013")["source"]) == {
        "computed_netmeta_algorithm"
    }


def test_unknown_dataset_or_file():
    with pytest.raises(NMAInputError, match="Bundled data sets: therapy_formats"):
        nb.datasets.load_dataset("smokingg")
    with pytest.raises(NMAInputError, match="available: contrasts"):
        nb.datasets.load_dataset("senn2013", "arms")


#: Data sets bundled under another name than their published folder.
SHARED_FOLDER = {"psoriasis": "psoriasis_ordered"}

#: Bundled references made in this repository, not copies of published files (their README says
#: how: ``benchmarks/jags_dbt_reference.py``).
MADE_HERE = {("smoking", "jags_design_by_treatment")}


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (the published originals) absent")
# psps_t2_illustrative is simulated (see its README): there is no published original to compare.
@pytest.mark.parametrize("name", [n for n in nb.datasets.DATASETS if n != "psps_t2_illustrative"])
def test_bundled_copies_equal_the_published_files(name):
    for kind in (*nb.datasets.DATASETS[name].files, "reference_results"):
        if (name, kind) in MADE_HERE:
            continue
        path = SHARED / SHARED_FOLDER.get(name, name) / f"{kind}.csv"
        if kind.startswith("smd_"):  # bundled under a prefixed name
            path = SHARED / name / "smd_from_arms" / f"{kind.removeprefix('smd_')}_smd.csv"
        original = pd.read_csv(path)
        bundled = (
            nb.datasets.reference_results(name)
            if kind == "reference_results"
            else nb.datasets.load_dataset(name, kind)
        )
        if (name, kind) in COLUMN_CHANGES:
            original = original.rename(columns=COLUMN_CHANGES[name, kind])
            assert sorted(original) == sorted(bundled)  # nothing dropped or added
            original = original[list(bundled)]
        pd.testing.assert_frame_equal(bundled, original)


@pytest.mark.parametrize(("name", "kind"), ARM_FILES)
def test_arm_count_files(name, kind):
    n_rows, n_studies, n_treatments, extra = ARM_COUNT_DATASETS[name][kind]
    df = nb.datasets.load_dataset(name, kind)
    assert list(df) == ["study", "treatment", "events", "n", *extra]
    assert (len(df), df["study"].nunique(), df["treatment"].nunique()) == (
        n_rows,
        n_studies,
        n_treatments,
    )
    assert nb.datasets.DATASETS[name].reference in set(df["treatment"])
    assert pd.api.types.is_integer_dtype(df["events"]) and pd.api.types.is_integer_dtype(df["n"])
    assert ((df["events"] >= 0) & (df["events"] <= df["n"]) & (df["n"] > 0)).all()
    # each study's rows are contiguous (the first is its base arm)
    starts = df["study"].ne(df["study"].shift())
    assert starts.sum() == n_studies
    if "arm" in df:  # arm 1 = the study's base arm, listed first, arms numbered in order
        assert (df["arm"] == df.groupby("study", sort=False).cumcount() + 1).all()
    else:  # two-arm, control-first: the base arm is the reference treatment
        assert (df.loc[starts, "treatment"] == nb.datasets.DATASETS[name].reference).all()
    if "exposure" in df:
        assert (df["exposure"] > 0).all()
    if "time" in df:  # follow-up in years, the same for every arm of a study
        assert (df["time"] > 0).all() and (df.groupby("study")["time"].nunique() == 1).all()


def test_dietary_fat_layouts_differ_only_in_the_split_study():
    pooled = nb.datasets.load_dataset("dietary_fat", "arms")
    split = nb.datasets.load_dataset("dietary_fat", "arms_tsd2_three_arm")
    key = "London Corn/Olive"
    pd.testing.assert_frame_equal(
        pooled[pooled["study"] != key].reset_index(drop=True),
        split[split["study"] != key].reset_index(drop=True),
    )
    diet = split[(split["study"] == key) & (split["treatment"] == "diet")]
    pooled_diet = pooled[(pooled["study"] == key) & (pooled["treatment"] == "diet")].iloc[0]
    assert len(diet) == 2
    assert diet["events"].sum() == pooled_diet["events"] and diet["n"].sum() == pooled_diet["n"]
    assert diet["exposure"].sum() == pytest.approx(pooled_diet["exposure"])


@pytest.mark.parametrize(
    ("name", "column"), [("certolizumab", "disease_duration"), ("statins", "secondary")]
)
def test_study_covariate_files(name, column):
    studies = nb.datasets.load_dataset(name, "studies")
    arms = nb.datasets.load_dataset(name, "arms")
    assert list(studies) == ["study", column]
    assert list(studies["study"]) == list(arms["study"].drop_duplicates())
    if name == "certolizumab":  # years; centred at the unweighted mean in the references
        assert studies[column].between(0.915, 13).all()
        assert studies[column].mean() == pytest.approx(8.209583, abs=1e-6)
    else:  # 0/1 subgroup indicator, 14 of 19 secondary prevention
        assert set(studies[column]) == {0, 1} and studies[column].sum() == 14


@pytest.mark.parametrize("name", list(ARM_COUNT_DATASETS))
def test_arm_count_reference_tables(name):
    spec = ARM_COUNT_DATASETS[name]
    ref = nb.datasets.reference_results(name)
    assert list(ref) == [
        "source",
        "model",
        "quantity",
        "treatment",
        "comparator",
        "mean",
        "sd",
        "median",
        "lower95",
        "upper95",
        "value",
    ]
    assert set(ref["source"]) == spec["sources"]
    assert set(ref["model"]) == spec["models"]
    # relative effects name treatments of the arm data
    treatments = set(nb.datasets.load_dataset(name, "arms")["treatment"])
    effects = ref[ref["quantity"].str.startswith(("relative_effect", "logOR_"))]
    assert len(effects) > 0
    assert set(effects["treatment"]) <= treatments and set(effects["comparator"]) <= treatments
    info = nb.datasets.info(name)
    assert "## Source" in info and "sign convention" in info
    assert "## Bundled copy" in info and "renamed" in info


def test_psoriasis_layouts_hold_the_same_counts():
    """The cumulative, exclusive and wide layouts agree arm by arm (the README's claims)."""
    cum = nb.datasets.load_dataset("psoriasis", "arms_long_cumulative")
    cats = nb.datasets.load_dataset("psoriasis", "arms_long_categories")
    wide = nb.datasets.load_dataset("psoriasis", "arms")
    assert (len(cum), len(cats), len(wide)) == (58, 94, 36)
    assert cum[["study", "arm"]].drop_duplicates().shape[0] == 36
    by_arm = cats.groupby(["study", "arm"])
    assert (by_arm["count"].sum() == by_arm["n"].first()).all()
    for (study, arm), rows in cum.groupby(["study", "arm"]):
        c = cats[(cats["study"] == study) & (cats["arm"] == arm)]
        for _, row in rows.iterrows():  # at least cutpoint x = categories from x upwards
            first = c.loc[c["lower_cutpoint"] == row["cutpoint"], "category_index"].iloc[0]
            above = c["lower_cutpoint"].notna() & (c["category_index"] >= first)
            assert c.loc[above, "count"].sum() == row["r"]
