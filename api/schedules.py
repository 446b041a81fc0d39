"""REST API for scheduled exports: schedules, their run history, notification settings.

The same services as the schedule pages; every object is scoped to the request's organization
(another organization's schedule or run is a 404) and needs ``can_manage_schedules`` (403).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import MANAGE_SCHEDULES
from api.pagination import Pagination
from api.parsers import StrictJSONParser
from api.permissions import IsOrganizationMember, membership_of
from api.views.common import errors
from jobs.errors import FerryError
from reports.schedules import selectors as sel
from reports.schedules import services as svc
from reports.schedules.exporters import FORMATS, target_get
from reports.schedules.models import NotificationSettings, Schedule, ScheduleRun
from reports.schedules.recurrence import rule_describe


class CanManageSchedules(IsOrganizationMember):
    message = f"You do not have the permission {MANAGE_SCHEDULES}."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return membership_of(request).has_perm(MANAGE_SCHEDULES)


# --- serializers -----------------------------------------------------------------------------


class ScheduleSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    recurrence = serializers.SerializerMethodField()
    last_status = serializers.CharField(read_only=True, default=None)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "exporter",
            "params",
            "period",
            "formats",
            "frequency",
            "rrule",
            "run_time",
            "timezone",
            "recurrence",
            "is_active",
            "paused_reason",
            "recipients",
            "cc",
            "bcc",
            "subject",
            "message",
            "only_when_rows",
            "next_run_at",
            "last_run_at",
            "last_status",
            "consecutive_failures",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_recurrence(self, obj) -> str:
        return rule_describe(rule=obj.rrule, tz=obj.timezone)


class ScheduleWriteSerializer(serializers.Serializer):
    """What a client sends; the service validates the meaning (exporter, rule, zone, addresses)."""

    name = serializers.CharField(max_length=120)
    exporter = serializers.CharField(max_length=80, help_text="e.g. sales, contacts, template:12")
    params = serializers.DictField(required=False, default=dict)
    period = serializers.ChoiceField(
        choices=Schedule.Period.values, required=False, default="", allow_blank=True
    )
    formats = serializers.ListField(child=serializers.ChoiceField(choices=FORMATS), min_length=1)
    frequency = serializers.ChoiceField(choices=Schedule.Frequency.values)
    weekdays = serializers.ListField(child=serializers.CharField(), required=False)
    monthly_mode = serializers.ChoiceField(
        choices=["day", "last", "nth"], required=False, default="day"
    )
    month_day = serializers.IntegerField(required=False, allow_null=True)
    nth = serializers.IntegerField(required=False, allow_null=True)
    nth_weekday = serializers.CharField(required=False, allow_blank=True)
    rrule = serializers.CharField(required=False, allow_blank=True, help_text="RFC 5545 RRULE")
    run_time = serializers.CharField(help_text="HH:MM")
    timezone = serializers.CharField(help_text="IANA name, e.g. Europe/Zurich")
    recipients = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    cc = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    bcc = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    subject = serializers.CharField(required=False, allow_blank=True, default="")
    message = serializers.CharField(required=False, allow_blank=True, default="")
    only_when_rows = serializers.BooleanField(required=False, default=False)


class RunFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    format = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    linked = serializers.BooleanField()
    available = serializers.BooleanField()


class RunSerializer(serializers.ModelSerializer):
    schedule_name = serializers.CharField(source="schedule.name", read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    files = RunFileSerializer(many=True, read_only=True)

    class Meta:
        model = ScheduleRun
        fields = [
            "id",
            "schedule",
            "schedule_name",
            "slot",
            "manual",
            "late",
            "status",
            "job",
            "created_at",
            "started_at",
            "finished_at",
            "emailed_at",
            "duration_seconds",
            "period_text",
            "rows",
            "key_figures",
            "recipients",
            "delivery_attempts",
            "note",
            "error_message",
            "files",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, obj) -> float | None:
        return round(obj.duration.total_seconds(), 3) if obj.duration else None


class StatisticsSerializer(serializers.Serializer):
    runs = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    late = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    average_seconds = serializers.FloatField(allow_null=True)


class NotificationSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationSettings
        fields = [
            "notify_on",
            "default_recipients",
            "from_name",
            "reply_to",
            "retention_days",
            "weekly_summary",
        ]
        extra_kwargs = {name: {"required": False} for name in fields}


# --- views -----------------------------------------------------------------------------------


class ScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ScheduleSerializer
    permission_classes = [CanManageSchedules]
    pagination_class = Pagination
    lookup_value_regex = r"[0-9]+"
    queryset = Schedule.objects.none()

    def get_queryset(self):
        return sel.schedules_list(organization=self.request.organization)

    def _write(self, request) -> dict:
        serializer = ScheduleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _body(self, schedule) -> dict:
        return ScheduleSerializer(self.get_queryset().get(pk=schedule.pk)).data

    @extend_schema(
        summary="Your organization's schedules",
        responses={200: ScheduleSerializer(many=True), **errors(403, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A schedule", responses={200: ScheduleSerializer, **errors(403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Create a schedule (you are its owner)",
        request=ScheduleWriteSerializer,
        responses={201: ScheduleSerializer, **errors(403, 400)},
    )
    def create(self, request):
        schedule = svc.schedule_create(
            organization=request.organization, user=request.user, data=self._write(request)
        )
        return Response(self._body(schedule), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a schedule's settings",
        request=ScheduleWriteSerializer,
        responses={200: ScheduleSerializer, **errors(403, 400, 404)},
    )
    def update(self, request, pk=None):
        schedule = self.get_object()
        svc.schedule_update(schedule=schedule, user=request.user, data=self._write(request))
        return Response(self._body(schedule))

    @extend_schema(
        summary="Delete a schedule and its files", responses={204: None, **errors(403, 404)}
    )
    def destroy(self, request, pk=None):
        svc.schedule_delete(schedule=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Activate (resume) a schedule",
        request=None,
        responses={200: ScheduleSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        schedule = svc.schedule_activate(schedule=self.get_object(), user=request.user)
        return Response(self._body(schedule))

    @extend_schema(
        summary="Pause a schedule",
        request=None,
        responses={200: ScheduleSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        schedule = svc.schedule_pause(schedule=self.get_object(), user=request.user)
        return Response(self._body(schedule))

    @extend_schema(
        summary="Run a schedule now (outside its recurrence)",
        request=None,
        responses={202: RunSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def trigger(self, request, pk=None):
        run = svc.schedule_trigger(schedule=self.get_object(), user=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Active schedules due in the next days",
        parameters=[OpenApiParameter("days", OpenApiTypes.INT, description="Default 7")],
        responses={200: ScheduleSerializer(many=True), **errors(403)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def upcoming(self, request):
        import datetime as dt

        try:
            days = max(1, min(366, int(request.query_params.get("days", 7))))
        except ValueError:
            days = 7
        found = sel.schedules_upcoming(
            organization=request.organization, within=dt.timedelta(days=days)
        )
        return Response(ScheduleSerializer(found, many=True).data)

    @extend_schema(
        summary="Active schedules whose slot passed without a run",
        responses={200: ScheduleSerializer(many=True), **errors(403)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def overdue(self, request):
        found = sel.schedules_overdue(organization=request.organization)
        return Response(ScheduleSerializer(found, many=True).data)


class HistoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RunSerializer
    permission_classes = [CanManageSchedules]
    pagination_class = Pagination
    lookup_value_regex = r"[0-9]+"
    queryset = ScheduleRun.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        schedule = None
        if params.get("schedule"):
            try:
                schedule = sel.schedule_get(
                    organization=self.request.organization, pk=int(params["schedule"])
                )
            except ValueError as exc:
                raise Http404 from exc
        return sel.runs_list(
            organization=self.request.organization,
            schedule=schedule,
            status=params.get("status", ""),
        )

    @extend_schema(
        summary="Run history",
        parameters=[
            OpenApiParameter("schedule", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ScheduleRun.Status.values),
        ],
        responses={200: RunSerializer(many=True), **errors(403, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One run", responses={200: RunSerializer, **errors(403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Download a run's file",
        # Not "format": DRF reads that query parameter as the response renderer.
        parameters=[OpenApiParameter("file_format", OpenApiTypes.STR, enum=[*FORMATS])],
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY), **errors(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        run = self.get_object()
        files = [f for f in run.files.all() if f.available]
        wanted = request.query_params.get("file_format")
        if wanted:
            files = [f for f in files if f.format == wanted]
        if not files:
            raise Http404("No kept file for this run (it failed, or the retention period is over).")
        found = files[0]
        try:
            target = target_get(organization=request.organization, identifier=run.schedule.exporter)
        except FerryError:
            target = None  # the exporter is gone; the kept file stays reachable
        if target is not None:
            # As on the pages: a PDF needs the exporter's PDF permission.
            target.exporter.permission_check(membership=membership_of(request), format=found.format)
        return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)

    @extend_schema(
        summary="Runs, success rate and average duration",
        parameters=[OpenApiParameter("schedule", OpenApiTypes.INT)],
        responses={200: StatisticsSerializer, **errors(403, 404)},
    )
    @action(detail=False, methods=["get"])
    def statistics(self, request):
        schedule = None
        if request.query_params.get("schedule"):
            try:
                pk = int(request.query_params["schedule"])
            except ValueError as exc:
                raise Http404 from exc
            schedule = sel.schedule_get(organization=request.organization, pk=pk)
        return Response(
            sel.schedule_statistics(organization=request.organization, schedule=schedule)
        )

    @extend_schema(
        summary="The 20 latest runs", responses={200: RunSerializer(many=True), **errors(403)}
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def recent(self, request):
        runs = sel.runs_list(organization=request.organization)[:20]
        return Response(RunSerializer(runs, many=True).data)


class NotificationSettingsView(APIView):
    permission_classes = [CanManageSchedules]
    # A JSON object, as the schema says: a form body would arrive as lists of strings.
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="schedule_notifications_get",
        summary="Notification settings of your organization",
        responses={200: NotificationSettingsSerializer, **errors(403)},
        tags=["schedules"],
    )
    def get(self, request):
        found = svc.notification_settings_get(organization=request.organization)
        return Response(NotificationSettingsSerializer(found).data)

    @extend_schema(
        operation_id="schedule_notifications_put",
        summary="Change the notification settings",
        request=NotificationSettingsSerializer,
        responses={200: NotificationSettingsSerializer, **errors(403, 400)},
        tags=["schedules"],
    )
    def put(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        found = svc.notification_settings_update(
            organization=request.organization, user=request.user, data=dict(request.data)
        )
        return Response(NotificationSettingsSerializer(found).data)
