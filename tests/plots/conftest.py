"""Shared fixtures of the plot tests: two exact fits and a pyplot left clean around each test."""

import pytest

import nma_bayes as nb


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fit():
    data = nb.datasets.load_dataset("therapy_formats")
    return nb.fit_network(data, reference="cau", engine="exact", random_seed=1)


@pytest.fixture(scope="module")
def class_fit():
    data = nb.datasets.load_dataset("social_anxiety")
    return nb.fit_network(
        data, reference="Waitlist", classes="class", engine="exact", random_seed=1
    )
