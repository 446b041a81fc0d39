import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_datajob_type_system"),
    ]

    operations = [
        migrations.AddField(
            model_name="datajob",
            name="target_label",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="datajob",
            name="task_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="datajob",
            name="task_kwargs",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="datajob",
            name="on_stall",
            field=models.CharField(
                choices=[
                    ("rerun", "Run again from the start"),
                    ("resume", "Resume from the last committed batch"),
                    ("fail", "Mark failed"),
                ],
                default="rerun",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="datajob",
            name="attempt",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="datajob",
            name="worker",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="datajob",
            name="checkpoint",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, unique=True)),
                ("hostname", models.CharField(max_length=200)),
                ("pid", models.PositiveIntegerField()),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "seen_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
            ],
            options={"verbose_name": "worker heartbeat", "ordering": ["-seen_at"]},
        ),
    ]
