from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import PrescriberProfile, User


class PrescriberProfileInline(admin.StackedInline):
    model = PrescriberProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin):
    list_display = ("email", "first_name", "last_name", "role", "status", "date_joined")
    list_filter = ("role", "status", "prescriber_profile__region", "prescriber_profile__specialty")
    search_fields = ("email", "first_name", "last_name", "prescriber_profile__rpps")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined", "status_changed_at", "password")
    fields = (
        "email",
        "first_name",
        "last_name",
        "role",
        "status",
        "is_active",
        "is_staff",
        "is_superuser",
        "password",
        "last_login",
        "date_joined",
        "status_changed_at",
    )
    inlines = [PrescriberProfileInline]
    actions = ["approve", "reject", "deactivate", "reset_second_factor"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # accounts are deactivated, never deleted (history and patients hang on them)

    def _run(self, request, queryset, service, done_message) -> None:
        count = 0
        for account in queryset:
            service(account=account, by=request.user)
            count += 1
        self.message_user(request, done_message(count), messages.SUCCESS)

    @admin.action(description=_("Approve the selected accounts"))
    def approve(self, request, queryset):
        self._run(
            request,
            queryset,
            services.account_approve,
            lambda n: ngettext("%d account approved.", "%d accounts approved.", n) % n,
        )

    @admin.action(description=_("Reject the selected accounts"))
    def reject(self, request, queryset):
        self._run(
            request,
            queryset,
            services.account_reject,
            lambda n: ngettext("%d account rejected.", "%d accounts rejected.", n) % n,
        )

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request, queryset):
        self._run(
            request,
            queryset,
            services.account_deactivate,
            lambda n: ngettext("%d account deactivated.", "%d accounts deactivated.", n) % n,
        )

    @admin.action(description=_("Reset the second factor of the selected accounts"))
    def reset_second_factor(self, request, queryset):
        self._run(
            request,
            queryset,
            services.account_reset_second_factor,
            lambda n: (
                ngettext(
                    "Second factor reset for %d account.", "Second factor reset for %d accounts.", n
                )
                % n
            ),
        )


@admin.register(PrescriberProfile)
class PrescriberProfileAdmin(SimpleHistoryAdmin):
    list_display = ("user", "rpps", "specialty", "practice_setting", "region")
    list_filter = ("specialty", "practice_setting", "region")
    search_fields = ("rpps", "user__email", "user__last_name")
    raw_id_fields = ("user",)
