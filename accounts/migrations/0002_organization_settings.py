import accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="address_line1",
            field=models.CharField(blank=True, max_length=200, verbose_name="Address line 1"),
        ),
        migrations.AddField(
            model_name="organization",
            name="address_line2",
            field=models.CharField(blank=True, max_length=200, verbose_name="Address line 2"),
        ),
        migrations.AddField(
            model_name="organization",
            name="postal_code",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="organization",
            name="city",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="organization",
            name="country",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="organization",
            name="vat_number",
            field=models.CharField(blank=True, max_length=50, verbose_name="VAT / tax id"),
        ),
        migrations.AddField(
            model_name="organization",
            name="email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="E-mail"),
        ),
        migrations.AddField(
            model_name="organization",
            name="phone",
            field=models.CharField(blank=True, max_length=50),
        ),
        migrations.AddField(
            model_name="organization",
            name="website",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="organization",
            name="logo",
            field=models.FileField(
                blank=True, max_length=200, upload_to=accounts.models.organization_logo_path
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="currency",
            field=models.CharField(
                choices=accounts.models.CURRENCY_CHOICES, default="GBP", max_length=3
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="locale",
            field=models.CharField(
                choices=accounts.models.LOCALE_CHOICES, default="en-GB", max_length=10
            ),
        ),
    ]
