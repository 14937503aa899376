from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("user/login/", views.LoginView.as_view(), name="login"),
    path("user/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    # The key comes in the POST body, never in the URL (access logs keep URLs).
    path("confirm/", views.confirm, name="confirm"),
    path("user/", views.profile, name="user-profile"),
    path("user/link/", views.user_link, name="user-link"),
    path("user/unlink/<int:person_id>/", views.user_unlink, name="user-unlink"),
    path("user/generate-token/", views.user_token, name="user-token"),
    path(
        "user/password-change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "user/password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("user/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "user/password-reset/mail-sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "user/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "user/password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # /mail/ itself is the mail intake (POST); the opt-out pages live beside it.
    path("mail/settings/", views.mail_settings, name="mail-settings"),
    path("mail/optout/", views.mail_optout, name="mail-optout"),
    path("mail/optin/", views.mail_optin, name="mail-optin"),
]
