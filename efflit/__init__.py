"""efflit: a curated knowledge base of research on LLM efficiency."""
