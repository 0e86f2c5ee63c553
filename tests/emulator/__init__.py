"""Tests for opencams.emulator, the fake of Meta's Graph API phone-number reads."""
