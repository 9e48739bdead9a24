"""Learning from outcomes: bandit policies, their persisted state, and experiments.

``bandits`` holds pure policy logic (state as JSON-able dicts), among them
``bandits.linear``, the studio's learner (Thompson sampling on a Kalman-filtered linear model of log
engagement with known covariates; ``kalman`` is its filter), ``policy_store``
persists either kind per workspace and context key, ``experiments`` runs A/B,
multivariate, bandit and sequential experiments, and ``bayes`` analyses them.
"""
