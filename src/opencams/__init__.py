"""opencams: a self-hosted, SDK-compatible implementation of Alibaba Cloud CAMS phone-number APIs."""

__version__ = "0.1.0"
