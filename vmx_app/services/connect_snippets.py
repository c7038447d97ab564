"""What a client needs to call an environment: its gateway URLs and ready-to-run snippets.

Pure text building (no database): the Connect page, the API-key-created dialog and the tests all
render the same snippets, so a snippet a test runs is the snippet the console shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Where the key comes from when the snippet is not filled with a real one.
KEY_ENV_VAR = "VMX_API_KEY"
PROMPT = "Say hello in five words."


@dataclass
class Snippet:
    id: str  # stable: `python-openai`, `python-anthropic`, `node-openai`, `curl`, `claude-code`
    label: str
    language: str
    code: str


@dataclass
class EndpointUrl:
    label: str
    url: str
    hint: str


def gateway_base(origin: str, workspace_id: str, environment_id: str) -> str:
    """`{origin}/v1/completion/{ws}/{env}`: the OpenAI SDKs' `base_url` (DESIGN §4)."""
    return f"{origin.rstrip('/')}/v1/completion/{workspace_id}/{environment_id}"


def endpoint_urls(base: str) -> list[EndpointUrl]:
    return [
        EndpointUrl("OpenAI SDK base URL", base, "base_url / baseURL of the openai SDKs"),
        EndpointUrl("Chat Completions", f"{base}/chat/completions", "POST, OpenAI Chat Completions shape"),
        EndpointUrl("Responses", f"{base}/responses", "POST, OpenAI Responses shape"),
        EndpointUrl("Anthropic SDK base URL", f"{base}/anthropic", "base_url of the anthropic SDK, Claude Code"),
        EndpointUrl("Anthropic Messages", f"{base}/anthropic/v1/messages", "POST, Anthropic Messages shape"),
    ]


def _python_key(api_key: str | None) -> tuple[str, str]:
    """(imports, expression) for the key in Python: the literal when known, else the environment."""
    if api_key:
        return "", json.dumps(api_key)
    return "import os\n\n", f'os.environ["{KEY_ENV_VAR}"]'


def python_openai(base: str, resource: str, api_key: str | None = None) -> str:
    imports, key = _python_key(api_key)
    return (
        f"{imports}from openai import OpenAI\n\n"
        f"client = OpenAI(\n"
        f"    base_url={json.dumps(base)},\n"
        f"    api_key={key},\n"
        f")\n"
        f"completion = client.chat.completions.create(\n"
        f"    model={json.dumps(resource)},  # the AI resource's name\n"
        f'    messages=[{{"role": "user", "content": {json.dumps(PROMPT)}}}],\n'
        f")\n"
        f"print(completion.choices[0].message.content)\n"
    )


def python_anthropic(base: str, resource: str, api_key: str | None = None) -> str:
    imports, key = _python_key(api_key)
    return (
        f"{imports}from anthropic import Anthropic\n\n"
        f"client = Anthropic(\n"
        f"    base_url={json.dumps(base + '/anthropic')},\n"
        f"    api_key={key},\n"
        f")\n"
        f"message = client.messages.create(\n"
        f"    model={json.dumps(resource)},  # the AI resource's name\n"
        f"    max_tokens=256,\n"
        f'    messages=[{{"role": "user", "content": {json.dumps(PROMPT)}}}],\n'
        f")\n"
        f"print(message.content[0].text)\n"
    )


def node_openai(base: str, resource: str, api_key: str | None = None) -> str:
    key = json.dumps(api_key) if api_key else f"process.env.{KEY_ENV_VAR}"
    return (
        'import OpenAI from "openai";\n\n'
        "const client = new OpenAI({\n"
        f"  baseURL: {json.dumps(base)},\n"
        f"  apiKey: {key},\n"
        "});\n"
        "const completion = await client.chat.completions.create({\n"
        f"  model: {json.dumps(resource)}, // the AI resource's name\n"
        f'  messages: [{{ role: "user", content: {json.dumps(PROMPT)} }}],\n'
        "});\n"
        "console.log(completion.choices[0].message.content);\n"
    )


def curl(base: str, resource: str, api_key: str | None = None) -> str:
    body = json.dumps({"model": resource, "messages": [{"role": "user", "content": PROMPT}]})
    auth = api_key or f"${KEY_ENV_VAR}"
    return (
        f"curl {base}/chat/completions \\\n"
        f'  -H "Authorization: Bearer {auth}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'\n"
    )


def claude_code(base: str, resource: str, api_key: str | None = None) -> str:
    auth = api_key or f"${KEY_ENV_VAR}"
    return (
        f'export ANTHROPIC_BASE_URL="{base}/anthropic"\n'
        f'export ANTHROPIC_AUTH_TOKEN="{auth}"\n'
        f'export ANTHROPIC_MODEL="{resource}"\n'
        f'export ANTHROPIC_DEFAULT_HAIKU_MODEL="{resource}"  # background tasks use the same resource\n'
        "claude\n"
    )


def snippets(base: str, resource: str, api_key: str | None = None) -> list[Snippet]:
    """Every snippet for calling `resource` at `base`; with `api_key` the key is written in, else each
    reads it from the `VMX_API_KEY` environment variable."""
    return [
        Snippet("python-openai", "Python (openai)", "python", python_openai(base, resource, api_key)),
        Snippet("python-anthropic", "Python (anthropic)", "python", python_anthropic(base, resource, api_key)),
        Snippet("node-openai", "Node (openai)", "javascript", node_openai(base, resource, api_key)),
        Snippet("curl", "curl", "bash", curl(base, resource, api_key)),
        Snippet("claude-code", "Claude Code", "bash", claude_code(base, resource, api_key)),
    ]
