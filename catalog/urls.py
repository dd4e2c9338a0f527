"""The catalog app's pages, in its own namespace (``catalog:``), mounted at the site's root by the
project's URLs: the learner's side under ``catalog/`` (the catalog, a course's page, START) and a
group admin's content pages under ``groups/<slug>/`` (the group's catalog, a course's dashboard, the
group's dashboard), beside the integrations app's settings pages of the same group.
"""

from django.urls import include, path

from . import views

app_name = "catalog"

learner_urlpatterns = [
    path("", views.learner_catalog, name="learner_catalog"),
    path("courses/<int:course_id>/", views.course_page, name="course_page"),
    path("courses/<int:course_id>/start/", views.course_start, name="course_start"),
]

group_urlpatterns = [
    path("catalog/", views.group_catalog, name="group_catalog"),
    path("courses/<int:course_id>/", views.course_dashboard, name="course_dashboard"),
    path("dashboard/", views.group_dashboard, name="group_dashboard"),
]

urlpatterns = [
    path("catalog/", include(learner_urlpatterns)),
    path("groups/<slug:slug>/", include(group_urlpatterns)),
]
