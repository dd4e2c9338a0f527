"""The site's own static pictures: the favicon (and /favicon.ico), the course placeholder and
the script that swaps a course picture that fails to load for it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import CourseFactory, group_learner

pytestmark = pytest.mark.django_db

STATIC = "/" + settings.STATIC_URL.lstrip("/")
SVG = "{http://www.w3.org/2000/svg}svg"


def static_svg(name: str) -> ET.Element:
    found = finders.find(name)
    assert found, f"{name} is not a static file"
    root = ET.fromstring(Path(found).read_bytes())
    assert root.tag == SVG
    return root


def served(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def test_favicon_ico_does_not_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302)
    assert response["Location"] == f"{STATIC}img/favicon.svg"
    icon = served(client, response["Location"])
    assert icon["Content-Type"].startswith("image/svg+xml")
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert ET.fromstring(body).tag == SVG


def test_pages_link_the_svg_favicon(client):
    html = client.get(reverse("login")).content.decode()
    (link,) = re.findall(r'<link rel="icon"[^>]*>', html)
    assert f'href="{STATIC}img/favicon.svg"' in link
    assert 'type="image/svg+xml"' in link
    static_svg("img/favicon.svg")


def test_the_fallback_script_and_the_placeholder_are_static_files_of_every_page(client):
    html = client.get(reverse("login")).content.decode()
    script = f'<script src="{STATIC}js/img-fallback.js" defer></script>'
    assert script in html
    assert html.index("bootstrap.bundle.min.js") < html.index(script)
    source = Path(finders.find("js/img-fallback.js")).read_text()
    served(client, f"{STATIC}js/img-fallback.js")
    assert "course-placeholder.svg" in source
    assert "img[data-fallback]" in source
    assert re.search(r'addEventListener\(\s*"error",[\s\S]*?\},\s*true\s*\)', source)  # capture
    assert "img.complete" in source and "naturalWidth" in source  # failed before it ran
    root = static_svg("img/course-placeholder.svg")
    assert (root.get("width"), root.get("height")) == ("480", "270")
    served(client, f"{STATIC}img/course-placeholder.svg")


def test_catalog_course_pictures_opt_in_to_the_fallback(client):
    course = CourseFactory(image="https://img.example.com/gone.jpg")
    client.force_login(group_learner(course.group))
    html = client.get(reverse("catalog:learner_catalog")).content.decode()
    (img,) = re.findall(r'<img src="https://img.example.com/gone.jpg"[^>]*>', html)
    assert "data-fallback" in img
