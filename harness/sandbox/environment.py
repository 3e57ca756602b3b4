"""The environment a sandboxed command sees: an allowlist, never the host's secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TERM", "TZ", "COLUMNS",
           "LINES", "NO_COLOR", "FORCE_COLOR", "SOURCE_DATE_EPOCH", "PYENV_VERSION",
           "PYENV_ROOT", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_HOME", "NVM_DIR",
           "VIRTUAL_ENV", "CONDA_PREFIX", "JAVA_HOME", "GOROOT", "GOPATH", "GIT_AUTHOR_NAME",
           "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
ALLOWED_PREFIXES = ("LC_",)
SECRET = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIAL|CREDENTIALS|AUTH|SESSION|COOKIE|"
    r"PRIVATE|CERT)(_|$)|^(AWS|AZURE|GCP|GOOGLE|GCLOUD|CLOUDSDK|GH|GITHUB|GITLAB|GIT|"
    r"HF|HUGGING|OPENAI|ANTHROPIC|DOCKER|KUBE|NPM|PYPI|TWINE|SSH|GPG|VAULT|DATABASE|DB|"
    r"PG|MYSQL|REDIS|SLACK|STRIPE)_", re.IGNORECASE)
"""Names never passed from the host, whatever the allowlist says."""
FIXED = {"PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": "/tmp", "SHELL": "/bin/sh"}
"""No bytecode: an agent edits a module and re-runs within the same second, and a
same-size edit would otherwise run the stale .pyc."""


IDENTITY = frozenset({"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                      "GIT_COMMITTER_EMAIL"})


def is_secret(name: str) -> bool:
    return name not in IDENTITY and bool(SECRET.search(name))


def sandbox_env(host: Mapping[str, str], *, pass_env: Iterable[str] = (),
                set_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host variables on the allowlist (and in `pass_env`) that do not look like
    secrets, then `set_env` as given (a value set explicitly is the caller's choice)."""
    extra = set(pass_env)
    env = {k: v for k, v in host.items()
           if (k in ALLOWED or k.startswith(ALLOWED_PREFIXES) or k in extra)
           and not is_secret(k)}
    env.update(FIXED)
    env.update(set_env or {})
    return env
