"""Celery tasks of the accounts app (the task keeps its old name: beat and queues know it)."""

from __future__ import annotations

from celery import shared_task

from apps.accounts.services import email_confirmations_expire


@shared_task(name="projects.confirmations_expire", ignore_result=True)
def expire_confirmations() -> int:
    """Remove expired confirmations and the never-activated accounts they created."""
    confirmations, users = email_confirmations_expire()
    return confirmations + users
