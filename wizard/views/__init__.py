"""Wizard pages: one module per import step (upload, mapping, preview, run, results) and the
shared step bar and draft lookup (steps.py). The template library is library/views.py."""
