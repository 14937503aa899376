"""Accounts for the git-pw end-to-end test, created in the server's own database.

Run by the test as ``manage.py shell -c "from tests.clients.git_pw_setup import setup; setup()"``;
prints the maintainer's API token as JSON. The mail itself arrives through
``manage.py parsearchive``, the way a real list archive is loaded.
"""

from __future__ import annotations

import json

from apps.accounts.models import User
from apps.accounts.services import api_token_regenerate
from apps.projects.models import Project


def setup() -> None:
    maintainer = User.objects.create_user(
        "maintainer", "maintainer@example.org", "password", first_name="Mae"
    )
    User.objects.create_user("stranger", "stranger@example.org", "password")
    project = Project.objects.create(
        linkname="frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        # v2 arrives after v1: keep v1's patches New so both revisions are listed.
        auto_supersede=False,
    )
    project.maintainers.add(maintainer)
    print(json.dumps({"token": api_token_regenerate(user=maintainer)}))
