"""Import nutpie without importing all of ArviZ (about 0.6 s of every fresh process).

nutpie's ``sample`` module runs ``import arviz`` at import time, and the ``arviz`` meta-package
imports ``arviz_plots`` (and with it matplotlib's pyplot) and every ``arviz_stats`` submodule.
nutpie itself only calls ``arviz.from_dict`` and ``arviz.dict_to_dataset``, which live in
``arviz_base``. While nutpie is first imported, ``arviz`` is therefore a stand-in module that
serves ``arviz_base``'s functions and, for any other name, loads the real ArviZ and hands that
over (so a future nutpie that uses more of ArviZ still works, only slower). The stand-in is
removed from ``sys.modules`` straight after, so ``import arviz`` anywhere else gets ArviZ itself.
Nothing changes when ArviZ is already loaded (a user who imported it first).
"""

from __future__ import annotations

import importlib
import sys
import types

__all__ = ["import_nutpie"]


class _ArvizStandIn(types.ModuleType):
    """``arviz`` for nutpie: ``arviz_base``'s names first, the real ArviZ for anything else."""

    def __getattr__(self, name: str):
        import arviz_base

        if hasattr(arviz_base, name):
            return getattr(arviz_base, name)
        if sys.modules.get("arviz") is self:  # pragma: no cover - only during nutpie's import
            del sys.modules["arviz"]
        return getattr(importlib.import_module("arviz"), name)


def import_nutpie():
    """Return the ``nutpie`` module, imported with the ArviZ stand-in if nutpie is new."""
    if "nutpie" in sys.modules or "arviz" in sys.modules:
        import nutpie

        return nutpie
    sys.modules["arviz"] = _ArvizStandIn("arviz")
    try:
        import nutpie
    finally:
        if isinstance(sys.modules.get("arviz"), _ArvizStandIn):
            del sys.modules["arviz"]
    return nutpie
