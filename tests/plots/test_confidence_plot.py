"""The CINeMA plot (``nb.plot_confidence``): its artists against the Confidence it draws."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import nma_bayes as nb
from nma_bayes.plots.confidence import MAX_ANNOTATED
from nma_bayes.results.cinema_result import RATING_COLOURS, Confidence


@pytest.fixture(scope="module")
def conf():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", random_seed=1)  # fmt: skip
    studies = fit.network.studies
    rob = {s: (i % 3) + 1 for i, s in enumerate(studies)}
    result = nb.cinema(fit, rob=rob, indirectness=dict.fromkeys(studies, 1), mcid=0.5)
    assert result.to_frame()["rating"].nunique() >= 3  # the colours can tell ratings apart
    return result


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def _cell(patch) -> tuple[int, int]:
    """(row, column) of a league square: its centre is (column, row)."""
    x, y = patch.get_xy()
    return round(y + 0.5), round(x + 0.5)


def test_league_cells_are_coloured_by_the_ratings(conf):
    _, ratings = conf.league()
    n = len(conf.treatments)
    ax = nb.plot_confidence(conf).axes[0]
    cells = _by_gid(ax, "confidence-cell")
    assert len(cells) == n * (n - 1)
    seen = {_cell(p): to_hex(p.get_facecolor()) for p in cells}
    expected = {(i, j): RATING_COLOURS[ratings.iloc[i, j]]
                for i in range(n) for j in range(n) if i != j}  # fmt: skip
    assert seen == expected
    diagonal = [_cell(p) for p in _by_gid(ax, "confidence-diag")]
    assert sorted(diagonal) == [(i, i) for i in range(n)]
    # rows and columns in the network's order, a legend of the four ratings
    assert [t.get_text() for t in ax.get_yticklabels()] == list(conf.treatments)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(conf.treatments)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(RATING_COLOURS)
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == list(
        RATING_COLOURS.values()
    )


def test_league_texts_are_the_estimates(conf):
    estimates, _ = conf.league()
    n = len(conf.treatments)
    ax = nb.plot_confidence(conf, kind="league").axes[0]
    texts = _by_gid(ax, "confidence-text")
    assert len(texts) == n * (n - 1)
    for text in texts:
        x, y = text.get_position()
        assert text.get_text().replace("\n", " ") == estimates.iloc[round(y), round(x)]
    assert _by_gid(nb.plot_confidence(conf, annotate=False).axes[0], "confidence-text") == []


def _synthetic(n: int) -> Confidence:
    """A Confidence of ``n`` treatments (every pair, ratings cycling), built directly."""
    names = [f"T{i:02d}" for i in range(n)]
    rows = []
    for k, (a, b) in enumerate((a, b) for i, a in enumerate(names) for b in names[i + 1 :]):
        rows.append({"treatment": b, "comparator": a, "median": 0.1 * (k % 7) - 0.3,
                     "ci_lower": -1.0, "ci_upper": 1.0, "pi_lower": -1.5, "pi_upper": 1.5,
                     "rating": list(RATING_COLOURS)[k % 4]})  # fmt: skip
    return Confidence(pd.DataFrame(rows), pd.DataFrame(), zone=(-0.3, 0.3),
                      treatments=tuple(names))  # fmt: skip


def test_large_networks_show_colours_only_and_grow():
    small, large = _synthetic(MAX_ANNOTATED), _synthetic(MAX_ANNOTATED + 1)
    fig_small, fig_large = nb.plot_confidence(small), nb.plot_confidence(large)
    n = MAX_ANNOTATED + 1
    assert len(_by_gid(fig_small.axes[0], "confidence-text")) == (n - 1) * (n - 2)
    assert _by_gid(fig_large.axes[0], "confidence-text") == []
    assert len(_by_gid(fig_large.axes[0], "confidence-cell")) == n * (n - 1)
    assert len(_by_gid(nb.plot_confidence(large, annotate=True).axes[0],
                       "confidence-text")) == n * (n - 1)  # fmt: skip
    forty = nb.plot_confidence(_synthetic(40)).get_size_inches()
    assert forty[0] > fig_large.get_size_inches()[0] and forty[0] < 20  # grows, stays a figure


def test_forest_rows_zone_and_ratings(conf):
    table = conf.to_frame()
    ax = nb.plot_confidence(conf, kind="forest").axes[0]
    (zone,) = _by_gid(ax, "confidence-zone")
    xs = zone.get_x(), zone.get_x() + zone.get_width()
    np.testing.assert_allclose(xs, conf.zone)
    assert conf.zone == (-0.5, 0.5)
    ci, pi = _by_gid(ax, "confidence-ci"), _by_gid(ax, "confidence-pi")
    assert len(ci) == len(pi) == len(table) == len(ax.get_yticks())
    np.testing.assert_allclose([line.get_xdata() for line in ci],
                               table[["ci_lower", "ci_upper"]])  # fmt: skip
    np.testing.assert_allclose([line.get_xdata() for line in pi],
                               table[["pi_lower", "pi_upper"]])  # fmt: skip
    colours = [RATING_COLOURS[r] for r in table["rating"]]
    assert [to_hex(line.get_color()) for line in ci] == colours
    assert [t.get_text() for t in _by_gid(ax, "confidence-rating")] == list(table["rating"])
    # first comparison at the top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ys = list(ax.get_yticks())
    top = labels[int(np.argmax(ys))]
    assert top == f"{table['treatment'][0]} vs {table['comparator'][0]}"


def test_forest_vs_one_treatment_turns_the_comparisons(conf):
    estimates, ratings = conf.league()
    ax = nb.plot_confidence(conf, kind="forest", vs="Placebo").axes[0]
    others = [t for t in conf.treatments if t != "Placebo"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(others)
    medians = [line.get_xdata()[0] for line in _by_gid(ax, "confidence-median")]
    ci = _by_gid(ax, "confidence-ci")
    ys = list(ax.get_yticks())
    for label, y in zip(labels, ys, strict=True):
        row = len(ys) - 1 - int(y)  # rows drawn top down
        lo, hi = ci[row].get_xdata()
        shown = f"{medians[row]:.2f} ({lo:.2f}, {hi:.2f})"
        assert shown == estimates.loc[label, "Placebo"]
        assert to_hex(ci[row].get_color()) == RATING_COLOURS[ratings.loc[label, "Placebo"]]
    assert "vs Placebo" in ax.get_xlabel()


def test_draws_into_given_axes(conf):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert nb.plot_confidence(conf, kind="forest", ax=ax) is fig
    assert len(_by_gid(ax, "confidence-ci")) == len(conf.to_frame())


def test_bad_arguments_are_refused(conf):
    cases = [
        (lambda: nb.plot_confidence(conf.to_frame()), "Confidence returned by nb.cinema"),
        (lambda: nb.plot_confidence(None), "got NoneType"),
        (lambda: nb.plot_confidence(conf, kind="heat"), "kind must be one of"),
        (lambda: nb.plot_confidence(conf, kind=None), "kind must be one of"),
        (lambda: nb.plot_confidence(conf, annotate="yes"), "annotate"),
        (lambda: nb.plot_confidence(conf, vs="Placebo"), "kind='forest' only"),
        (lambda: nb.plot_confidence(conf, kind="forest", annotate=True), "kind='league' only"),
        (lambda: nb.plot_confidence(conf, kind="forest", vs="Aspirin"), "not a treatment"),
    ]
    for call, message in cases:
        with pytest.raises(nb.ModelSpecError, match=message) as err:
            call()
        assert err.value.rule == "bad-option"
