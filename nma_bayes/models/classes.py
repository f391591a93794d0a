"""Treatment-class structure of the class-effects models (Dias et al. 2011, TSD2; multinma).

Exchangeable class model: the effect of treatment ``k`` of class ``c`` (vs the reference) is
``d_k = mu_c + sigma_g(c) z_k`` with ``z_k ~ N(0, 1)`` (non-centred), class means ``mu_c`` and
within-class SDs ``sigma_g`` (one per class, or shared by a group of classes). A class with a
single treatment has no estimable SD: unless it shares an SD with other classes, its treatment's
effect is its class mean (a common effect). Common class model: ``d_k = mu_c`` for every
treatment of the class. The reference treatment has ``d = 0`` and, as in TSD2's class model
(``m[1] <- 0``), its class has mean 0, so the other treatments of the reference's class are
``N(0, sigma^2)`` (exchangeable) or 0 (common).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ModelSpecError, format_items

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from .spec import ModelSpec

__all__ = ["ClassStructure", "class_order", "normalise_class_sd"]


def class_order(network: Network) -> tuple[str, ...]:
    """Classes in the order of their first treatment in the network's treatment order."""
    if not network.classes:
        raise ModelSpecError(
            "This network has no treatment classes: build it with classes= (a column name or a "
            "dict {treatment: class}).",
            rule="bad-option",
        )
    return tuple(dict.fromkeys(network.classes[t] for t in network.treatments))


def normalise_class_sd(class_sd) -> tuple:
    """Turn ``{group: [classes]}`` into the hashable ``((group, (classes...)), ...)``."""
    if not class_sd:
        return ()
    if isinstance(class_sd, dict):
        class_sd = class_sd.items()
    try:
        return tuple((str(name), tuple(members)) for name, members in class_sd)
    except (TypeError, ValueError):
        raise ModelSpecError(
            "class_sd must be a dict {group name: [classes sharing one SD]}.", rule="bad-option"
        ) from None


@dataclass(frozen=True)
class ClassStructure:
    """Index arrays that map class parameters to the treatment effects ``d``.

    Attributes
    ----------
    classes : tuple of str
        All classes (order of their first treatment).
    free_classes : tuple of str
        Classes with a mean parameter (all but the reference's class, whose mean is 0).
    sd_groups : tuple of str
        Names of the within-class SD parameters (exchangeable model).
    exchangeable : tuple of str
        Treatments with their own deviation ``z`` from their class mean.
    mean_pos, sd_pos, z_pos : ndarray of int (n_d,)
        For each non-reference treatment (network order): position in ``[0, mu...]``,
        ``[0, sigma...]`` and ``[0, z...]`` (0 = the fixed zero).
    """

    classes: tuple[str, ...]
    free_classes: tuple[str, ...]
    sd_groups: tuple[str, ...]
    exchangeable: tuple[str, ...]
    mean_pos: np.ndarray
    sd_pos: np.ndarray
    z_pos: np.ndarray

    @classmethod
    def from_network(cls, network: Network, spec: ModelSpec) -> ClassStructure:
        """Build the structure for ``spec.class_model`` on ``network``."""
        classes = class_order(network)
        of = network.classes
        members = {c: [t for t in network.treatments if of[t] == c] for c in classes}
        ref_class = of[network.reference]
        # TSD2's class model: the reference's class has mean 0 (m[1] <- 0), so the other
        # treatments of that class are exchangeable around the reference's effect
        free = tuple(c for c in classes if c != ref_class)
        group_of = _sd_groups(spec, classes, members) if spec.class_model == "exchangeable" else {}
        sd_groups = tuple(dict.fromkeys(group_of.values()))
        others = list(network.non_reference)
        mean_pos, sd_pos, z_pos, exch = [], [], [], []
        for t in others:
            c = of[t]
            mean_pos.append(free.index(c) + 1 if c in free else 0)
            if c in group_of:
                exch.append(t)
                sd_pos.append(sd_groups.index(group_of[c]) + 1)
                z_pos.append(len(exch))
            else:
                sd_pos.append(0)
                z_pos.append(0)
        return cls(
            classes=classes,
            free_classes=free,
            sd_groups=sd_groups,
            exchangeable=tuple(exch),
            mean_pos=np.array(mean_pos, dtype=np.int64),
            sd_pos=np.array(sd_pos, dtype=np.int64),
            z_pos=np.array(z_pos, dtype=np.int64),
        )

    def signature(self) -> tuple:
        """Return what determines the graph (part of the compiled-model cache key)."""
        return (
            self.free_classes,
            self.sd_groups,
            self.exchangeable,
            tuple(self.mean_pos),
            tuple(self.sd_pos),
            tuple(self.z_pos),
        )


def _sd_groups(spec: ModelSpec, classes, members) -> dict[str, str]:
    """Class -> SD group, for classes whose treatments deviate from the class mean."""
    group_of: dict[str, str] = {}
    for name, shared in spec.class_sd:
        unknown = [c for c in shared if c not in classes]
        if unknown:
            raise ModelSpecError(
                f"class_sd group {name!r} names classes not in the network: "
                f"{format_items(unknown)}. Classes: {format_items(classes, 20)}.",
                rule="bad-option",
            )
        twice = [c for c in shared if c in group_of]
        if twice:
            raise ModelSpecError(
                f"Classes {format_items(twice)} are in more than one class_sd group.",
                rule="bad-option",
            )
        group_of.update({c: name for c in shared})
    for c in classes:
        if c not in group_of and len(members[c]) > 1:
            group_of[c] = c
    return group_of
