from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CRPV, AdverseEvent, AgencyProfile, CRPVRegion, FollowUpReport, ReactionTerm


@admin.register(ReactionTerm)
class ReactionTermAdmin(SimpleHistoryAdmin):
    list_display = ("code", "label_fr", "label_en", "organ_class", "active")
    list_filter = ("organ_class", "active")
    search_fields = ("code", "label_fr", "label_en")

    def get_readonly_fields(self, request, obj=None):
        # The code is the stored value of every case: renaming it would orphan the history.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate a term instead; cases keep pointing at it


class CRPVRegionInline(admin.TabularInline):
    model = CRPVRegion
    extra = 0


@admin.register(CRPV)
class CRPVAdmin(SimpleHistoryAdmin):
    list_display = ("name", "city", "email", "region_list")
    search_fields = ("name", "city", "email")
    inlines = [CRPVRegionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description="regions")
    def region_list(self, obj: CRPV) -> str:
        return ", ".join(r.region for r in obj.regions.all())


@admin.register(AgencyProfile)
class AgencyProfileAdmin(SimpleHistoryAdmin):
    list_display = ("user", "crpv")
    list_select_related = ("user", "crpv")
    autocomplete_fields = ()
    raw_id_fields = ("user",)


class FollowUpInline(admin.TabularInline):
    model = FollowUpReport
    extra = 0
    can_delete = False
    fields = ("received_on", "outcome", "information", "reported_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AdverseEvent)
class AdverseEventAdmin(SimpleHistoryAdmin):
    """Read-mostly: cases are written by the services (reports, follow-ups, alerts)."""

    list_display = (
        "pk", "patient", "term", "serious", "outcome", "causality", "dose_at_onset_mg",
        "crpv", "received_on", "due_on", "notified_at",
    )  # fmt: skip
    list_filter = ("serious", "organ_class", "causality", "protocol_version", "crpv")
    list_select_related = ("patient", "term", "crpv")
    search_fields = ("patient__code",)
    date_hierarchy = "received_on"
    inlines = [FollowUpInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
