from tests.mail.conftest import fast_password_hasher, frob  # noqa: F401
