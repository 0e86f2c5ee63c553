"""Meta Graph API client for WhatsApp Business phone numbers."""
