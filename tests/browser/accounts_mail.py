"""A file mail backend whose directory comes from the EMAIL_FILE_PATH environment variable.

The browser tests run the server in a subprocess configured only by environment
variables; settings.py reads EMAIL_BACKEND from the environment but has no
EMAIL_FILE_PATH, so this backend takes it from there.
"""

from __future__ import annotations

import os

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend


class EmailBackend(FileEmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, file_path=file_path or os.environ["EMAIL_FILE_PATH"], **kwargs)
