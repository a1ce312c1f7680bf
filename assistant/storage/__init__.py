"""Store: Chroma (embedded or a server), the chunk store and the named collections. Imports core, text, models."""
