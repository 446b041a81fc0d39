"""Scheduled exports and reports delivered by e-mail (issue 12).

A ``Schedule`` runs one exporter with its parameters in one or more formats on an RFC 5545 rule
in its own time zone; the Huey tick claims each due slot exactly once (a conditional UPDATE of
``next_run_at`` plus a unique (schedule, slot) row) and queues it as a normal DataJob.
"""
