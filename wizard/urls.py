from django.urls import path

from wizard.views import drafts, problems, rerun, settings, steps

app_name = "wizard"
urlpatterns = [
    path("", steps.start, name="start"),
    path("unfinished/", drafts.drafts, name="drafts"),
    path("unfinished/<int:job_id>/discard/", drafts.discard, name="draft_discard"),
    path("<int:job_id>/", steps.resume, name="resume"),
    path("<int:job_id>/map/", steps.map_step, name="map"),
    path("<int:job_id>/map/template/", steps.save_template, name="save_template"),
    path("<int:job_id>/preview/", steps.preview, name="preview"),
    path("<int:job_id>/preview/status/", steps.preview_status, name="preview_status"),
    path("<int:job_id>/preview/rows/<int:row_number>/", steps.cell_edit, name="cell_edit"),
    path("<int:job_id>/preview/references/", steps.references, name="references"),
    path(
        "<int:job_id>/preview/references/options/",
        steps.reference_options,
        name="reference_options",
    ),
    path("<int:job_id>/preview/problems/fix/", problems.problem_fix, name="problem_fix"),
    path("<int:job_id>/preview/settings/", settings.preview_setting, name="preview_setting"),
    path("<int:job_id>/run/", steps.run, name="run"),
    path("<int:job_id>/run/status/", steps.run_status, name="run_status"),
    path("<int:job_id>/cancel/", steps.cancel, name="cancel"),
    path("<int:job_id>/results/", steps.results, name="results"),
    path("<int:job_id>/undo/", steps.undo, name="undo"),
    path("<int:job_id>/failed-rows/", rerun.failed_rows_upload, name="failed_rows_upload"),
]
