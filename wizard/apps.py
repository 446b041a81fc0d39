from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "wizard"
    verbose_name = "Import"

    def ready(self) -> None:
        from jobs.models import DataJob
        from jobs.selectors import job_summary_presenter_register
        from wizard.summary import import_summary_items

        # The job page reads an import's summary with the wizard's words.
        job_summary_presenter_register(job_type=DataJob.Type.IMPORT, presenter=import_summary_items)
