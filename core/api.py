"""The account endpoints of the REST API: users and API tokens (admins only).

Each app registers its viewsets in ``<app>/api.py`` with a ``register(router)`` function;
``config/urls.py`` collects them under ``/api/v1/``.

Scripts authenticate with a token (``Authorization: Token <key>``); an admin issues it at
``POST /api/v1/tokens/`` (the key is shown once) and revokes it with
``DELETE /api/v1/tokens/<username>/``. Browsers use the login session.
"""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.response import Response

from core.roles import IsAdmin, is_admin, is_researcher

# --- Accounts: users and tokens (admins) ---------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    has_token = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_active", "role", "has_token", "last_login"]

    def get_role(self, user) -> str:
        if is_admin(user):
            return "admin"
        return "researcher" if is_researcher(user) else "none"

    def get_has_token(self, user) -> bool:
        return hasattr(user, "auth_token")


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Accounts with their role (admin, researcher or none) and whether they hold a token."""

    serializer_class = UserSerializer
    permission_classes = [IsAdmin]
    lookup_field = "username"

    def get_queryset(self):
        return (
            get_user_model()
            .objects.select_related("auth_token")
            .prefetch_related("groups")
            .order_by("username")
        )


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    created = serializers.DateTimeField(read_only=True)
    key_prefix = serializers.SerializerMethodField(help_text="First characters of the key only.")

    def get_key_prefix(self, token) -> str:
        return token.key[:6]


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField()


class IssuedTokenSerializer(serializers.Serializer):
    username = serializers.CharField()
    key = serializers.CharField(help_text="The full key; shown only in this response.")
    created = serializers.DateTimeField()


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """API tokens (one per account). Issuing a token replaces the account's old one."""

    permission_classes = [IsAdmin]
    serializer_class = TokenSerializer
    lookup_field = "user__username"
    lookup_url_kwarg = "username"

    def get_queryset(self):
        return Token.objects.select_related("user").order_by("user__username")

    @extend_schema(request=TokenCreateSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request, *args, **kwargs):
        payload = TokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=payload.validated_data["username"]).first()
        if user is None or not user.is_active:
            return Response(
                {"username": ["No active account with this username."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not is_researcher(user):
            return Response(
                {"username": ["Only researchers and admins can hold API tokens."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        body = IssuedTokenSerializer(
            {"username": user.username, "key": token.key, "created": token.created}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    def get_object(self):
        return get_object_or_404(self.get_queryset(), user__username=self.kwargs["username"])


def register(router) -> None:
    router.register("users", UserViewSet, basename="user")
    router.register("tokens", TokenViewSet, basename="token")
