from tests.downloads.conftest import base_repo  # noqa: F401
from tests.mail.conftest import fast_password_hasher, frob  # noqa: F401
