"""Metrics, traces and logs (OpenTelemetry), decoupled from the audit path: turning them off changes no
audit or usage data."""
