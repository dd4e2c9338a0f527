"""A loopback fake of the Udemy Business API, with deterministic data, for the demo and the tests.

`UdemyData.generate(seed=...)` builds a realistic organization (courses, learning paths,
user-course-activity rows) from `random.Random(seed)` only: same seed, same data, on any machine.
Its dates lead up to the day before `today` (default: the current UTC date; `anchor_for`), so the
demo's activity is always recent; pass `today=` for data that is the same on every day.
`UdemySandbox(data).start()` serves it over real HTTP (the shared sandbox server,
`integrations.sandboxes.base`) the way Udemy does: HTTP Basic auth,
`/api-2.0/organizations/{id}/...` endpoints, page/page_size pagination with absolute
`next`/`previous` links, `400 {"detail": "Invalid page."}` past the end. Faults (429 with
Retry-After, 5xx, HTML bodies, truncated JSON, hanging responses) are queued with `fail(...)` so
retry and timeout behaviour is exercised over real sockets, which mocks cannot do.

Course pictures: where Udemy's payloads point at its CDN, the sandbox's point at itself
(``GET /images/course/480x270/<id>_<digest>.svg``, learning paths and items alike: see `images`),
a deterministic SVG per course, served without auth, log or faults, like a CDN.

Control endpoints for other processes (the demo, browser tests), outside the API paths:

- ``GET  /_sandbox/state``    → ``{"courses", "learning_paths", "activity", "requests", ...}``
- ``POST /_sandbox/scenario`` with JSON ``{"latency": 0.05, "fail": [{...fail kwargs...}],
  "add_courses": 5, "update_courses": [ids] | n, "retire_courses": [ids] | n,
  "advance_progress": 3, "enroll_only": 2, "relaunch_completed": 1, "ratio_scale": "0-1",
  "reset_faults": true, "reset_log": true}``

Report switches: ``ratio_scale`` serves completion ratios as fractions ("0-1") or percentages
("0-100", the default); ``enroll_only`` enrolls learners in a course without starting it;
``relaunch_completed`` has learners open a completed course again and watch more of it.

They are **not authenticated**: the sandbox is a development tool that listens on loopback, and
control requests from a non-loopback client are refused (403) even if it is bound elsewhere.
Never expose it on a public interface.

Modules: `data` (the organization and its mutators), `catalog` (courses, learning paths),
`reports` (user-course activity), `vocabulary` (the words it is made of), `images` (its
pictures), `server` (the API), `xapi_feed` and `xapi_sender` (Udemy Business's xAPI push).
"""

from .data import UdemyData
from .reports import ANONYMIZED
from .server import UdemySandbox
from .vocabulary import anchor_for

__all__ = ["ANONYMIZED", "UdemyData", "UdemySandbox", "anchor_for"]
