from __future__ import annotations

from django import forms

from accounts.models import Organization
from accounts.services import LOGO_MAX_BYTES, LogoRejected, logo_sniff


class OrganizationSettingsForm(forms.ModelForm):
    logo_upload = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG, JPEG or SVG, up to 1 MB. Printed at the top of invoices and reports.",
    )
    logo_remove = forms.BooleanField(label="Remove the current logo", required=False)

    class Meta:
        model = Organization
        fields = [
            "name",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
            "vat_number",
            "email",
            "phone",
            "website",
            "currency",
            "locale",
        ]

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 1 MB.")
        head = upload.read(LOGO_MAX_BYTES + 1)
        upload.seek(0)
        try:
            self.cleaned_data["logo_kind"] = logo_sniff(head)
        except LogoRejected as exc:
            raise forms.ValidationError(exc.message) from exc
        return upload
