"""Settings of the test server: the app's own, with the tests' fast password hasher."""

from config.settings import *  # noqa: F403

# Test users' passwords are hashed with MD5 to keep tests fast; the server must
# be able to check them.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
