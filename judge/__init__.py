"""Olympiad judge: run deep-learning practice submissions in a sandbox, score on hidden data."""

__version__ = "0.1.0"
