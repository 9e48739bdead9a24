"""Learning from outcomes: bandit policies, their persisted state, and experiments.

``bandits`` holds pure policy logic (state as JSON-able dicts), ``policy_store``
persists that state per workspace and context key, ``experiments`` runs A/B,
multivariate, bandit and sequential experiments, and ``bayes`` analyses them.
"""
