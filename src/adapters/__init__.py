"""Adapters: implementations of the core's ports for real infrastructure, one module per port."""
