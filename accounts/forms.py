from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from .models import Profile

DISPLAY_NAME_MAX = Profile._meta.get_field("display_name").max_length


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text="Shown beside your work. Leave empty to show your username.",
    )


class SignupForm(UserCreationForm):
    """Username, display name, email and a password typed twice (Django's validators apply).

    Only validates: the account is created by `services.invitation_accept` or
    `services.user_signup`."""

    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text="Shown beside your work. Leave empty to show your username.",
    )

    field_order = ["username", "display_name", "email", "password1", "password2"]

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "Where password reset links are sent."

    def save(self, commit: bool = True):
        raise NotImplementedError("Accounts are created by accounts.services, not by the form.")


class InvitationForm(forms.Form):
    email = forms.EmailField(
        required=False, help_text="Optional: a note of who the link is for. It is not sent."
    )
