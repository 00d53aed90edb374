"""The error responses every API operation can give, added to the OpenAPI schema.

drf-spectacular documents each operation's success response only. Every operation can also
answer 401 (no or a bad token) and 403 (a role that may not use it); one with parameters or a
request body 400 (its validation errors) and one with a request body 415 (a body it cannot read);
one with path parameters (a record) 404. `document_error_responses` is a drf-spectacular
post-processing hook that adds those, so a client of the API (and the schema tests) know every
status code to expect. It leaves a response an operation documents itself as it is.
"""
from copy import deepcopy

ERROR_COMPONENT = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": "DRF's error body: `detail` for the request as a whole, or each field's messages",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "The request was not valid: each field's problems are listed",
    "401": "No valid API token or session",
    "403": "The account's roles do not allow this",
    "404": "No such record",
    "415": "The request body's media type is not accepted",
}
METHODS = {"get", "put", "post", "patch", "delete"}


def _codes(operation: dict) -> list[str]:
    codes = ["401", "403"]
    parameters = operation.get("parameters") or []
    if parameters or "requestBody" in operation:
        codes.append("400")
    if any(p.get("in") == "path" for p in parameters):
        codes.append("404")
    if "requestBody" in operation:
        codes.append("415")
    return codes


def document_error_responses(result: dict, generator=None, request=None, public=None) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry (also usable on a schema already generated)."""
    result = deepcopy(result)
    error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for path, item in (result.get("paths") or {}).items():
        path_parameters = item.get("parameters") or []
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            merged = {**operation, "parameters": [*path_parameters, *(operation.get("parameters") or [])]}
            for code in _codes(merged):
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": error})
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    return result
