"""The site's stages: view-models, rendering through the templates, downloads, the search index,
the check of the built site's links, and the writer that owns the output folder."""
