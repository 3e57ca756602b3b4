"""Which environment variable a provider's API key lives in, checked before any call.

A model string names its provider (`openai/gpt-4o-mini`, `anthropic/claude-...`); a
missing key is known from the environment alone, so it is reported at once, naming the
variable to set, instead of after importing litellm and calling the provider. Providers
not listed here (local servers, cloud accounts with their own auth) are not checked.
litellm's own `validate_environment` says the same, but only once litellm is imported
(4-5 s here); a test holds this table to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harness.llm.base import ModelError

PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "xai": ("XAI_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "fireworks_ai": ("FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"),
}
"""Providers whose key is an environment variable, and its names (any one suffices)."""

_BARE_NAMES = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
               ("chatgpt-", "openai"), ("claude-", "anthropic"))
"""Model names litellm routes to a provider without a `provider/` prefix."""


class CredentialsError(ModelError):
    """The provider's API key is missing or was rejected; `variable` is where it goes."""

    def __init__(self, message: str, variable: str = ""):
        super().__init__(message)
        self.variable = variable


def provider_of(model: str) -> str:
    """The provider a litellm model string names ("" when it names none we know)."""
    if "/" in model:
        return model.split("/", 1)[0]
    return next((p for prefix, p in _BARE_NAMES if model.startswith(prefix)), "")


def key_variables(model: str) -> tuple[str, ...]:
    """The environment variables that may hold `model`'s API key (none if not checked)."""
    return PROVIDER_KEYS.get(provider_of(model), ())


def missing_key(model: str, params: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> CredentialsError | None:
    """The error to raise when `model` needs an API key that is nowhere: not passed as
    `api_key` and not in its provider's environment variable; None otherwise."""
    names = key_variables(model)
    env = os.environ if environ is None else environ
    if not names or (params or {}).get("api_key") or any(env.get(n) for n in names):
        return None
    return CredentialsError(
        f"{model}: no API key: set {' or '.join(names)} (or pass api_key=...)", names[0])


def rejected_key(model: str, exc: BaseException) -> CredentialsError:
    """The error for a key the provider refused (or found missing) when called."""
    names = key_variables(model)
    where = f"; check {' or '.join(names)}" if names else ""
    return CredentialsError(f"{model}: the provider rejected the API key "
                            f"({type(exc).__name__}: {str(exc)[:200]}){where}",
                            names[0] if names else "")
