"""Checkpoint and resume: a skip-invalid run commits each batch with a note of how far it got,
so a run whose worker died goes on from its last committed batch (jobs.services.job_recover)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

from django.utils import timezone

from jobs.errors import JobTakenOver
from jobs.models import DataJob, JobLogEntry
from jobs.services import job_log
from jobs.writer_process import queryset_update
from wizard.engine.validation import Row, rows_parse


class CheckpointMixin:
    """The part of ``ImportRun`` that saves checkpoints and skips committed rows on resume."""

    @property
    def checkpointing(self) -> bool:
        """Skip-invalid real runs stand batch by batch, so they can resume after a crash."""
        return not self.simulate and not self.atomic and self.preview_job is None

    def checkpoint_save(self, rows: list[Row]) -> None:
        self.checkpoint_write(self.checkpoint_state(rows))

    def checkpoint_state(
        self, rows: list[Row], *, counts: dict | None = None, unresolved: dict | None = None
    ) -> dict:
        """How far the run got, once ``rows`` (the last batch) are written. ``counts`` and
        ``unresolved``: the run's, less what a batch prepared but not written yet added
        (see pipeline.py)."""
        c = self.counts if counts is None else counts
        unresolved = self.unresolved if unresolved is None else unresolved
        job_counts = {
            "processed": self.processed,
            "succeeded": c.get("created", 0) + c.get("updated", 0),
            "failed": c.get("failed", 0),
            "skipped": c.get("skipped", 0) + c.get("merged", 0),
        }
        return {
            "rows": self.processed,
            "last_row": rows[-1].number,
            "counts": dict(c),
            "unresolved": {f: dict(t) for f, t in unresolved.items() if t},
            "references_created": dict(self.references_created),
            "errors": list(self.errors_sample),
            "job_counts": job_counts,
        }

    def batch_log_and_checkpoint(self, entries: list[dict], checkpoint: dict) -> None:
        """What commits with a batch its writer wrote: the batch's row log and its checkpoint."""
        if entries:
            job_log(job=self.job, entries=entries)
        self.checkpoint_write(checkpoint)

    def checkpoint_write(self, checkpoint: dict) -> None:
        # Only while this run's attempt is the job's: if the job was given to another worker
        # (this one was taken for dead), the batch rolls back instead of being written twice.
        queryset_update(
            DataJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt),
            {"checkpoint": checkpoint, "heartbeat_at": timezone.now(), **checkpoint["job_counts"]},
            refused=JobTakenOver(),
        )

    def _resume_skip(self, batches: Iterator[list[Row]]) -> Iterator[list[Row]]:
        """Skip the rows the checkpoint says are committed; yield the rest.

        The skipped rows are parsed again (no database work) so that an in-file duplicate of
        one of them is still reported as such, and their failed rows go to the failed-rows
        file again, with the messages the row log holds for them.
        """
        done = int(self.resume.get("rows") or 0)
        self.counts = Counter(self.resume.get("counts") or {})
        self.unresolved = defaultdict(
            Counter, {f: Counter(t) for f, t in (self.resume.get("unresolved") or {}).items()}
        )
        self.references_created = Counter(self.resume.get("references_created") or {})
        self.errors_sample = list(self.resume.get("errors") or [])
        self.processed = done
        replayed = 0
        for batch in batches:
            if replayed >= done:
                yield batch
                continue
            take = min(len(batch), done - replayed)
            self._replay(batch[:take])
            replayed += take
            if take < len(batch):
                yield batch[take:]

    def replay_parse(self, rows: list[Row]) -> None:
        """Parse committed rows again and note their keys, as ``process`` would, without any
        database work (a run that checks keys its own way, such as orders', overrides it)."""
        rows_parse(self.plans, rows, self.width)
        self.keys_check(rows, replay=True)

    def _replay(self, rows: list[Row]) -> None:
        self.replay_parse(rows)
        if self.failed is None:
            return
        messages: dict[int, list[str]] = defaultdict(list)
        logged = (
            JobLogEntry.objects.filter(
                job=self.job,
                level=JobLogEntry.Level.ERROR,
                row_number__gte=rows[0].number,
                row_number__lte=rows[-1].number,
            )
            .order_by("row_number", "pk")
            .values_list("row_number", "message")
        )
        for number, message in logged:
            messages[number].append(message)
        for row in rows:
            texts = messages.get(row.number)
            if texts:
                self.failed.add(
                    row.raw, "; ".join(t.split(": ", 1)[-1] for t in texts), number=row.number
                )
