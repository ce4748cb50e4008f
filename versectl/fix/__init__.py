"""`versectl fix`: rewrite the location serving the chat into the known-good block, surgically.

Pipeline: syntax (offsets) -> locate -> merge + template -> edits -> validate -> atomic write.
"""
