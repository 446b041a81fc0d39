"""REST API for the inventory sync: connections, their available rows, sync runs and their log.

The same services and selectors as the sync pages; every object is scoped to the request's
organization (another organization's connection or run is a 404) and needs
``can_manage_sync`` (403). Starting a sync answers 202 with the job, as the import API does.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import MANAGE_SYNC
from api.exceptions import ApiError
from api.pagination import Pagination
from api.permissions import IsOrganizationMember, membership_of
from api.serializers.common import ErrorSerializer
from api.serializers.jobs import DataJobSerializer
from api.views.common import errors
from sync import selectors as sel
from sync import services as svc
from sync.errors import SyncBusy
from sync.external import json_value
from sync.models import INTERVAL_MAX, INTERVAL_MIN, SyncConnection, SyncRun


class CanManageSync(IsOrganizationMember):
    message = f"You do not have the permission {MANAGE_SYNC}."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return membership_of(request).has_perm(MANAGE_SYNC)


# --- serializers -----------------------------------------------------------------------------


class ConnectionSerializer(serializers.ModelSerializer):
    source = serializers.CharField(
        source="source_label",
        read_only=True,
        help_text="The SQLite path in the sync folder, or the URL without its password.",
    )
    linked = serializers.SerializerMethodField()
    running_job = serializers.IntegerField(source="running_job_id", read_only=True)

    class Meta:
        model = SyncConnection
        fields = [
            "id",
            "name",
            "kind",
            "source",
            "table",
            "key_column",
            "filter_column",
            "filter_value",
            "mapping",
            "options",
            "transforms",
            "stock",
            "sold_statuses",
            "writeback",
            "writeback_username",
            "auto_sync",
            "interval_minutes",
            "last_sync_at",
            "next_sync_at",
            "running_job",
            "linked",
            "created_at",
        ]
        read_only_fields = fields

    def get_linked(self, obj) -> int:
        return obj.links.filter(state="linked").count()


class MappingPartsSerializer(serializers.Serializer):
    """The mapping parts a client may set; their meaning is checked by the sync's service."""

    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="External column → products field; the key column maps to sku.",
    )
    options = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Per field: {"constant": …} or {"join": [columns], "join_with": " "}.',
    )
    transforms = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Per column: {"multiply": "0.001"}, {"date_format": "%d/%m/%Y"} or '
        '{"value_map": {"a": "b"}}.',
    )
    stock = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='{"quantity": column, "warehouse": column} or {} for no stock.',
    )
    sold_statuses = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        required=False,
        help_text='[["invoiced", "Sold"], ["delivered", "Delivered"]]: the last matching wins.',
    )


class ConnectionCreateSerializer(MappingPartsSerializer):
    name = serializers.CharField(max_length=100)
    path = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True,
        help_text="A SQLite file relative to the sync folder (FERRY_SYNC_ROOT).",
    )  # fmt: skip
    url = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True,
        help_text="postgresql://… or mysql://… (hosts the operator allows).",
    )  # fmt: skip
    table = serializers.CharField(max_length=128)
    key_column = serializers.CharField(max_length=128)
    filter_column = serializers.CharField(
        max_length=128, required=False, default="status", allow_blank=True
    )
    filter_value = serializers.CharField(
        max_length=200, required=False, default="In-stock", allow_blank=True
    )


class ConnectionUpdateSerializer(MappingPartsSerializer):
    auto_sync = serializers.BooleanField(required=False)
    interval_minutes = serializers.IntegerField(
        required=False, min_value=INTERVAL_MIN, max_value=INTERVAL_MAX
    )
    filter_column = serializers.CharField(max_length=128, required=False, allow_blank=True)
    filter_value = serializers.CharField(max_length=200, required=False, allow_blank=True)
    writeback = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="status/last_date/username/logs → external column ('' leaves it out).",
    )
    writeback_username = serializers.CharField(max_length=100, required=False)


class ConnectionTestSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    available = serializers.IntegerField()
    linked = serializers.IntegerField(source="total_linked")


class AvailableRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    state = serializers.ChoiceField(choices=["new", "changed", "linked", "sold"])
    values = serializers.DictField()


class AvailablePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.CharField())
    results = AvailableRowSerializer(many=True)


class SyncStartSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=svc.DIRECTIONS,
        default="both",
        help_text="both, import (import only) or export (write-back only).",
    )
    dry_run = serializers.BooleanField(default=False)
    keys = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Import only these external keys (selective import).",
    )
    limit = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class SyncRunSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name", read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "connection_name",
            "job",
            "direction",
            "dry_run",
            "automatic",
            "status",
            "started_at",
            "finished_at",
            "duration_seconds",
            "imported",
            "updated",
            "skipped",
            "written_back",
            "conflicts",
            "errors",
            "message",
            "details",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, obj) -> float | None:
        return round(obj.duration.total_seconds(), 3) if obj.duration else None


# --- views -----------------------------------------------------------------------------------


class ConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ConnectionSerializer
    permission_classes = [CanManageSync]
    pagination_class = Pagination
    lookup_value_regex = r"[0-9]+"
    queryset = SyncConnection.objects.none()

    def get_queryset(self):
        # Annotated (GROUP BY) querysets drop Meta.ordering: pages need one.
        return sel.connections_for(organization=self.request.organization).order_by("name", "pk")

    def get_object(self) -> SyncConnection:
        return sel.connection_get(organization=self.request.organization, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Your organization's sync connections",
        responses={200: ConnectionSerializer(many=True), **errors(403, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A sync connection", responses={200: ConnectionSerializer, **errors(403, 404)}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Register an external table (opened and reflected first)",
        request=ConnectionCreateSerializer,
        responses={201: ConnectionSerializer, **errors(403, 400)},
    )
    def create(self, request):
        body = ConnectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conn = svc.connection_create(organization=request.organization, **body.validated_data)
        return Response(ConnectionSerializer(conn).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a connection's settings or mapping (parts not sent stay as they are)",
        request=ConnectionUpdateSerializer,
        responses={200: ConnectionSerializer, **errors(403, 400, 404)},
    )
    def partial_update(self, request, pk=None):
        conn = self.get_object()
        body = ConnectionUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        conn = svc.connection_update(connection=conn, **body.validated_data)
        return Response(ConnectionSerializer(conn).data)

    @extend_schema(
        summary="Open the table read-only: its columns and how many rows are available",
        request=None,
        responses={200: ConnectionTestSerializer, **errors(403, 400, 404)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        result = svc.connection_test(connection=self.get_object())
        return Response(ConnectionTestSerializer(result).data)

    @extend_schema(
        summary="The available rows, each new, changed, linked or sold",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search the text columns"),
            OpenApiParameter("page", OpenApiTypes.INT, description=f"{sel.PAGE_SIZE} a page"),
        ],
        responses={200: AvailablePageSerializer, **errors(403, 400, 404)},
    )
    @action(detail=True, methods=["get"])
    def available(self, request, pk=None):
        try:
            page_number = int(request.query_params.get("page") or 1)
        except ValueError:
            page_number = 1
        page = sel.available_page(
            connection=self.get_object(),
            search=request.query_params.get("q", ""),
            page=page_number,
        )
        if page.error:
            raise ApiError(page.error)
        body = {
            "count": page.total,
            "page": page.page,
            "pages": page.pages,
            "columns": page.columns,
            "results": [
                {
                    "key": item["key"],
                    "state": item["state"],
                    "values": {
                        c: json_value(v) for c, v in zip(page.columns, item["values"], strict=True)
                    },
                }
                for item in page.items
            ],
        }
        return Response(AvailablePageSerializer(body).data)

    @extend_schema(
        summary="Sync now (or a dry run, import or write-back only, chosen keys): a job",
        request=SyncStartSerializer,
        responses={
            202: DataJobSerializer,
            **errors(403, 400, 404),
            409: OpenApiResponse(
                ErrorSerializer, description="A sync of this connection is running"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        conn = self.get_object()
        body = SyncStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = svc.sync_start(connection=conn, user=request.user, **body.validated_data)
        except SyncBusy as exc:
            raise ApiError(exc.message, status_code=status.HTTP_409_CONFLICT) from exc
        return Response(
            DataJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SyncRunSerializer
    permission_classes = [CanManageSync]
    pagination_class = Pagination
    lookup_value_regex = r"[0-9]+"
    queryset = SyncRun.objects.none()

    def get_queryset(self):
        runs = SyncRun.objects.filter(organization=self.request.organization).select_related(
            "connection"
        )
        connection = self.request.query_params.get("connection")
        if connection:
            if not connection.isdigit():
                raise ApiError("connection must be a connection id.")
            runs = runs.filter(connection_id=int(connection))
        return runs

    @extend_schema(
        summary="Sync runs, newest first",
        parameters=[OpenApiParameter("connection", OpenApiTypes.INT, description="Only this one")],
        responses={200: SyncRunSerializer(many=True), **errors(403, 400, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A sync run", responses={200: SyncRunSerializer, **errors(403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
