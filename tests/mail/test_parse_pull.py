"""Pull requests: the URL and branch from git request-pull text."""

from __future__ import annotations

import pytest

from apps.mail.parse import parse_mail
from apps.mail.parse.pull import find_pull_url
from tests.mails import GIT, read


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("git/pull.eml", "git://git.example.org/frob.git tags/v1"),
        ("git/pull-with-diff.eml", "git://git.example.org/frob.git tags/v1"),
        ("pull/ssh.eml", "ssh://git@git.example.org/frob.git for-linus"),
        ("pull/git-ssh.eml", "git+ssh://git.example.org/frob.git for-linus"),
        (
            "pull/https-wrapped.eml",
            "https://git.example.org/pub/scm/linux/kernel/git/ada/frobnicator-fixes.git "
            "tags/frob-fixes-2024-03-04",
        ),
        ("pull/old-git.eml", "http://git.example.org/frob.git master"),
    ],
)
def test_pull_urls(name, url):
    assert parse_mail(read(name)).pull_url == url


def test_pull_request_with_and_without_diff():
    bare = parse_mail((GIT / "pull.eml").read_bytes())
    assert bare.diff is None and bare.is_patch
    assert bare.message.startswith("Hi,\n\nplease pull the frobnicator fixes.")
    full = parse_mail((GIT / "pull-with-diff.eml").read_bytes())
    assert full.diff.startswith("diff --git a/docs/empty.txt b/docs/empty.txt\n")
    assert "are available in the Git repository at:" in full.message
    assert "diff --git" not in full.message


@pytest.mark.parametrize(
    "text",
    [
        "are available in the git repository at:\n\n  not-a-url branch\n",
        "no request-pull text at all",
        "are available in the git repository at:\n\n",
    ],
)
def test_no_pull_url(text):
    assert find_pull_url(text) is None


def test_url_without_branch_and_backslash_wrap():
    assert find_pull_url("are available in the git repository at:\n  git://h/r.git\n") == (
        "git://h/r.git"
    )
    assert find_pull_url(
        "are available in the git repository at:\n  git://h/r.git \\\n  next\n"
    ) == ("git://h/r.git next")
    assert find_pull_url("are available in the git repository at:\n  git@h.org:r.git main\n") == (
        "git@h.org:r.git main"
    )
