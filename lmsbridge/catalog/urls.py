"""Learner-facing catalog URLs (mounted at /catalog/: the catalog, a course's page, START),
plus the group admin's catalog pages.

`group_urlpatterns` are relative to ``groups/<slug>/``: `integrations/urls.py` mounts them there
(the project urls include only that one module under the group prefix), so their names live in
the ``integrations`` namespace: ``integrations:group_catalog``, ``integrations:course_dashboard``,
``integrations:group_dashboard``.
"""

from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.learner_catalog, name="learner_catalog"),
    path("courses/<int:course_id>/", views.course_page, name="course_page"),
    path("courses/<int:course_id>/start/", views.course_start, name="course_start"),
]

group_urlpatterns = [
    path("catalog/", views.group_catalog, name="group_catalog"),
    path("courses/<int:course_id>/", views.course_dashboard, name="course_dashboard"),
    path("dashboard/", views.group_dashboard, name="group_dashboard"),
]
