from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from jobs.models import DataJob
from jobs.selectors import jobs_stalled

STALLED = "stalled"
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class DataJobFilter(django_filters.FilterSet):
    job_type = django_filters.ChoiceFilter(
        label="Type", choices=DataJob.Type.choices, empty_label="Any type"
    )
    # "Stalled" is not stored: it is a running job whose worker stopped reporting.
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=[*DataJob.Status.choices, (STALLED, "Stalled")],
        empty_label="Any status",
        method="filter_status",
    )
    target = django_filters.ChoiceFilter(label="Target", empty_label="Any target")
    user = django_filters.ModelChoiceFilter(
        label="Started by", queryset=get_user_model().objects.none(), empty_label="Anyone"
    )
    created_from = django_filters.DateFilter(
        label="Created from", field_name="created_at", lookup_expr="date__gte", widget=DATE_INPUT
    )
    created_to = django_filters.DateFilter(
        label="Created to", field_name="created_at", lookup_expr="date__lte", widget=DATE_INPUT
    )

    class Meta:
        model = DataJob
        fields = ["job_type", "status", "target", "user", "created_from", "created_to"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what this organization has: its own targets and its own members.
        targets = (
            DataJob.objects.filter(organization=organization)
            .order_by("target")
            .values_list("target", flat=True)
            .distinct()
        )
        self.filters["target"].extra["choices"] = [(t, t) for t in targets]
        self.filters["user"].queryset = (
            get_user_model()
            .objects.filter(memberships__organization=organization)
            .order_by("username")
        )

    def filter_status(self, queryset, name, value):
        if value == STALLED:
            return jobs_stalled(queryset)
        return queryset.filter(status=value)
