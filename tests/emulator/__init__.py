"""Tests for opencams.emulator, the fake of Meta's Graph API for WhatsApp numbers, WABAs and webhooks."""
