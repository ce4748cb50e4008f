"""`make demo`: the whole story on embedded defaults, with a private backend and nginx."""
