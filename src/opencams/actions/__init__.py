"""CAMS actions: one handler plus its parameter spec each, registered on a Registry."""
