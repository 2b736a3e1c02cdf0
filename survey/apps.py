from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = "Survey: item bank, instruments, studies and participants"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from config.roles import grant_admin_group_permissions, sync_staff_flag

        # After every migrate (permissions are created by post_migrate too, so run last).
        post_migrate.connect(grant_admin_group_permissions, dispatch_uid="vp-admin-group-perms")
        m2m_changed.connect(
            sync_staff_flag,
            sender=get_user_model().groups.through,
            dispatch_uid="vp-admins-are-staff",
        )
