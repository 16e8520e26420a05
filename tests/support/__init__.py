"""Test support: real Codex binaries, a loopback model API that judges requests, and run helpers."""
