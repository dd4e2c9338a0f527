"""REST API v1 of the catalog: groups, learners, courses and statistics."""

from django.urls import path

from catalog.api import catalog, groups, learners

urlpatterns = [
    path("groups/", groups.GroupListView.as_view(), name="group-list"),
    path("groups/<slug:slug>/", groups.GroupDetailView.as_view(), name="group-detail"),
    path("groups/<slug:slug>/courses/", catalog.GroupCourseListView.as_view(), name="courses"),
    path("groups/<slug:slug>/stats/", catalog.GroupStatisticListView.as_view(), name="stats"),
    path("learners/", learners.LearnerListView.as_view(), name="learner-list"),
]
