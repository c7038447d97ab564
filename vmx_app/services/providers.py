"""The provider catalog: each provider's config form (JSON Schema), defaults and capabilities,
and validation of a connection's `config` against it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from vmx_app.gateway.adapters.anthropic import DEFAULT_BASE_URL as ANTHROPIC_BASE_URL
from vmx_app.gateway.adapters.openai import DEFAULT_BASE_URLS
from vmx_app.gateway.config import PROVIDER_TYPES, ModelCapabilities
from vmx_app.vault.masking import is_masked

SECRET_FORMAT = "secret"
CAPABILITIES_KEY = "modelCapabilities"  # not a form field: set through the API
_ALL_ENDPOINTS = ["chat/completions", "responses", "anthropic/messages"]


def _string(title: str, description: str, *, secret: bool = False, uri: bool = False,
            default: str | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "string", "title": title, "description": description, "minLength": 1}
    if secret:
        prop["format"] = SECRET_FORMAT
    elif uri:
        prop["format"] = "uri"
    if default is not None:
        prop["default"] = default
    return prop


def _api_key_schema(provider: str, label: str, default_url: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{label} connection",
        "properties": {
            "apiKey": _string("API key", f"The {label} API key.", secret=True),
            "baseUrl": _string("Base URL", f"Override the API base URL (default {default_url}), e.g. a "
                               "regional endpoint or a proxy.", uri=True),
        },
        "required": ["apiKey"],
        "additionalProperties": False,
    }


def _bedrock_schema(invoke: bool) -> dict[str, Any]:
    api = "InvokeModel (Anthropic Messages bodies)" if invoke else "the Converse API"
    return {
        "type": "object",
        "title": f"Amazon Bedrock connection ({api})",
        "description": "Region plus either access keys or an IAM role ARN (assumed through STS with an "
                       "external id, `<workspaceId>:<environmentId>` unless set). With neither, the "
                       "gateway's own AWS credentials (instance or pod role) are used.",
        "properties": {
            "region": _string("Region", "AWS region of the Bedrock runtime, e.g. us-east-1."),
            "accessKeyId": _string("Access key id", "IAM access key id."),
            "secretAccessKey": _string("Secret access key", "IAM secret access key.", secret=True),
            "sessionToken": _string("Session token", "Session token of temporary credentials.", secret=True),
            "iamRoleArn": _string("IAM role ARN", "Role to assume through STS, e.g. "
                                  "arn:aws:iam::123456789012:role/vmx-bedrock."),
            "externalId": _string("External id", "External id for AssumeRole "
                                  "(default `<workspaceId>:<environmentId>`)."),
            "endpointUrl": _string("Endpoint URL", "Override the Bedrock endpoint (VPC endpoint, tests).",
                                   uri=True),
            "stsEndpointUrl": _string("STS endpoint URL", "Override the STS endpoint used to assume the role.",
                                      uri=True),
        },
        "required": ["region"],
        "additionalProperties": False,
    }


def _compatible_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "OpenAI-compatible server",
        "description": "Any server that speaks OpenAI Chat Completions: vLLM, Ollama, LM Studio, "
                       "Azure OpenAI's v1 endpoint, LiteLLM, a corporate proxy.",
        "properties": {
            "baseUrl": _string("Base URL", "The URL that `/chat/completions` is appended to, e.g. "
                               "http://localhost:11434/v1.", uri=True),
            "apiKey": _string("API key", "Sent as `Authorization: Bearer`; leave empty if the server "
                              "needs none.", secret=True),
        },
        "required": ["baseUrl"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ProviderInfo:
    type: str
    name: str
    description: str
    default_base_url: str | None
    config_schema: dict[str, Any]
    capabilities: dict[str, Any]
    secret_fields: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.type,
            "type": self.type,
            "name": self.name,
            "description": self.description,
            "defaultBaseUrl": self.default_base_url,
            "configSchema": copy.deepcopy(self.config_schema),
            "secretFields": sorted(self.secret_fields),
            "capabilities": copy.deepcopy(self.capabilities),
        }


def _caps(wires: list[str], *, tools: bool = True, images: bool = True, reasoning: bool = False,
          list_models: bool = True) -> dict[str, Any]:
    return {
        "wireFormats": wires,  # what the gateway sends the provider natively
        "endpoints": list(_ALL_ENDPOINTS),  # client endpoints served (converted when shapes differ)
        "streaming": True,
        "tools": tools,
        "images": images,
        "reasoning": reasoning,
        "listModels": list_models,
    }


def _info(type_: str, name: str, description: str, base_url: str | None, schema: dict[str, Any],
          caps: dict[str, Any]) -> ProviderInfo:
    secrets = frozenset(k for k, v in schema["properties"].items() if v.get("format") == SECRET_FORMAT)
    return ProviderInfo(type_, name, description, base_url, schema, caps, secrets)


PROVIDERS: dict[str, ProviderInfo] = {p.type: p for p in (
    _info("openai", "OpenAI", "GPT and o-series models through the OpenAI API.", DEFAULT_BASE_URLS["openai"],
          _api_key_schema("openai", "OpenAI", DEFAULT_BASE_URLS["openai"]),
          _caps(["openai-chat", "openai-responses"], reasoning=True)),
    _info("anthropic", "Anthropic", "Claude models through the Anthropic Messages API.", ANTHROPIC_BASE_URL,
          _api_key_schema("anthropic", "Anthropic", ANTHROPIC_BASE_URL),
          _caps(["anthropic"], reasoning=True)),
    _info("gemini", "Google Gemini", "Gemini models through Google's OpenAI-compatible endpoint.",
          DEFAULT_BASE_URLS["gemini"], _api_key_schema("gemini", "Gemini", DEFAULT_BASE_URLS["gemini"]),
          _caps(["openai-chat"], reasoning=True)),
    _info("groq", "Groq", "Open models (Llama, Qwen, GPT-OSS) on Groq's LPUs.", DEFAULT_BASE_URLS["groq"],
          _api_key_schema("groq", "Groq", DEFAULT_BASE_URLS["groq"]), _caps(["openai-chat"])),
    _info("perplexity", "Perplexity", "Sonar models with built-in web search.", DEFAULT_BASE_URLS["perplexity"],
          _api_key_schema("perplexity", "Perplexity", DEFAULT_BASE_URLS["perplexity"]),
          _caps(["openai-chat"], tools=False, images=False, list_models=False)),
    _info("bedrock", "Amazon Bedrock (Converse)", "Every Bedrock text model through the Converse API.",
          "https://bedrock-runtime.{region}.amazonaws.com", _bedrock_schema(False),
          _caps(["bedrock-converse"], reasoning=True)),
    _info("bedrock-invoke", "Amazon Bedrock (Anthropic InvokeModel)",
          "Claude on Bedrock with Anthropic Messages bodies passed through verbatim (cache_control, "
          "thinking, beta features).", "https://bedrock-runtime.{region}.amazonaws.com",
          _bedrock_schema(True), _caps(["bedrock-invoke"], reasoning=True)),
    _info("openai-compatible", "OpenAI-compatible", "Any server that speaks OpenAI Chat Completions.", None,
          _compatible_schema(), _caps(["openai-chat"])),
)}

assert set(PROVIDERS) == set(PROVIDER_TYPES), "every provider type needs a catalog entry"


def get_provider(provider: str) -> ProviderInfo | None:
    return PROVIDERS.get(provider)


def list_providers() -> list[dict[str, Any]]:
    return [p.to_json() for p in PROVIDERS.values()]


def secret_fields(provider: str) -> frozenset[str]:
    info = PROVIDERS.get(provider)
    return info.secret_fields if info else frozenset()


def _type_error(prop: dict[str, Any], value: Any) -> str | None:
    expected = prop.get("type")
    if expected == "string":
        if not isinstance(value, str):
            return "must be a string"
        if len(value) < prop.get("minLength", 0):
            return "must not be empty"
        if prop.get("format") == "uri" and not value.startswith(("http://", "https://")):
            return "must be an http(s) URL"
    return None


def _capabilities_errors(value: Any, path: str) -> list[str]:
    """`{"<model>": {"reasoning": bool, "structuredOutput": bool}}`: per-connection capability overrides."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"{path}: must be an object keyed by model"]
    errors = []
    for model, caps in value.items():
        try:
            ModelCapabilities.model_validate(caps)
        except ValidationError as exc:
            errors.append(f"{path}.{model}: {exc.errors()[0]['msg']}")
    return errors


def config_field_error(provider: str, key: str, value: Any) -> str | None:
    """What `validate_config` says about one field on its own (required, type, format), for a form that
    checks a field as it is left; rules across fields (bedrock's key pair) wait for the whole config."""
    info = PROVIDERS.get(provider)
    prop = info.config_schema["properties"].get(key) if info else None
    if info is None or prop is None:
        return None
    if value in (None, ""):
        return "required" if key in info.config_schema.get("required", []) else None
    return _type_error(prop, value)


def validate_config(provider: str, config: Any, *, prefix: str = "config") -> list[str]:
    """Errors of ``config`` against the provider's schema, each starting with the field path.

    A masked secret (``********``) counts as present: the caller restores the stored value."""
    info = PROVIDERS.get(provider)
    if info is None:
        return [f"provider: unknown provider {provider!r}"]
    if not isinstance(config, dict):
        return [f"{prefix}: must be an object"]
    schema = info.config_schema
    props: dict[str, Any] = schema["properties"]
    errors = [f"{prefix}.{key}: unknown field for provider {provider}" for key in config
              if key not in props and key != CAPABILITIES_KEY]
    errors += _capabilities_errors(config.get(CAPABILITIES_KEY), f"{prefix}.{CAPABILITIES_KEY}")
    present = {k for k, v in config.items() if v not in (None, "")}
    errors += [f"{prefix}.{key}: required" for key in schema.get("required", []) if key not in present]
    for key in sorted(present & set(props)):
        problem = config_field_error(provider, key, config[key])
        if problem:
            errors.append(f"{prefix}.{key}: {problem}")
    if provider in ("bedrock", "bedrock-invoke"):
        if ("accessKeyId" in present) != ("secretAccessKey" in present):
            errors.append(f"{prefix}.secretAccessKey: accessKeyId and secretAccessKey go together")
        if "sessionToken" in present and "accessKeyId" not in present:
            errors.append(f"{prefix}.sessionToken: needs accessKeyId and secretAccessKey")
    return errors


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional values so they are not stored (an empty secret is no secret)."""
    return {k: v for k, v in config.items() if v not in (None, "")}


# Where a connection's secrets are sent. A masked secret (`********`) stands for the stored one only while
# none of these change: otherwise a test or an update would send the stored key to a URL of the caller's
# choosing (DESIGN §11).
ENDPOINT_FIELDS = ("baseUrl", "endpointUrl", "region")


def masked_secret_errors(*, stored_provider: str, stored_config: dict[str, Any], provider: str,
                         incoming: dict[str, Any]) -> list[str]:
    """`config.<secret>: …` for every masked secret in `incoming` that may not stand for the stored one."""
    masked = [k for k, v in incoming.items() if k in secret_fields(provider) and is_masked(v)]
    if not masked:
        return []
    changed = ["provider"] if provider != stored_provider else []
    new = clean_config(incoming)
    changed += [f for f in ENDPOINT_FIELDS if new.get(f) != clean_config(stored_config).get(f)]
    if not changed:
        return []
    what = ", ".join(changed)
    return [f"config.{k}: send the value; a masked secret is kept only while provider, baseUrl, endpointUrl and "
            f"region are unchanged ({what} changed)" for k in masked]
