"""Connected components (nma_bayes.base.graph): order, disconnection, determinism."""

import itertools
import random

import pytest

from nma_bayes.base.graph import connected_components


def test_connected_graph_is_one_component_in_node_order():
    nodes = ["C", "A", "B", "D"]
    edges = [("A", "B"), ("B", "D"), ("D", "C")]
    assert connected_components(nodes, edges) == [["C", "A", "B", "D"]]


def test_disconnected_graph_components_in_order_of_first_node():
    nodes = ["a", "b", "c", "d", "e", "f"]
    edges = [("f", "b"), ("c", "e"), ("e", "a")]
    assert connected_components(nodes, edges) == [["a", "c", "e"], ["b", "f"], ["d"]]


def test_isolated_nodes_self_loops_repeats_and_empty_graph():
    assert connected_components([3, 1, 2], []) == [[3], [1], [2]]
    assert connected_components([1, 2], [(1, 1), (2, 2)]) == [[1], [2]]
    assert connected_components([1, 2, 1], [(1, 2), (2, 1), (1, 2)]) == [[1, 2]]
    assert connected_components([], []) == []


def test_nodes_may_be_any_hashable_and_a_range():
    assert connected_components(range(5), [(4, 0), (3, 1)]) == [[0, 4], [1, 3], [2]]
    nodes = [("x", 1), ("y", 2), ("z", 3)]
    assert connected_components(nodes, [(nodes[2], nodes[0])]) == [[nodes[0], nodes[2]], [nodes[1]]]


def test_unknown_node_in_an_edge_is_refused():
    with pytest.raises(ValueError, match="'z'"):
        connected_components(["a", "b"], [("a", "z")])


def test_result_depends_on_node_order_only_not_on_edges_or_hashing():
    nodes = [f"t{i}" for i in range(12)]
    edges = [("t0", "t5"), ("t5", "t9"), ("t2", "t3"), ("t11", "t3"), ("t7", "t7"), ("t1", "t8")]
    expected = [
        ["t0", "t5", "t9"],
        ["t1", "t8"],
        ["t2", "t3", "t11"],
        ["t4"],
        ["t6"],
        ["t7"],
        ["t10"],
    ]
    rng = random.Random(1)
    for _ in range(50):
        shuffled = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in edges]
        rng.shuffle(shuffled)
        assert connected_components(nodes, shuffled) == expected
    # the same graph with nodes given in another order follows that order
    assert connected_components(nodes[::-1], edges)[0] == ["t11", "t3", "t2"]


def _reachable(v, edges):
    """Nodes reachable from v (breadth-first search over the edge list)."""
    seen, todo = {v}, [v]
    while todo:
        u = todo.pop()
        for a, b in edges:
            for x, y in ((a, b), (b, a)):
                if x == u and y not in seen:
                    seen.add(y)
                    todo.append(y)
    return seen


def test_agrees_with_a_brute_force_reachability():
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(1, 9)
        nodes = list(range(n))
        edges = [(a, b) for a, b in itertools.combinations(nodes, 2) if rng.random() < 0.2]
        comps = connected_components(nodes, edges)
        assert sorted(v for c in comps for v in c) == nodes
        for comp in comps:
            assert set(comp) == _reachable(comp[0], edges)
            assert comp == sorted(comp)
        assert [c[0] for c in comps] == sorted(c[0] for c in comps)
