"""Forms of the integration pages that are not a provider's own (each provider's settings form
lives in its folder: `providers/<name>/forms.py`)."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.models import SyncRun


def _with_blank(choices: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


class RunFilterForm(forms.Form):
    """The filter bar of the sync history (GET); invalid values are simply ignored."""

    kind = forms.ChoiceField(required=False, choices=_with_blank(SyncRun.Kind.choices, "Any kind"))
    status = forms.ChoiceField(
        required=False, choices=_with_blank(SyncRun.Status.choices, "Any status")
    )
    trigger = forms.ChoiceField(
        required=False, choices=_with_blank(SyncRun.Trigger.choices, "Any trigger")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm w-auto"

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"kind": "", "status": "", "trigger": ""}
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}
