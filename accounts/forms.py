from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django import forms
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.utils import timezone

from . import selectors
from .models import Profile, TokenScope

DISPLAY_NAME_MAX = Profile._meta.get_field("display_name").max_length


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text="Shown beside your work. Leave empty to show your username.",
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"]
        if refusal := selectors.display_name_refusal(name, user_id=self.user.pk):
            raise forms.ValidationError(refusal)
        return name


class SignupForm(UserCreationForm):
    """Username, display name, email and a password typed twice (Django's validators apply).

    Only validates what the details look like. Whether another account has them is checked by
    `services.invitation_accept` (or `services.user_signup`) after the invitation is claimed, and
    comes back through `refuse`: the form alone tells nobody who has an account."""

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

    def clean_username(self) -> str:
        # Not UserCreationForm's "already exists" check: see the class docstring.
        return self.cleaned_data.get("username")

    def validate_unique(self) -> None:
        """Skipped for the same reason (ModelForm would look the username up here)."""

    def refuse(self, taken: Mapping[str, str]) -> None:
        """Show the details the services found taken (`AccountDetailsTaken.errors`)."""
        for field, message in taken.items():
            self.add_error(field if field in self.fields else None, message)

    def save(self, commit: bool = True):
        raise NotImplementedError("Accounts are created by accounts.services, not by the form.")


class InvitationForm(forms.Form):
    email = forms.EmailField(
        required=False, help_text="Optional: a note of who the link is for. It is not sent."
    )


class AdminProfileForm(forms.ModelForm):
    """The profile inline of the admin's user page: the same display-name rule as everywhere."""

    class Meta:
        model = Profile
        fields = ("display_name",)

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if refusal := selectors.display_name_refusal(name, user_id=self.instance.user_id):
            raise forms.ValidationError(refusal)
        return name


class AdminUserChangeForm(UserChangeForm):
    """The admin's user form: an active account's e-mail address is nobody else's (the database
    refuses it too; this says so in the form). Also checked when an account is reactivated.
    A new username must not be someone else's display name."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if password := self.fields.get("password"):
            # The read-only password has no input, so the admin gives its help text no id while
            # the widget points aria-describedby at one. Its "Reset password" button says enough.
            password.help_text = ""

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if refusal := selectors.username_refusal(username, user_id=self.instance.pk):
            raise forms.ValidationError(refusal)
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        email = cleaned.get("email") or ""
        is_active = cleaned.get("is_active", self.instance.is_active)
        if is_active and selectors.email_in_use(email, exclude_user_id=self.instance.pk):
            self.add_error("email" if "email" in self.fields else None, selectors.EMAIL_TAKEN)
        return cleaned


# How long a new API token lasts, in days (0: until revoked).
TOKEN_LIFETIMES = [(30, "30 days"), (90, "90 days"), (365, "A year"), (0, "Until I revoke it")]


class TokenForm(forms.Form):
    """A new personal access token: its name, scopes, project and lifetime."""

    name = forms.CharField(
        max_length=80,
        label="Token name",
        help_text="What it is for, e.g. “nightly catalogue script”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        initial=[TokenScope.READ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one scope."},
    )
    project = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Project",
        help_text="Limit the token to one project, or leave it with all of your rights.",
    )
    lifetime = forms.TypedChoiceField(
        coerce=int, choices=TOKEN_LIFETIMES, initial=90, label="Expires after"
    )

    def __init__(self, *args, projects: Iterable[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "Every project and personal work"), *projects]

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data["lifetime"]
        return timezone.now() + timedelta(days=days) if days else None
