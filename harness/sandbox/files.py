"""Placeholder: replaced by the confined implementation."""
