r"""The collapsed contrast model: ``d`` integrated out, ``tau`` sampled, ``d | tau`` drawn exactly.

In the normal contrast model (TSD2, random effects marginalised over the study deltas) with a
normal prior on the relative effects, ``d`` is a linear-Gaussian block given ``tau``:

.. math::

    d \mid \tau, y \sim N(P^{-1} b,\; P^{-1}),\qquad
    P = S_0^{-1} + \sum_i X_i' A_i^{-1} X_i,\quad b = S_0^{-1} m_0 + \sum_i X_i' A_i^{-1} y_i,

with ``A_i = V_i + tau^2 (I + J)/2`` study ``i``'s marginal covariance and ``X_i`` its contrast
design. Integrating ``d`` out (the Gaussian integral, e.g. Gelman et al., *Bayesian Data
Analysis*, 3rd ed., section 14.8; the same route as the exact engine, Rue et al. 2009) gives

.. math::

    \log p(y \mid \tau) = \log N(y;\, X\hat d, A) + \log N(\hat d;\, m_0, S_0)
        + \tfrac{n}{2}\log 2\pi - \tfrac12 \log|P|,\qquad \hat d = P^{-1} b,

evaluated in this residual form (as :func:`nma_bayes.engines.exact_marginal.log_marginal`),
which keeps its digits when one study is far more precise than the others. The PyMC model
keeps only ``tau``: NUTS explores one dimension, and ``d`` is drawn afterwards from its exact
conditional at each draw of ``tau`` (:func:`nma_bayes.engines.collapsed.draw_d`), a collapsed
sampler (Liu 1994) whose draws of ``d`` are independent given ``tau``.

The log density and its analytic gradient are one compiled kernel
(:mod:`nma_bayes.models.collapsed_kernel`) wrapped as a PyTensor Op with a numba implementation,
so nutpie's compiled model calls it directly and PyTensor caches it on disk; the Op's Python
``perform`` calls the same kernel for PyMC's own samplers.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from .collapsed_kernel import KERNEL_VERSION, collapsed_logp_grad

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from .regression import RegressionDesign
    from .spec import ModelSpec

__all__ = ["CollapsedLoglik", "build_collapsed_model", "collapsible", "MAX_COLLAPSED_TREATMENTS"]

#: The collapsed model is used up to this many non-reference treatments: each gradient costs a
#: Cholesky factor of P (``O(T^3)``) and each kept draw one more for ``d | tau``.
MAX_COLLAPSED_TREATMENTS = 64


def collapsible(network: Network, spec: ModelSpec, regression: RegressionDesign | None) -> bool:
    """Whether ``d`` can be integrated out of the sampled model (see the module docstring).

    Random effects on contrast-level data only (arm-level outcomes have non-Gaussian
    likelihoods), a normal prior on ``d``, no class model (class SDs make the prior of ``d``
    depend on a sampled parameter), no meta-regression, and at most
    :data:`MAX_COLLAPSED_TREATMENTS` non-reference treatments.
    """
    return (
        spec.random
        and spec.class_model is None
        and spec.prior_d.family == "normal"
        and regression is None
        and not bool(np.asarray(network.outcome).any())
        and network.n_treatments - 1 <= MAX_COLLAPSED_TREATMENTS
    )


#: Data inputs of the Op after ``tau^2``, in order (the graph's data nodes).
OP_INPUTS = ("y", "var", "cov", "u", "cov_u", "mask", "arm_pos", "base_pos",
             "prior_d_mean", "prior_d_sd")  # fmt: skip


@functools.cache
def _op_class():
    """Define the Op (PyTensor imported only when a model is built)."""
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType, disconnected_type
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class _CollapsedLoglik(Op):
        """``(log p(y | tau^2), d log p / d tau^2)`` of the collapsed model (module docstring).

        Inputs: ``tau^2`` then the arrays of :data:`OP_INPUTS`; ``n_d`` (the length of ``d``,
        shape-bucket padding included) is a property. Only ``tau^2`` is differentiable.
        """

        __props__ = ("n_d",)

        def __init__(self, n_d: int):
            self.n_d = int(n_d)

        def make_node(self, tau2, *data):
            tau2 = pt.as_tensor_variable(tau2, dtype="float64")
            # positions as int64, everything else float64 (a Python 10.0 would become float32)
            kinds = ["int64" if name.endswith("_pos") else "float64" for name in OP_INPUTS]
            data = [
                pt.cast(pt.as_tensor_variable(x), kind) for x, kind in zip(data, kinds, strict=True)
            ]
            return Apply(self, [tau2, *data], [pt.dscalar(), pt.dscalar()])

        def perform(self, node, inputs, outputs):
            tau2, *data = inputs
            *arrays, m0, s0 = data
            logp, grad = collapsed_logp_grad(float(tau2), *arrays, float(m0), float(s0), self.n_d)
            outputs[0][0] = np.asarray(logp, dtype=np.float64)
            outputs[1][0] = np.asarray(grad, dtype=np.float64)

        def connection_pattern(self, node):
            return [[True, True]] + [[False, False]] * (len(node.inputs) - 1)

        def pullback(self, inputs, outputs, output_grads):
            g_logp = output_grads[0]
            if isinstance(g_logp.type, DisconnectedType):
                g_tau2 = pt.zeros_like(inputs[0])
            else:
                g_tau2 = g_logp * outputs[1]
            return [g_tau2] + [disconnected_type() for _ in inputs[1:]]

    _register_numba(_CollapsedLoglik)
    return _CollapsedLoglik


def _register_numba(op_type) -> None:
    """Give the Op a numba implementation, cacheable by PyTensor (keyed on the Op and its props)."""
    import numba
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @register_funcify_default_op_cache_key(op_type)
    def _funcify(op, node=None, **kwargs):
        n_d = op.n_d

        @numba.njit
        def collapsed_loglik(tau2, y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0):
            logp, grad = collapsed_logp_grad(
                tau2.item(), y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0.item(),
                s0.item(), n_d,
            )  # fmt: skip
            return np.array(logp), np.array(grad)

        return collapsed_loglik, KERNEL_VERSION


def CollapsedLoglik(n_d: int):  # noqa: N802 - behaves as the Op's class
    """Return the Op of the collapsed log density for ``n_d`` relative effects."""
    return _op_class()(n_d)


def build_collapsed_model(network: Network, spec: ModelSpec, *, pad_to: int | None = None):
    """Build the PyMC model of the collapsed contrast model: ``tau`` and ``log p(y | tau)``.

    Parameters
    ----------
    network : Network
        Validated contrast data (:func:`collapsible` holds).
    spec : ModelSpec
        Random effects, normal prior on ``d``.
    pad_to : int, optional
        Length of ``d`` in the integral (shape bucket); the extra entries carry only their prior
        and leave ``p(y | tau)`` unchanged but for a constant.

    Returns
    -------
    pymc.Model
        One free variable, ``tau``; a potential ``loglik``. Data nodes are named as in
        :func:`nma_bayes.models.pymc_graph.build_model`, so ``with_data`` swaps them.
    """
    import pymc as pm

    from .likelihood import model_data
    from .pymc_graph import prior_data, tau_variable

    n_d = max(network.n_treatments - 1, pad_to or 0)
    with pm.Model() as model:
        data = {k: pm.Data(k, v) for k, v in model_data(network).items()}
        p = {k: pm.Data(k, v) for k, v in prior_data(spec).items()}
        tau = tau_variable(spec, p)
        inputs = [data[k] if k in data else p[k] for k in OP_INPUTS]
        logp, _ = CollapsedLoglik(n_d)(tau**2, *inputs)
        pm.Potential("loglik", logp)
    return model
