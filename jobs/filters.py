from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from jobs.fast_widgets import FastForm
from jobs.models import DataJob, target_display
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
        # Pending jobs are drafts, which the dashboard does not list.
        choices=[
            *((v, label) for v, label in DataJob.Status.choices if v != DataJob.Status.PENDING),
            (STALLED, "Stalled"),
        ],
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
        # Its selects written without a template per option (jobs/fast_widgets.py).
        form = FastForm
        fields = ["job_type", "status", "target", "user", "created_from", "created_to"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what this organization has: its own targets and its own members.
        targets: dict[str, str] = {}
        for target, label in (
            DataJob.objects.filter(organization=organization)
            .order_by("target", "-target_label")
            .values_list("target", "target_label")
            .distinct()
        ):
            targets.setdefault(target, target_display(target, label))
        self.filters["target"].extra["choices"] = sorted(
            targets.items(), key=lambda item: item[1].lower()
        )
        self.filters["user"].queryset = (
            get_user_model()
            .objects.filter(memberships__organization=organization)
            .order_by("username")
        )

    def filter_status(self, queryset, name, value):
        if value == STALLED:
            return jobs_stalled(queryset)
        return queryset.filter(status=value)
