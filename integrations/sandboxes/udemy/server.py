"""The fake Udemy Business API: routes, Udemy's paging and auth, its error bodies and scenarios."""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ...providers.udemy.client import UdemyCredentials
from .. import base, exchange
from ..faults import Fault
from .data import UdemyData
from .images import (
    IMAGE_PATH_RE,
    IMAGE_PREFIX,
    SVG_CONTENT_TYPE,
    absolute_course,
    absolute_path,
    render_svg,
)

DEFAULT_PAGE_SIZE = 12  # Udemy's documented default
MAX_PAGE_SIZE = 100  # Udemy's documented maximum; larger requests are clamped
FAULT_DETAILS = {
    401: "Invalid username/password.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable.",
    504: "Gateway timeout.",
}
API_RE = re.compile(
    r"^/api-2\.0/organizations/(?P<org>[^/]+)/"
    r"(?P<endpoint>courses/list|learning-paths/list|analytics/user-course-activity)/?$"
)
ENDPOINT_DATA = {
    "courses/list": "courses",
    "learning-paths/list": "learning_paths",
    "analytics/user-course-activity": "activity",
}
# How a page's items are served: image paths of the data become URLs on the sandbox.
SERVED_AS = {"courses": absolute_course, "learning_paths": absolute_path}
# The course player: where a served course or learning path `url` points (a START in the demo
# lands here, on the sandbox's own host, since demo.udemy.com is not reachable offline).
PLAYER_RE = re.compile(r"^/(?P<kind>course|learning-paths)/(?P<key>[^/]+)/?$")
UDEMY_URL_RE = re.compile(r"^https://[^/]+\.udemy\.com(?P<path>/(?:course|learning-paths)/[^?#]*)")
DEMO_CONSOLE_URL = "http://127.0.0.1:8000/"  # `make run`'s console
IMAGE_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
DATA_SCENARIO_KEYS = {
    "add_courses",
    "update_courses",
    "retire_courses",
    "advance_progress",
    "enroll_only",
    "relaunch_completed",
    "ratio_scale",
}


class UdemySandbox(base.SandboxServer):
    """A fake Udemy Business API on a loopback port; see the package docstring."""

    data: UdemyData
    data_class = UdemyData

    name = "udemy-sandbox"
    api_prefix = "/api-2.0/"
    server_version = "UdemySandbox/1.0"
    access_log_level = logging.INFO  # the foreground command shows the requests
    scenario_keys = base.SCENARIO_KEYS | DATA_SCENARIO_KEYS

    def __init__(
        self,
        data: UdemyData | None = None,
        *,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",  # noqa: S107 - the sandbox's public demo value
        organization_name: str = "demo",
        organization_id: str = "4242",
        **kwargs: Any,
    ) -> None:
        super().__init__(data or UdemyData.generate(organization_name=organization_name), **kwargs)
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization_name = organization_name
        self.organization_id = str(organization_id)
        # Base of absolute next/previous links; tests point it elsewhere to fake a hostile page.
        self.link_base_url: str | None = None

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api-2.0/organizations/{self.organization_id}/"

    def credentials(self) -> UdemyCredentials:
        org = self.organization_name, self.organization_id
        return UdemyCredentials(self.client_id, self.client_secret, *org, self.api_base_url)

    # ------------------------------------------------------------------ the pictures

    def respond(
        self, method: str, target: str, headers: Any, raw: bytes, client: str = "127.0.0.1"
    ) -> exchange.Reply:
        """Pictures are answered apart from the API, like a CDN: no auth, and neither the request
        log, the fault queue nor the latency (a browser loading a catalog's images must not use
        up the faults queued for a sync)."""
        path = urlsplit(target).path
        if path.startswith(IMAGE_PREFIX):
            return self._image(method, path)
        if method == "GET" and (match := PLAYER_RE.match(path)):
            return self._player(match["kind"], match["key"], headers.get("Referer") or "")
        return super().respond(method, target, headers, raw, client)

    # ------------------------------------------------------------------ the course player

    def player_url(self, url: Any) -> Any:
        """A course's Udemy `url` as served: the same path on the sandbox's course player."""
        match = UDEMY_URL_RE.match(url) if isinstance(url, str) else None
        return f"{self.url}{match['path']}" if match else url

    def _player(self, kind: str, key: str, referer: str) -> exchange.Reply:
        """A plain page standing in for Udemy's course player: the title and a link back to
        the page that sent the learner here (the console's catalog, else the demo console)."""
        back = referer if referer.startswith(("http://", "https://")) else DEMO_CONSOLE_URL
        with self._lock:
            items = self.data.courses if kind == "course" else self.data.learning_paths
            title = next(
                (i.get("title") for i in items if urlsplit(str(i.get("url"))).path.rstrip("/")
                 == f"/{kind}/{key}"),
                None,
            )  # fmt: skip
        if title is None:
            missing = b"<!doctype html><title>Not found</title><p>No such course.</p>"
            return exchange.Reply(404, missing, "text/html; charset=utf-8")
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1>"
            "<p>This is the demo course player of the built-in Udemy sandbox.</p>"
            f'<p><a href="{html.escape(back)}">Back to LMS Bridge</a></p>'
            "</body></html>"
        )
        return exchange.Reply(200, body.encode(), "text/html; charset=utf-8")

    def _image(self, method: str, path: str) -> exchange.Reply:
        if method != "GET":
            return exchange.json_reply(405, {"detail": f'Method "{method}" not allowed.'})
        match = IMAGE_PATH_RE.match(path)
        title = self._image_title(match["kind"], int(match["id"])) if match else None
        if match is None or title is None:
            return exchange.json_reply(404, {"detail": "Not found."})
        body = render_svg(entity_id=int(match["id"]), title=title, size=match["size"])
        return exchange.Reply(200, body, SVG_CONTENT_TYPE, dict(IMAGE_HEADERS))

    def _image_title(self, kind: str, entity_id: int) -> Any:
        """The title a picture shows, or None for an id the organization never had (a retired
        course keeps its picture: its activity rows still name it)."""
        with self._lock:
            data = self.data
            if kind == "course":
                course = next((c for c in data.courses if c.get("id") == entity_id), None)
                if course is not None:
                    return course.get("title")
                row = next((r for r in data.activity if r.get("course_id") == entity_id), None)
                return row.get("course_title") if row is not None else None
            if kind == "learning-path":
                found = next((p for p in data.learning_paths if p.get("id") == entity_id), None)
                return found.get("title") if found is not None else None
            items = (
                item
                for p in data.learning_paths
                for section in p.get("sections") or ()
                for item in section.get("items") or ()
            )
            return next((i.get("title") for i in items if i.get("id") == entity_id), None)

    # ------------------------------------------------------------------ the API

    def _serve(self, request: exchange.Request) -> exchange.Reply:
        if request.method != "GET":
            return exchange.json_reply(405, {"detail": f'Method "{request.method}" not allowed.'})
        header = request.headers.get("Authorization", "")
        if not exchange.basic_auth_matches(header, self.client_id, self.client_secret):
            www = {"WWW-Authenticate": 'Basic realm="api"'}
            return exchange.json_reply(401, {"detail": "Invalid username/password."}, headers=www)
        match = API_RE.match(request.path)
        if match is None or match["org"] != self.organization_id:
            return exchange.json_reply(404, {"detail": "Not found."})
        params = parse_qsl(request.raw_query, keep_blank_values=True)
        return self._page(request.path, params, ENDPOINT_DATA[match["endpoint"]])

    def _page(self, path: str, params: list[tuple[str, str]], source: str) -> exchange.Reply:
        query = dict(params)
        size = _page_size(query.get("page_size"))
        try:
            number = int(query.get("page", "1"))
        except ValueError:
            number = 0
        with self._lock:
            items = _filtered(getattr(self.data, source), query)
            count = len(items)
            if number < 1 or (number > 1 and (number - 1) * size >= count):
                return exchange.json_reply(400, {"detail": "Invalid page."})
            results = items[(number - 1) * size : number * size]
            if served_as := SERVED_AS.get(source):
                results = [served_as(item, self.url) for item in results]
                results = [
                    {**item, "url": self.player_url(item.get("url"))}
                    if isinstance(item, dict) and "url" in item
                    else item
                    for item in results
                ]
            payload = {
                "count": count,
                "next": self._link(path, params, number + 1) if number * size < count else None,
                "previous": self._link(path, params, number - 1) if number > 1 else None,
                "results": results,
            }
            return exchange.json_reply(200, payload)

    def _link(self, path: str, params: list[tuple[str, str]], page: int) -> str:
        # Like Django REST framework: other params kept, sorted; page 1 drops the page param.
        kept = sorted((k, v) for k, v in params if k != "page")
        if page > 1:
            kept = sorted([*kept, ("page", str(page))])
        query = urlencode(kept)
        return f"{self.link_base_url or self.url}{path}" + (f"?{query}" if query else "")

    def _fault_bytes(self, fault: Fault, request: exchange.Request) -> bytes:
        if fault.status < 300 and fault.body == "truncated":
            return self._serve(request).body  # the real page, cut in half by the caller
        return super()._fault_bytes(fault, request)

    def _fault_body(self, fault: Fault) -> Any:
        if fault.status < 300:  # valid JSON that is not a page envelope
            return {"detail": "OK"}
        return {"detail": FAULT_DETAILS.get(fault.status, exchange.phrase(fault.status))}

    # ------------------------------------------------------------------ scenarios

    def _apply_data_changes(self, scenario: dict[str, Any], result: dict[str, Any]) -> None:
        data = self.data
        if scenario.get("add_courses"):
            result["added_courses"] = [c["id"] for c in data.add_courses(scenario["add_courses"])]
        if scenario.get("update_courses"):
            ids = self._ids(scenario["update_courses"])
            data.update_courses(ids)
            result["updated_courses"] = ids
        if scenario.get("retire_courses"):
            ids = self._ids(scenario["retire_courses"])
            data.retire_courses(ids)
            result["retired_courses"] = ids
        if scenario.get("advance_progress"):
            moved = data.advance_progress(int(scenario["advance_progress"]))
            result["advanced"] = [list(pair) for pair in moved]
        if scenario.get("enroll_only"):
            pairs = data.enroll_only(int(scenario["enroll_only"]))
            result["enrolled_only"] = [list(pair) for pair in pairs]
        if scenario.get("relaunch_completed"):
            pairs = data.relaunch_completed(int(scenario["relaunch_completed"]))
            result["relaunched"] = [list(pair) for pair in pairs]
        if scenario.get("ratio_scale"):
            data.use_ratio_scale(str(scenario["ratio_scale"]))
            result["ratio_scale"] = data.ratio_scale

    def _ids(self, value: int | list[int]) -> list[int]:
        """A list of ids, or an int n meaning the first n courses of the catalog."""
        if isinstance(value, int):
            return [c["id"] for c in self.data.courses[:value]]
        return [int(i) for i in value]


def _page_size(raw: str | None) -> int:
    try:
        size = int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)


def _filtered(items: list[dict], query: dict[str, str]) -> list[dict]:
    """The documented report filters that are cheap to honour: course_id and user_email."""
    if "course_id" in query:
        items = [i for i in items if str(i.get("course_id")) == query["course_id"]]
    if "user_email" in query:
        email = query["user_email"].lower()
        items = [i for i in items if str(i.get("user_email", "")).lower() == email]
    return list(items)
