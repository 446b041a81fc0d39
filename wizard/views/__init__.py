"""Wizard pages: the five import steps (steps.py) and the template library (library.py)."""
