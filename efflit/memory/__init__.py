"""The build's memory: what earlier runs read, checked and made, keyed by content hashes, so a
run does again only what its inputs' changes call for.  The stages below know nothing of it; the
pipeline wraps them with it."""
