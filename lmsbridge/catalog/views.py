"""Learner-facing pages: the catalog of the learner's groups and START."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Course
from .selectors import catalog_group_ids_for_user


@login_required
def learner_catalog(request: HttpRequest) -> HttpResponse:
    group_ids = catalog_group_ids_for_user(user=request.user)
    courses = (
        Course.objects.filter(group_id__in=group_ids, status=Course.Status.ACTIVE)
        .only("title", "image", "duration_minutes", "authors", "kind", "lang")
        .order_by("title", "id")
    )
    query = request.GET.get("q", "").strip()
    if query:
        courses = courses.filter(title__icontains=query)
    page = Paginator(courses, 24).get_page(request.GET.get("page"))
    return render(request, "catalog/learner_catalog.html", {"page": page, "q": query})
