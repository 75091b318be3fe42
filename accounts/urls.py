from django.urls import include, path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/received/", views.signup_received, name="signup_received"),
    path(
        "pending/",
        include(
            [
                path("", views.pending_accounts, name="pending"),
                path("<int:pk>/approve/", views.approve, name="approve"),
                path("<int:pk>/reject/", views.reject, name="reject"),
            ]
        ),
    ),
]
