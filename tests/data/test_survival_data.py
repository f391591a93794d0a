"""Time-to-event data: grouped intervals validated, event times grouped exactly (issue 27)."""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base import errors as E
from nma_bayes.data.survival import GROUPED_COLUMNS, group_event_times, survival_intervals


def _grouped():
    return nb.datasets.load_dataset("grouped_survival", "grouped_tte")


def _event_times():
    """multinma's ndmm data stacked: IPD (covariates dropped) and reconstructed event times."""
    ipd = nb.datasets.load_dataset("ndmm_survival", "ndmm_ipd")
    agd = nb.datasets.load_dataset("ndmm_survival", "ndmm_agd")
    both = pd.concat([ipd[["study", "trt", "eventtime", "status"]], agd], ignore_index=True)
    return both.rename(columns={"trt": "treatment", "eventtime": "time"})


def test_gemtcplus_grouped_data_validate_unchanged():
    table = survival_intervals(_grouped())
    assert list(table) == list(GROUPED_COLUMNS) and len(table) == 675
    assert table.groupby(["study", "treatment"]).ngroups == 14
    pd.testing.assert_frame_equal(
        table.astype({c: float for c in GROUPED_COLUMNS[2:]}),
        _grouped().astype({c: float for c in GROUPED_COLUMNS[2:]}),
    )


def test_grouping_event_times_by_hand():
    """Intervals (0, 2], (2, 5], (5, 7]: events, censorings, at risk and person-time."""
    ipd = pd.DataFrame(
        {
            "study": ["s"] * 6,
            "treatment": ["A"] * 6,
            "time": [1.0, 2.0, 3.0, 4.5, 6.0, 7.0],
            "status": [1, 0, 1, 1, 0, 1],
        }
    )
    out = group_event_times(ipd, cutpoints=[2, 5, 10])
    assert out[["t.start", "t.end"]].values.tolist() == [[0, 2], [2, 5], [5, 7]]
    assert out["n.event"].tolist() == [1, 2, 1]
    assert out["n.censored"].tolist() == [1, 0, 1]
    assert out["n.risk"].tolist() == [6, 4, 2]
    # person-time: (0, 2]: 1 + 2 + 4 x 2; (2, 5]: 1 + 2.5 + 3 + 3; (5, 7]: 1 + 2
    np.testing.assert_allclose(out["exposure"], [11.0, 9.5, 3.0])


def test_grouped_ndmm_event_times_keep_every_patient_and_all_follow_up():
    data = _event_times()
    out = group_event_times(data, cutpoints=np.arange(6, 120, 6.0))
    by_arm = out.groupby(["study", "treatment"], sort=False)
    first = by_arm.head(1).set_index(["study", "treatment"])["n.risk"]
    counts = data.groupby(["study", "treatment"]).size()
    assert (first == counts.loc[first.index]).all()  # 10 arms, 4,144 patients
    assert first.sum() == 4144
    events = data.groupby(["study", "treatment"])["status"].sum()
    assert (by_arm["n.event"].sum() == events.loc[first.index]).all()
    follow_up = data.groupby(["study", "treatment"])["time"].sum()
    np.testing.assert_allclose(by_arm["exposure"].sum(), follow_up.loc[first.index])
    validated = survival_intervals(out.drop(columns="exposure"))  # the grouped rules hold
    assert len(validated) == len(out)


def test_a_study_in_both_forms_is_refused():
    data = _event_times()
    grouped = group_event_times(data[data["study"] == "Attal2012"], cutpoints=[12, 24])
    with pytest.raises(E.InvalidValueError, match="'Attal2012'.*both") as info:
        survival_intervals(grouped.drop(columns="exposure"), event_times=data, cutpoints=[12])
    assert info.value.rule == "study-in-two-forms"


@pytest.mark.parametrize("cutpoints", [[], [3, 2], [0, 4], ["3"], None])
def test_bad_cutpoints_are_refused(cutpoints):
    data = _event_times()
    if cutpoints == []:  # no cut point: one interval per arm, which is allowed
        assert len(group_event_times(data, cutpoints=cutpoints)) == 10
        return
    with pytest.raises(E.ModelSpecError, match="cutpoints=") as info:
        if cutpoints is None:
            survival_intervals(event_times=data)
        group_event_times(data, cutpoints=cutpoints)
    assert info.value.rule == "bad-option"


def test_column_names_can_be_mapped():
    renamed = _grouped().rename(columns={"t.start": "start", "n.risk": "at_risk"})
    table = survival_intervals(renamed, columns={"t.start": "start", "n.risk": "at_risk"})
    assert list(table) == list(GROUPED_COLUMNS)
