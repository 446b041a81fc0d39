from django.urls import path

from wizard.views import (
    drafts,
    mapping,
    multi,
    preview,
    problems,
    rerun,
    results,
    run,
    settings,
    upload,
)

app_name = "wizard"
urlpatterns = [
    path("", upload.start, name="start"),
    path("several/", multi.multi_upload, name="multi"),
    path("several/<int:job_id>/", multi.multi_review, name="multi_review"),
    path("unfinished/", drafts.drafts, name="drafts"),
    path("unfinished/<int:job_id>/discard/", drafts.discard, name="draft_discard"),
    path("<int:job_id>/", upload.resume, name="resume"),
    path("<int:job_id>/map/", mapping.map_step, name="map"),
    path("<int:job_id>/map/template/", mapping.save_template, name="save_template"),
    path("<int:job_id>/preview/", preview.preview, name="preview"),
    path("<int:job_id>/preview/status/", preview.preview_status, name="preview_status"),
    path("<int:job_id>/preview/rows/<int:row_number>/", preview.cell_edit, name="cell_edit"),
    path("<int:job_id>/preview/references/", preview.references, name="references"),
    path(
        "<int:job_id>/preview/references/options/",
        preview.reference_options,
        name="reference_options",
    ),
    path("<int:job_id>/preview/problems/fix/", problems.problem_fix, name="problem_fix"),
    path("<int:job_id>/preview/settings/", settings.preview_setting, name="preview_setting"),
    path("<int:job_id>/run/", run.run, name="run"),
    path("<int:job_id>/run/status/", run.run_status, name="run_status"),
    path("<int:job_id>/cancel/", run.cancel, name="cancel"),
    path("<int:job_id>/results/", results.results, name="results"),
    path("<int:job_id>/undo/", results.undo, name="undo"),
    path("<int:job_id>/failed-rows/", rerun.failed_rows_upload, name="failed_rows_upload"),
]
