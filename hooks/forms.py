from __future__ import annotations

import ipaddress
from typing import Any

import httpx
from django import forms
from django.conf import settings

from wavespeed.downloads import is_public_address

from .models import SUBSCRIBABLE, Format

MINE = "mine"


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where Darkroom POSTs each event: https, on the public internet.",
    )
    description = forms.CharField(label="Description", max_length=100, required=False)
    events = forms.MultipleChoiceField(
        label="Events", choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple
    )
    format = forms.ChoiceField(
        label="Format",
        choices=Format.choices,
        initial=Format.JSON,
        widget=forms.RadioSelect,
        help_text="Slack-compatible: a readable message for an incoming-webhook URL.",
    )

    def __init__(self, *args: Any, allow_private: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private = allow_private or settings.DARKROOM_HOOKS_ALLOW_PRIVATE

    def clean_url(self) -> str:
        """What can be told without DNS (each delivery checks the resolved address again)."""
        url: str = self.cleaned_data["url"]
        parsed = httpx.URL(url)
        if parsed.scheme != "https" and not self.allow_private:
            raise forms.ValidationError("Use an https URL.")
        if parsed.userinfo:
            raise forms.ValidationError("Leave the user name and password out of the URL.")
        host = parsed.host
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if not self.allow_private and (
            (literal is not None and not is_public_address(str(literal)))
            or host == "localhost"
            or host.endswith(".localhost")
        ):
            raise forms.ValidationError("Only addresses on the public internet can be reached.")
        return url


class NewEndpointForm(EndpointForm):
    owner = forms.ChoiceField(
        label="For",
        help_text="A project's events (its owners manage the endpoint), or your own runs and "
        "budget outside projects.",
    )

    field_order = ["owner", "url", "description", "events", "format"]

    def __init__(self, *args: Any, projects: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projects = {str(p.uuid): p for p in projects}
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [
            (MINE, "My own runs"),
            *[(str(p.uuid), f"Project {p.name}") for p in projects],
        ]

    def project(self) -> Any:
        return self.projects.get(self.cleaned_data["owner"])
