"""Bandit policies behind one interface.

Every policy chooses one of ``n_arms`` arms with :meth:`Policy.select` and learns
from a reward in [0, 1] with :meth:`Policy.update`. Its whole state, including the
random generator, is a JSON-able dict (:meth:`Policy.state`), so a policy restored
with :func:`restore_policy` makes exactly the decisions the original would have.
The logic is pure: no I/O, no clock; :mod:`maestro.learning.policy_store` keeps
the state per workspace and context.

Non-stationary audiences are the normal case, so the default, ``adaptive``, is
Thompson sampling that follows both kinds of change without being told how often
they happen: a Bernoulli GLR change-point test per arm restarts it after abrupt
changes, and a choice among several memory lengths, scored by how well each
predicts the rewards, tracks gradual drift (see :class:`AdaptiveThompson`).

The policies live in submodules, re-exported here: the interface in
:mod:`~maestro.learning.bandits.base`, the stationary policies in
:mod:`~maestro.learning.bandits.stationary`, the discounted and sliding-window
ones in :mod:`~maestro.learning.bandits.windowed`, :class:`AdaptiveThompson` in
:mod:`~maestro.learning.bandits.adaptive`, the contextual
:class:`LinearThompson` (log engagement with known covariates; the content
studio's learner) in :mod:`~maestro.learning.bandits.linear`, and the factory and
:class:`LearningSettings` in :mod:`~maestro.learning.bandits.settings`.
"""

from __future__ import annotations

from maestro.learning.bandits.adaptive import AdaptiveThompson
from maestro.learning.bandits.base import DEFAULT_POLICY, Policy, PolicyState
from maestro.learning.bandits.linear import LINEAR_POLICY, LinearThompson
from maestro.learning.bandits.settings import (
    BANDIT_POLICY_NAMES,
    POLICY_NAMES,
    LearningSettings,
    make_policy,
    restore_policy,
)
from maestro.learning.bandits.stationary import UCB1, EpsilonGreedy, Thompson
from maestro.learning.bandits.windowed import (
    DiscountedThompson,
    SlidingWindowThompson,
    SlidingWindowUCB,
)

__all__ = [
    "BANDIT_POLICY_NAMES",
    "DEFAULT_POLICY",
    "LINEAR_POLICY",
    "POLICY_NAMES",
    "UCB1",
    "AdaptiveThompson",
    "DiscountedThompson",
    "EpsilonGreedy",
    "LearningSettings",
    "LinearThompson",
    "Policy",
    "PolicyState",
    "SlidingWindowThompson",
    "SlidingWindowUCB",
    "Thompson",
    "make_policy",
    "restore_policy",
]
