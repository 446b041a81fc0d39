from django.db import migrations, models


class Migration(migrations.Migration):
    """A created change holds the primary keys of all the records one batch created (ranges);
    rows written before keep standing for their ``object_id`` alone, so no data moves."""

    dependencies = [
        ("wizard", "0006_importrow_merged"),
    ]

    operations = [
        migrations.AddField(
            model_name="importchange",
            name="ids",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
