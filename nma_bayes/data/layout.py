"""A step of :meth:`Network.from_data`: which studies, treatments, reference and classes it has.

From the studies read by :func:`~nma_bayes.data.inputs.parse_inputs`, :func:`resolve_layout`
keeps the chosen component of a disconnected network, fixes the treatment order, chooses the
reference (the user's, or the treatment in the most studies) and resolves the treatment classes,
each by the validators of :mod:`nma_bayes.data.validation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import checks as C
from . import validation as V
from .inputs import ParsedInput

__all__ = ["NetworkLayout", "resolve_layout"]


@dataclass(frozen=True)
class NetworkLayout:
    """The studies and treatments of a network, before its studies are resolved.

    Attributes
    ----------
    studies : list of (kind, study, data)
        The parsed studies kept (those of the chosen component), in input order.
    treatments : tuple of str
        Treatment order.
    reference, reference_rule : str
        Reference treatment, and how it was chosen (in words).
    classes : dict or None
        Treatment to class, for every treatment in treatment order.
    excluded_studies : tuple of str
        Studies outside the chosen component.
    """

    studies: list[tuple[str, str, object]]
    treatments: tuple[str, ...]
    reference: str
    reference_rule: str
    classes: dict[str, str] | None
    excluded_studies: tuple[str, ...]

    def network_attributes(self) -> dict:
        """Return the attributes of a Network that the layout fixes, by name."""
        return {
            "reference": self.reference,
            "reference_rule": self.reference_rule,
            "classes": self.classes,
            "excluded_studies": self.excluded_studies,
        }


def resolve_layout(
    parsed: ParsedInput,
    *,
    component: str | None,
    treatments: Sequence[str] | None,
    reference: str | None,
    classes: str | dict[str, str] | None,
) -> NetworkLayout:
    """Choose the component, treatment order, reference and classes of a network.

    Parameters
    ----------
    parsed : ParsedInput
        The studies read from the input tables.
    component, treatments, reference, classes
        The options of the same name of :meth:`Network.from_data`.

    Returns
    -------
    NetworkLayout

    Raises
    ------
    NMAInputError
        ``disconnected``, ``unknown-component``, ``treatments-mismatch``,
        ``single-treatment``, ``unknown-reference`` or a class rule.
    """
    study_sets = parsed.study_sets()
    excluded = V.select_component(study_sets, component, parsed.columns["study"])
    studies = parsed.studies
    if excluded:
        studies = [x for x in studies if x[1] not in excluded]
        study_sets = {s: ts for s, ts in study_sets.items() if s not in excluded}
    trts = V.resolve_treatments(set().union(*study_sets.values()), treatments)
    C.check_two_treatments(trts, parsed.columns)
    ref, rule = V.resolve_reference(reference, trts, study_sets)
    return NetworkLayout(
        studies=studies,
        treatments=trts,
        reference=ref,
        reference_rule=rule,
        classes=_class_map(classes, trts, parsed.class_pairs),
        excluded_studies=excluded,
    )


def _class_map(classes, trts: tuple[str, ...], class_pairs) -> dict[str, str] | None:
    """Resolve classes from a dict, or from the pairs read from class columns."""
    if isinstance(classes, dict):
        return V.resolve_classes(classes, trts, [])
    # only the treatments kept (a component may exclude some) need a class
    kept = set(trts)
    return V.resolve_classes(None, trts, [(t, c) for t, c in class_pairs if t in kept])
