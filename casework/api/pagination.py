"""The API's pages: `limit` and `offset` (LimitOffsetPagination), 50 rows unless asked, never more
than MAX_LIMIT. A `limit` larger than the database's integers once reached PostgreSQL as a LIMIT it
refuses (bigint out of range); a capped limit is also what stops one call reading a county."""
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500


class ApiPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT
