"""Extra panels of the course dashboard, contributed by other apps (the catalog knows no
connector: a learning-platform connection registers what it knows of a course here).

A provider is called with the course and returns `CoursePanel`s: a template with its context,
and optionally one more column of the learners table (`column_label`, and `column_values`
called with the e-mails of the page shown, so a large course costs one bounded query a page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .models import Course


@dataclass(frozen=True)
class CoursePanel:
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    column_label: str = ""
    column_values: Callable[[Sequence[str]], Mapping[str, str]] | None = None


PanelProvider = Callable[[Course], list[CoursePanel]]
_providers: list[PanelProvider] = []


def register_course_panels(provider: PanelProvider) -> None:
    """Add a provider (idempotent: an app's `ready()` may run twice in tests)."""
    if provider not in _providers:
        _providers.append(provider)


def course_panels(course: Course) -> list[CoursePanel]:
    return [panel for provider in _providers for panel in provider(course)]
