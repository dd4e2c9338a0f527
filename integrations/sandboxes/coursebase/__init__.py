"""The fake Coursebase API: `server` (the RPC methods, cursor paging, error envelope), `reports`
(courses and report exports), `data` (the org)."""

from .data import CoursebaseData
from .server import CoursebaseSandbox

__all__ = ["CoursebaseData", "CoursebaseSandbox"]
