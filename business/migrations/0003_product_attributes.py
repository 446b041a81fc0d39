from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("business", "0002_document_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="attributes",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
