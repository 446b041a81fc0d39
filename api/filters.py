"""Query filters of the job list and the row log."""

from __future__ import annotations

import django_filters

from jobs.models import DataJob, JobLogEntry


class DataJobFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(field_name="job_type", choices=DataJob.Type.choices)
    status = django_filters.ChoiceFilter(choices=DataJob.Status.choices)
    resource = django_filters.CharFilter(
        field_name="target", help_text="A resource name or report identifier."
    )
    format = django_filters.CharFilter(field_name="format", lookup_expr="iexact")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="YYYY-MM-DD, inclusive."
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="YYYY-MM-DD, inclusive."
    )

    class Meta:
        model = DataJob
        fields = ["type", "status", "resource", "format", "created_after", "created_before"]


class JobLogFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=JobLogEntry.Level.choices)

    class Meta:
        model = JobLogEntry
        fields = ["level"]
