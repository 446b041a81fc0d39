"""Ready-made reports: a registry of exporter classes (sales, aging, valuation, audit)."""
