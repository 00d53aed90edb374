"""The API's pages: `limit` and `offset` (LimitOffsetPagination), 50 rows unless asked, never more
than MAX_LIMIT. A `limit` larger than the database's integers once reached PostgreSQL as a LIMIT it
refuses (bigint out of range); a capped limit is also what stops one call reading a county.

Each is a whole number given once: anything else (`limit=ten`, `limit=`, `offset=-1`, two limits)
is answered 400 naming the parameter, as the schema's integer says, not quietly read as the
default. `limit=0` is the default page, as in DRF."""
import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500
WHOLE_NUMBER = re.compile(r"[0-9]+")
#: An offset past every row is an empty page; past this it would not fit PostgreSQL's bigint.
MAX_OFFSET = 10**18


class ApiPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def _whole_number(self, request, name: str) -> int | None:
        if name not in request.query_params:
            return None
        values = request.query_params.getlist(name)
        if len(values) != 1 or not WHOLE_NUMBER.fullmatch(values[0]):
            raise ValidationError({name: [f"Give {name} once, as a whole number of 0 or more"]})
        return int(values[0])

    def get_limit(self, request):
        limit = self._whole_number(request, self.limit_query_param)
        if not limit:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request):
        return min(self._whole_number(request, self.offset_query_param) or 0, MAX_OFFSET)
