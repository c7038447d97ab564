"""Provider transport: send a wire-format body to a provider, get JSON or decoded stream events back."""

from vmx_app.gateway.adapters.base import (
    WIRE_FORMATS,
    AdapterConfigError,
    ProviderAdapter,
    ProviderError,
    ProviderException,
    ProviderNetworkError,
    ProviderTimeout,
    UpstreamCall,
    UpstreamResponse,
    UpstreamStream,
    WireFormat,
)
from vmx_app.gateway.adapters.registry import build_adapter, close_all, forget, get_adapter
from vmx_app.gateway.adapters.sse import SSEDecoder

__all__ = [
    "WIRE_FORMATS",
    "AdapterConfigError",
    "ProviderAdapter",
    "ProviderError",
    "ProviderException",
    "ProviderNetworkError",
    "ProviderTimeout",
    "SSEDecoder",
    "UpstreamCall",
    "UpstreamResponse",
    "UpstreamStream",
    "WireFormat",
    "build_adapter",
    "close_all",
    "forget",
    "get_adapter",
]
