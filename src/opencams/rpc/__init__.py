"""The Alibaba Cloud RPC wire layer: signatures, request parsing, envelopes, action registry."""
