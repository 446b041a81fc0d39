"""The ready-made reports, one module each: its filter form, its queries and its ``Report``.

Every module here is imported by the exporter registry and registers itself with
``@register``; adding a report is adding a module (see ``reports.exporters``).
"""
