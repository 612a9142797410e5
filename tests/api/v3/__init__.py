"""Edit v3 dialect over HTTP."""
