"""Provider payments in the integration API: providers, rates, packages, claims with their line
results, and payment runs, to read. Two decisions may be made here, under the web pages' rules:
approving a claim (refused to whoever imported it or overrode any of its lines, and while an
override waits for approval) and releasing a payment run (a team leader other than who started it,
who has opened the run's exceptions, here or on its page). Other changes are made in the pages."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from casework.api.views import API_READERS, RecordViewsMixin

from casework.api.serializers import domain_errors

from ..constants import ClaimStatus, PaymentRunStatus
from ..models import CarePackage, Claim, PaymentRun, Provider, Rate
from ..services.claims import CLAIM_APPROVERS, claim_transition
from ..services.payment_run import RUN_RELEASERS, payment_run_transition
from ..services.run_review import exceptions_open, exceptions_opened_by, run_exceptions
from . import serializers as s


def _note(request) -> str:
    incoming = s.DecisionNoteSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    return incoming.validated_data["note"]


class ReadOnlyViewSet(RecordViewsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    read_roles = API_READERS
    write_roles: frozenset = frozenset()
    lookup_value_regex = r"\d+"


@extend_schema_view(list=extend_schema(summary="List providers"), retrieve=extend_schema(summary="A provider"))
class ProviderViewSet(ReadOnlyViewSet):
    client_path = None  # care providers, not clients
    serializer_class = s.ProviderSerializer
    queryset = Provider.objects.order_by("name", "id")


@extend_schema_view(list=extend_schema(summary="List rates (every version, withdrawn ones marked)"),
                    retrieve=extend_schema(summary="A rate"))
class RateViewSet(ReadOnlyViewSet):
    client_path = None  # providers' rate cards
    serializer_class = s.ProviderRateSerializer
    queryset = Rate.objects.select_related("service_type", "band").order_by("provider_id", "service_type_id", "band_id",
                                                                           "effective_from", "id")


@extend_schema_view(list=extend_schema(summary="List care packages"), retrieve=extend_schema(summary="A care package"))
class CarePackageViewSet(ReadOnlyViewSet):
    client_path = "client_id"
    serializer_class = s.CarePackageSerializer
    queryset = CarePackage.objects.select_related("client", "service_type", "band").order_by("id")


@extend_schema_view(list=extend_schema(summary="List provider claims with line results"),
                    retrieve=extend_schema(summary="A claim with its line results"))
class ClaimViewSet(ReadOnlyViewSet):
    client_path = "lines.client_id"  # each line names the client it is for
    serializer_class = s.ClaimSerializer
    queryset = Claim.objects.prefetch_related("lines").order_by("-id")
    write_roles = CLAIM_APPROVERS

    @extend_schema(summary="Approve a claim for the next payment run", request=s.DecisionNoteSerializer,
                   responses={200: s.ClaimApprovalSerializer},
                   description="Refused (403) to whoever imported the claim or overrode any of its lines: another "
                               "provider payment officer or a team leader approves it; refused (400) while an "
                               "override of one of its lines waits for approval.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        claim = self.get_object()
        note = _note(request)
        with domain_errors():
            claim = claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=request.user, reason=note)
        return Response(s.ClaimApprovalSerializer(claim).data)


@extend_schema_view(list=extend_schema(summary="List provider payment runs"),
                    retrieve=extend_schema(summary="A payment run and its payments"))
class PaymentRunViewSet(ReadOnlyViewSet):
    client_path = None  # payments to providers, by provider
    serializer_class = s.PaymentRunSerializer
    queryset = PaymentRun.objects.prefetch_related("payments__provider").order_by("-payment_date", "-id")
    write_roles = RUN_RELEASERS

    @extend_schema(summary="A run's exceptions: unusual payments, lines overridden by hand, upheld disputes",
                   responses={200: s.PaymentRunExceptionsSerializer},
                   description="Opening them is recorded (once, after the run is prepared): the run's releaser must "
                               "have opened them, here or on the run's exceptions page.")
    @action(detail=True, methods=["get"])
    def exceptions(self, request, pk=None):
        payment_run = self.get_object()
        opened = (exceptions_open(payment_run=payment_run, user=request.user)
                  if payment_run.status == PaymentRunStatus.PREPARED else exceptions_opened_by(payment_run, request.user))
        data = {"exceptions": run_exceptions(payment_run), "opened": opened}
        return Response(s.PaymentRunExceptionsSerializer(data).data)

    @extend_schema(summary="Release a payment run's files", request=s.DecisionNoteSerializer,
                   responses={200: s.PaymentRunReleaseSerializer},
                   description="A team leader other than who started the run (403 otherwise), who has opened its "
                               "exceptions since it was prepared (400 otherwise).")
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        payment_run = self.get_object()
        note = _note(request)
        with domain_errors():
            payment_run = payment_run_transition(payment_run=payment_run, to_status=PaymentRunStatus.RELEASED,
                                                 actor=request.user, reason=note)
        return Response(s.PaymentRunReleaseSerializer(payment_run).data)
