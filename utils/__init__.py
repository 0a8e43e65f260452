"""Helpers the course notebooks import: data loading, figures and test checks.

Import modules by name (``from utils import data, plotting``,
``from utils.checks import edges``); nothing here seeds random generators or
changes global state on import. No graded function is solved here.
"""
