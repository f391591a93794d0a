"""Bundled data sets: loaders, errors, and identity with the published copies."""

from pathlib import Path

import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base.errors import NMAInputError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_list_and_load():
    table = nb.datasets.list_datasets()
    assert list(table["name"]) == [
        "therapy_formats",
        "parkinsons",
        "social_anxiety",
        "senn2013",
        "stowe2010",
        "psps_t2_illustrative",
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


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (the published originals) absent")
# psps_t2_illustrative is simulated (see its README): there is no published original to compare.
@pytest.mark.parametrize("name", [n for n in nb.datasets.DATASETS if n != "psps_t2_illustrative"])
def test_bundled_copies_equal_the_published_files(name):
    for kind in (*nb.datasets.DATASETS[name].files, "reference_results"):
        path = SHARED / name / f"{kind}.csv"
        if kind.startswith("smd_"):  # bundled under a prefixed name
            path = SHARED / name / "smd_from_arms" / f"{kind.removeprefix('smd_')}_smd.csv"
        original = pd.read_csv(path)
        bundled = (
            nb.datasets.reference_results(name)
            if kind == "reference_results"
            else nb.datasets.load_dataset(name, kind)
        )
        pd.testing.assert_frame_equal(bundled, original)
