"""The course dashboard's learning-platform panel: what the group's platform reports of a
synced course it matched by title (Coursebase's `courses` and `learners` reports), shown beside
Udemy's figures. Registered in `IntegrationsConfig.ready` (the catalog app knows no connector).
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext

from catalog.models import Course
from catalog.panels import CoursePanel
from integrations.selectors import platforms as selectors


def platform_course_panels(course: Course) -> list[CoursePanel]:
    panels = []
    for platform_course in selectors.platform_courses_for_course(course=course):
        label = platform_course.connection.get_kind_display()
        panels.append(
            CoursePanel(
                template="platforms/_course_panel.html",
                context={"platform": label, "platform_course": platform_course},
                column_label=gettext("%(platform)s progress") % {"platform": label},
                column_values=partial(_progress, platform_course),
            )
        )
    return panels


def _progress(platform_course, emails) -> dict[str, str]:
    values = selectors.platform_progress_for(platform_course=platform_course, emails=list(emails))
    return {email: "—" if p is None else f"{p:g} %" for email, p in values.items()}
