from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.projects.accounts import views

urlpatterns = [
    path("user/login/", auth_views.LoginView.as_view(), name="login"),
    path("user/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("user/", views.profile, name="user-profile"),
    path("about/", views.about, name="about"),
]
