"""Tests for the ev_sessions integration."""
