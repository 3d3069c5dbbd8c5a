"""Translation tables of both plugins' UI strings, keyed by the English text (one module per language)."""
