"""Connected components of a small undirected graph (union-find), in a deterministic order.

Used for the treatment graph of a network (which treatments are linked by studies), wherever
connectivity is asked: validation of the input, :meth:`Network.components` and the simulation of
connected networks. Standard library only.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

__all__ = ["connected_components"]


def connected_components[N: Hashable](
    nodes: Iterable[N], edges: Iterable[tuple[N, N]]
) -> list[list[N]]:
    """Return the connected components of an undirected graph.

    Parameters
    ----------
    nodes : iterable of hashable
        The graph's nodes, in the order that the result follows (repeats are ignored). A node
        without edges is a component of its own.
    edges : iterable of (node, node)
        Undirected edges between nodes of ``nodes``; a self-loop or a repeated edge is allowed.

    Returns
    -------
    list of list
        One list per component, holding its nodes in the order of ``nodes``; components in the
        order of their first node in ``nodes``. The order never depends on hashing or on the
        order of ``edges``.

    Raises
    ------
    ValueError
        If an edge names a node that is not in ``nodes``.

    Examples
    --------
    >>> connected_components(["a", "b", "c", "d"], [("d", "b")])
    [['a'], ['b', 'd'], ['c']]
    """
    order = list(dict.fromkeys(nodes))
    position = {node: i for i, node in enumerate(order)}
    # parent[i] == i marks a root; every root is the earliest node (smallest position) of its
    # component, because a union always hangs the later root under the earlier one
    parent = list(range(len(order)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    for a, b in edges:
        missing = [x for x in (a, b) if x not in position]
        if missing:
            raise ValueError(f"Edge {(a, b)!r} names {missing[0]!r}, which is not a node.")
        ra, rb = find(position[a]), find(position[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[N]] = {}
    for i, node in enumerate(order):  # roots first appear in node order: dict keeps it
        groups.setdefault(find(i), []).append(node)
    return list(groups.values())
