from __future__ import annotations

from django.urls import path

from apps.mail import views

urlpatterns = [path("", views.mail_intake, name="mail-intake")]
