"""The one rendering layer: rich tables for humans, one JSON document for machines."""
