"""Translation tables of the plugin's UI strings, keyed by the English text (one module per language)."""
