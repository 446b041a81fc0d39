"""DataTemplate now lives in the library app (library.0001): remove it from the wizard's state
only. The table stays where it is, under its old name, with every row."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wizard", "0002_importchange_importrow"),
        ("library", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DataTemplate")],
            database_operations=[],
        ),
    ]
