"""The template library: saved import mappings and export specs, below wizard and reports."""
