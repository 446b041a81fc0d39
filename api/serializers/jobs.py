"""A job as the API shows it (status, counts, files, links), its row log and its undo."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import absolute_url
from jobs.models import DataJob, JobLogEntry


def job_file_kinds(job: DataJob) -> dict[str, str]:
    """File kind → download name, for the files this job has."""
    out: dict[str, str] = {}
    if job.input_file:
        out["input"] = job.input_filename or job.input_file.name.rsplit("/", 1)[-1]
    if job.output_file:
        out["output"] = job.output_filename or job.output_file.name.rsplit("/", 1)[-1]
    files = job.summary.get("files") if isinstance(job.summary, dict) else None
    if isinstance(files, dict):
        for kind, entry in files.items():
            if isinstance(entry, dict) and entry.get("name"):
                out[kind] = entry.get("filename") or entry["name"].rsplit("/", 1)[-1]
    return out


class JobFileSerializer(serializers.Serializer):
    kind = serializers.CharField()
    filename = serializers.CharField()
    url = serializers.URLField()


class JobLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    log = serializers.URLField()
    cancel = serializers.URLField()
    undo = serializers.URLField(allow_null=True)
    download = serializers.URLField(allow_null=True)
    input = serializers.URLField(allow_null=True)
    failed_rows = serializers.URLField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(allow_null=True)
    processed = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class DataJobSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField(source="pk", read_only=True)
    url = serializers.SerializerMethodField()
    type = serializers.CharField(source="job_type", read_only=True)
    resource = serializers.CharField(
        source="target", read_only=True, help_text="The resource name or report identifier."
    )
    progress = serializers.IntegerField(source="percent", read_only=True, help_text="0–100.")
    counts = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    stalled = serializers.BooleanField(source="is_stalled", read_only=True)
    error = serializers.CharField(source="error_message", read_only=True)
    user = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = DataJob
        fields = [
            "job_id",
            "url",
            "type",
            "status",
            "resource",
            "format",
            "progress",
            "counts",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "stalled",
            "cancel_requested",
            "error",
            "user",
            "summary",
            "files",
            "links",
        ]
        read_only_fields = fields

    def _request(self):
        return self.context.get("request")

    def _job_url(self, job, suffix: str = "") -> str:
        """``…/api/v1/data-jobs/<id>/<suffix>``: one reverse() per response, not eight per job."""
        base = self.context.get("_jobs_base")
        if base is None:
            base = self.context["_jobs_base"] = absolute_url(self._request(), "api:datajob-list")
        return f"{base}{job.pk}/{suffix}"

    def get_url(self, job) -> str:
        return self._job_url(job)

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job) -> dict[str, Any]:
        return {
            "total": job.total,
            "processed": job.processed,
            "succeeded": job.succeeded,
            "failed": job.failed,
            "skipped": job.skipped,
        }

    def to_representation(self, job):
        data = super().to_representation(job)
        if isinstance(data.get("summary"), dict) and "files" in data["summary"]:
            # Storage paths are internal; "files" and "links" give the download URLs instead.
            data["summary"] = {k: v for k, v in data["summary"].items() if k != "files"}
        return data

    def get_duration_seconds(self, job) -> float | None:
        duration = job.duration
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_user(self, job) -> str | None:
        return job.user.get_username() if job.user_id and job.user else None

    @extend_schema_field(JobFileSerializer(many=True))
    def get_files(self, job) -> list[dict[str, str]]:
        return [
            {"kind": kind, "filename": filename, "url": self._job_url(job, f"files/{kind}/")}
            for kind, filename in job_file_kinds(job).items()
        ]

    @extend_schema_field(JobLinksSerializer)
    def get_links(self, job) -> dict[str, str | None]:
        kinds = job_file_kinds(job)

        def file_link(suffix, kind):
            return self._job_url(job, suffix) if kind in kinds else None

        return {
            "self": self._job_url(job),
            "log": self._job_url(job, "log/"),
            "cancel": self._job_url(job, "cancel/"),
            "undo": self._job_url(job, "undo/") if job.job_type == DataJob.Type.IMPORT else None,
            "download": file_link("download/", "output"),
            "input": file_link("input/", "input"),
            "failed_rows": file_link("failed-rows/", "failed-rows"),
        }


class JobLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLogEntry
        fields = ["id", "row_number", "column", "value", "message", "level"]
        read_only_fields = fields


class UndoRequestSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also undo the records the plan leaves alone (changed since, or needed by "
        "records the import did not create); what cascades remove with them is in the plan.",
    )
    plan = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The digest of the plan you looked at (GET undo/): if the records changed "
        "since, nothing is undone and the answer is 409.",
    )


class UndoModelRowSerializer(serializers.Serializer):
    model = serializers.CharField()
    label = serializers.CharField()
    delete = serializers.IntegerField(help_text="Records deleted, including by cascade.")
    cascade = serializers.IntegerField(help_text="Of those, removed by a cascade.")
    restore = serializers.IntegerField()
    unlink = serializers.IntegerField(help_text="Records whose reference is cleared.")
    kept = serializers.IntegerField(help_text="Records left alone (conflicts).")


class UndoPlanSerializer(serializers.Serializer):
    force = serializers.BooleanField()
    delete = serializers.IntegerField()
    restore = serializers.IntegerField()
    kept = serializers.IntegerField()
    by_model = UndoModelRowSerializer(many=True)
    conflicts = serializers.ListField(child=serializers.CharField())
    digest = serializers.CharField()


class UndoResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    restored = serializers.IntegerField()
    conflicts = serializers.ListField(child=serializers.JSONField())
    by_model = UndoModelRowSerializer(many=True)
    job = DataJobSerializer()
