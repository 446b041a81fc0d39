"""Wizard pages: the five import steps (steps.py). The template library is library/views.py."""
