"""Integrations with other libraries: :mod:`stride.integrations.optuna` (Optuna's storage and
sampler interfaces over stride). Each imports its library itself; the package does not."""
