"""Page-number pagination that accepts only what the schema documents (`page`: an integer)."""

from __future__ import annotations

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class StrictPageNumberPagination(PageNumberPagination):
    """DRF's, minus two leniencies: `?page=` (blank) silently meant page 1, and `?page=last`
    the last page. Both are 404 "Invalid page." here, like any other non-page."""

    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator) -> str | int:
        # Validated by paginator.page(): a non-integer raises InvalidPage, answered as 404.
        return request.query_params.get(self.page_query_param, 1)
