from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts.models import Organization
from accounts.permissions import Role
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


# --- members page and invitations (accounts/members.py, accounts/invitations.py) -----------


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.CHOICES, initial=Role.OPS)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.CHOICES)


class MemberPermissionsForm(forms.Form):
    """The codes ticked on the members page; the choices are the whole catalogue."""

    codes = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = [(c, c) for c in sorted(catalogue.all_codes())]


class InvitationAcceptForm(forms.Form):
    """A new account for an invited person: their username and password."""

    username = UsernameField(
        label="Username",
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only. You log in with it.",
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model()._default_manager.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; choose another one.")
        return username

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", "The two passwords differ.")
        elif one:
            user = get_user_model()(username=cleaned.get("username", ""), email=self.email)
            try:
                password_validation.validate_password(one, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
