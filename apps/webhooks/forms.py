"""The webhook form on the profile pages; validation lives in the services."""

from __future__ import annotations

from django import forms

from apps.events.models import Event
from apps.projects.models import Project


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Payload URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://ci.example.org/patchwork-hook"}),
        help_text="Events are POSTed here as JSON, signed with the webhook's secret.",
    )
    description = forms.CharField(max_length=255, required=False)
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected: every project.",
    )
    categories = forms.MultipleChoiceField(
        label="Events",
        choices=Event.CATEGORIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected: every event.",
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Send events to this webhook."
    )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Show a service's ValidationError on the matching fields."""
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
