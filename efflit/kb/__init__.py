"""The knowledge base: the records' models, the project's layout, and the stages that check it
(load, validate, link), with the catalog and quality figures made from what they checked."""
