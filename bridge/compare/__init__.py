"""Comparison of two observations and their outputs: normalize, diff values, diff tables."""
