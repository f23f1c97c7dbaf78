"""Trusted harness scripts copied into the sandbox (standalone: they import nothing of judge)."""
