"""Use cases of opencams, above storage and the Graph client, below the wire."""
