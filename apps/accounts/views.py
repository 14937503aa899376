"""Account pages: log-in, registration, confirmations, profile, mail settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services, throttle
from apps.accounts.emails import confirmation_mail_send
from apps.accounts.forms import (
    EmailForm,
    LinkEmailForm,
    LoginForm,
    RegistrationForm,
    UserSettingsForm,
)
from apps.accounts.models import APIToken, EmailConfirmation, User

MAIL_THROTTLED = "Too many confirmation mails were asked for recently. Try again in an hour."


def _signed_in(request: HttpRequest) -> User:
    """The user of a request that @login_required let through."""
    user = request.user
    assert user.is_authenticated, "only for views behind @login_required"
    return user


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        address = throttle.client_address(self.request)
        if not throttle.mail_allowed(address, form.cleaned_data["email"]):
            form.add_error(None, MAIL_THROTTLED)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("user-profile")
    if request.method != "POST":
        return render(request, "accounts/register.html", {"form": RegistrationForm()})
    # Expired registrations free their username and address before we check them.
    services.email_confirmations_expire()
    form = RegistrationForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        if throttle.mail_allowed(throttle.client_address(request), data["email"]):
            with transaction.atomic():
                confirmation = services.user_register(
                    username=data["username"],
                    email=data["email"],
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
                # Inside the transaction: if the mail can't go, no account is left behind.
                confirmation_mail_send(request=request, confirmation=confirmation)
            context = {
                "email": data["email"],
                "validity_days": settings.CONFIRMATION_VALIDITY_DAYS,
            }
            return render(request, "accounts/register_done.html", context)
        form.add_error(None, MAIL_THROTTLED)
        status = 429
    return render(request, "accounts/register.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """Every confirmation link lands here; the key is posted, never part of a URL.

    GET: a form for the key (filled in from the link's '#key' by confirm.js).
    POST key: show what it does. POST key + confirm: do it. Activating an account
    also takes its password, so nobody activates an account whose password someone
    else chose (a stranger may have registered the reader's address first).
    """
    key = request.POST.get("key", "").strip()
    if request.method != "POST" or not key:
        return render(request, "accounts/confirm_key.html")
    confirmation = get_object_or_404(EmailConfirmation.objects.select_related("user"), key=key)
    if not confirmation.is_valid():
        return _confirm_refused(request, confirmation)
    if "confirm" not in request.POST:
        return render(request, "accounts/confirm.html", {"confirmation": confirmation})
    if confirmation.type == EmailConfirmation.REGISTRATION:
        error = _registration_password_error(request, confirmation)
        if error:
            context = {"confirmation": confirmation, "password_error": error}
            return render(request, "accounts/confirm.html", context, status=400)
    try:
        services.email_confirmation_confirm(confirmation=confirmation)
    except services.ConfirmationInvalid:
        return _confirm_refused(request, confirmation)
    if confirmation.type == EmailConfirmation.REGISTRATION:
        login(request, confirmation.user, backend="django.contrib.auth.backends.ModelBackend")
    return render(request, "accounts/confirm_done.html", {"confirmation": confirmation})


def _registration_password_error(request: HttpRequest, confirmation: EmailConfirmation) -> str:
    """Why the password given to activate this registration is refused ("" if it is right)."""
    user = confirmation.user
    assert user is not None  # a registration is created with its user
    address = throttle.client_address(request)
    account = throttle.account_key(user.username)
    if throttle.login_blocked(account, address):
        return "Too many wrong passwords. Wait a few minutes and try again."
    if not user.check_password(request.POST.get("password", "")):
        throttle.login_failed(account, address)
        return (
            "That is not the password this account was registered with. If you did not "
            "register it, someone else did with your address: register again yourself."
        )
    return ""


def _confirm_refused(request: HttpRequest, confirmation: EmailConfirmation) -> HttpResponse:
    return render(
        request,
        "accounts/confirm_refused.html",
        {
            "confirmation": confirmation,
            "used": not confirmation.active,
            "validity_days": settings.CONFIRMATION_VALIDITY_DAYS,
        },
        status=410,
    )


def _render_profile(
    request: HttpRequest,
    *,
    settings_form: UserSettingsForm | None = None,
    link_form: LinkEmailForm | None = None,
    token_key: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _signed_in(request)
    context = {
        "settings_form": settings_form or UserSettingsForm.for_user(user),
        "link_form": link_form or LinkEmailForm(user=user),
        "addresses": selectors.user_addresses(user),
        "pending_links": list(selectors.user_pending_links(user)),
        "maintained_projects": list(selectors.user_maintained_projects(user)),
        "token": APIToken.objects.filter(user=user).first(),
        "token_key": token_key,
    }
    response = render(request, "accounts/profile.html", context, status=status)
    if token_key:
        # The key is shown exactly once: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The profile page; POST saves the settings form."""
    if request.method != "POST":
        return _render_profile(request)
    user = _signed_in(request)
    form = UserSettingsForm.for_user(user, request.POST)
    if not form.is_valid():
        return _render_profile(request, settings_form=form, status=400)
    services.user_settings_update(user=user, **form.cleaned_data)
    messages.success(request, "Your settings were saved.")
    return redirect("user-profile")


@login_required
@require_POST
def user_link(request: HttpRequest) -> HttpResponse:
    """Ask to add an address to the account: mails it a confirmation link."""
    user = _signed_in(request)
    form = LinkEmailForm(request.POST, user=user)
    if not form.is_valid():
        return _render_profile(request, link_form=form, status=400)
    email = form.cleaned_data["email"]
    if not throttle.mail_allowed(throttle.client_address(request), email):
        form.add_error(None, MAIL_THROTTLED)
        return _render_profile(request, link_form=form, status=429)
    with transaction.atomic():
        confirmation = services.email_confirmation_request(
            type=EmailConfirmation.USERPERSON, email=email, user=user
        )
        confirmation_mail_send(request=request, confirmation=confirmation)
    return render(request, "accounts/mail_sent.html", {"confirmation": confirmation})


@login_required
@require_POST
def user_unlink(request: HttpRequest, person_id: int) -> HttpResponse:
    """Detach a linked address (never the account's primary one)."""
    user = _signed_in(request)
    person = get_object_or_404(user.people, pk=person_id)
    if person.email.lower() == user.email.lower():
        messages.error(request, f"{person.email} is your primary address and stays linked.")
        return redirect("user-profile")
    services.person_unlink(person=person)
    messages.success(request, f"{person.email} is no longer linked to your account.")
    return redirect("user-profile")


@never_cache
@login_required
@require_POST
def user_token(request: HttpRequest) -> HttpResponse:
    """Generate (or replace) the API token and show its key this once."""
    key = services.api_token_regenerate(user=_signed_in(request))
    return _render_profile(request, token_key=key)


def mail_settings(request: HttpRequest) -> HttpResponse:
    """Anyone may opt an address out of (or back into) notification mail, by mail."""
    initial = {}
    if request.GET.get("email"):
        initial["email"] = request.GET["email"]
    return render(request, "accounts/mail_settings.html", {"form": EmailForm(initial=initial)})


@require_http_methods(["GET", "HEAD", "POST"])
def mail_optout(request: HttpRequest) -> HttpResponse:
    # GET (e.g. a List-Unsubscribe link in notification mail) shows the form.
    if request.method != "POST":
        return mail_settings(request)
    return _mail_confirmation(request, EmailConfirmation.OPTOUT)


@require_http_methods(["GET", "HEAD", "POST"])
def mail_optin(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return mail_settings(request)
    return _mail_confirmation(request, EmailConfirmation.OPTIN)


def _mail_confirmation(request: HttpRequest, type: str) -> HttpResponse:
    form = EmailForm(request.POST)
    status = 400
    if form.is_valid():
        email = form.cleaned_data["email"]
        if throttle.mail_allowed(throttle.client_address(request), email):
            with transaction.atomic():
                confirmation = services.email_confirmation_request(type=type, email=email)
                confirmation_mail_send(request=request, confirmation=confirmation)
            return render(request, "accounts/mail_sent.html", {"confirmation": confirmation})
        form.add_error(None, MAIL_THROTTLED)
        status = 429
    return render(request, "accounts/mail_settings.html", {"form": form}, status=status)
