"""Access-matrix rows for the data protection pages (casework/privacy)."""
from casework.privacy.roles import (
    ERASURE_REQUESTERS,
    ERASURE_VIEWERS,
    RETENTION_DECIDERS,
    RETENTION_VIEWERS,
    SUBJECT_ACCESS_EXPORTERS,
)

MATRIX: dict = {
    "casework:subject_access_create": (SUBJECT_ACCESS_EXPORTERS, "GET", "page"),
    "casework:subject_access_detail": (SUBJECT_ACCESS_EXPORTERS, "GET", "page"),
    "casework:subject_access_download": (SUBJECT_ACCESS_EXPORTERS, "GET", "page"),
    "casework:retention_queue": (RETENTION_VIEWERS, "GET", "page"),
    "casework:retention_keep": (RETENTION_DECIDERS, "GET", "page"),
    "casework:erasure_create": (ERASURE_REQUESTERS, "GET", "page"),
    "casework:erasure_list": (ERASURE_VIEWERS, "GET", "page"),
    "casework:erasure_detail": (ERASURE_VIEWERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from datetime import date

    from django.core.files.base import ContentFile

    from casework.models import ErasureRequest, RetentionReview, SubjectAccessRequest
    from tests.factories import ClientFactory, UserFactory

    client = base["client"]
    sar = SubjectAccessRequest.objects.create(client=client, requested_by=UserFactory(), reason="Matrix")
    sar.file.save("matrix.zip", ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    retained = ClientFactory()
    review = RetentionReview.objects.create(client=retained, marked_on=date(2026, 11, 1),
                                            retention_ended_on=date(2025, 4, 30), explanation="Matrix")
    erasure = ErasureRequest.objects.create(client=retained, reason="Matrix", requested_by=UserFactory())
    return {"sar": sar, "review": review, "erasure": erasure}


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("casework:")
    if short in ("subject_access_create", "erasure_create"):
        return {"pk": objects["client"].pk}
    if short in ("subject_access_detail", "subject_access_download"):
        return {"pk": objects["sar"].pk}
    if short == "retention_keep":
        return {"pk": objects["review"].pk}
    if short == "erasure_detail":
        return {"pk": objects["erasure"].pk}
    if short in ("retention_queue", "erasure_list"):
        return {}
    return None
