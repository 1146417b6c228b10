"""Causal estimators for staggered policy adoption (see the modules for each method)."""
