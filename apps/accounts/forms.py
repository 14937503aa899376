"""Account forms: every one validates fully before anything is written."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q

from apps.accounts import throttle
from apps.accounts.models import User
from apps.accounts.selectors import registration_waiting, user_by_login

MAX_ITEMS_PER_PAGE = 500


def _address_owner(email: str) -> User | None:
    """The account an address already belongs to (its primary or a linked address)."""
    return (
        User.objects.filter(Q(email__iexact=email) | Q(people__email__iexact=email))
        .order_by("pk")
        .first()
    )


class LoginForm(AuthenticationForm):
    """Django's login form, by username or e-mail address, throttled per username and client."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed log-in attempts. Wait a few minutes and try again.",
        "not_confirmed": "This account is not active yet: follow the link in the confirmation "
        "mail we sent when you registered.",
    }

    def _inactive_with_password(self) -> bool:
        # Said only to whoever knows the password, so it reveals nothing to guessers.
        user = User.objects.filter(
            username=self.cleaned_data.get("username"), is_active=False
        ).first()
        return user is not None and user.check_password(self.cleaned_data.get("password") or "")

    def clean(self):
        identifier = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request) if self.request else ""
        # By username or address alike: one allowance per account, not one per spelling.
        account = throttle.account_key(identifier)
        if throttle.login_blocked(account, address):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        owner = user_by_login(identifier)
        if owner is not None:
            self.cleaned_data["username"] = owner.username
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.login_failed(account, address)
            if self._inactive_with_password():
                raise ValidationError(
                    self.error_messages["not_confirmed"], code="inactive"
                ) from None
            raise
        throttle.login_succeeded(account, address)
        return cleaned


class RegistrationForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=User._meta.get_field("username").validators,
        help_text="Letters, digits and . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(
        max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="We send a link to this address to activate the account.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("This username is taken; choose another.", code="taken")
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        owner = _address_owner(email)
        if owner is None:
            return email
        if registration_waiting(owner):
            # Whoever registered it first may not be the address's owner: a new
            # registration replaces the waiting one (user_register), never points
            # the reader at a link that activates someone else's account.
            return email
        raise ValidationError(
            "An account already uses this address. Log in, or reset its password.",
            code="taken",
        )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class LinkEmailForm(EmailForm):
    """An address to add to the signed-in user's account."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].label = "Add an e-mail address"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if (
            self.user.email.lower() == email.lower()
            or self.user.people.filter(email__iexact=email).exists()
        ):
            raise ValidationError("This address is already linked to your account.", code="own")
        if _address_owner(email) is not None:
            raise ValidationError("This address belongs to another account.", code="taken")
        return email


class UserSettingsForm(forms.Form):
    first_name = forms.CharField(
        max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    items_per_page = forms.IntegerField(
        label="Items per page",
        min_value=1,
        max_value=MAX_ITEMS_PER_PAGE,
        help_text="How many patches list pages show at once.",
    )
    show_ids = forms.BooleanField(
        label="Show patch IDs", required=False, help_text="Adds an ID column to patch lists."
    )
    send_email = forms.BooleanField(label="Let Patchwork send mail on my behalf", required=False)

    @classmethod
    def for_user(cls, user: User, data=None) -> UserSettingsForm:
        initial = {name: getattr(user, name) for name in cls.base_fields}
        return cls(data, initial=initial)
