"""Probe models: offline `Model`s with a fixed, documented behaviour that turn harness
quality into measurable outcomes without an LLM (one module per probe)."""
