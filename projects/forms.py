from __future__ import annotations

from django import forms

from .models import Role


class ProjectNameForm(forms.Form):
    name = forms.CharField(max_length=80, label="Project name", strip=True)


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR, label="Role")
    days = forms.IntegerField(min_value=1, max_value=30, initial=7, label="Valid for (days)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")
