from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate


class CoreConfig(AppConfig):
    """Project-wide pieces every app uses: roles, middleware, pagination, API fields, accounts."""

    name = "core"
    verbose_name = "Core: roles, accounts and project pages"

    def ready(self) -> None:
        # Imported here, not at module level: models (auth's Group) need the app registry,
        # which is being filled while this module is imported.
        from django.contrib.auth import get_user_model

        from core.roles import grant_admin_group_permissions, sync_staff_flag

        # After every migrate (permissions are created by post_migrate too, so run last).
        post_migrate.connect(grant_admin_group_permissions, dispatch_uid="vp-admin-group-perms")
        m2m_changed.connect(
            sync_staff_flag,
            sender=get_user_model().groups.through,
            dispatch_uid="vp-admins-are-staff",
        )
