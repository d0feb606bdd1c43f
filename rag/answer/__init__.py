"""The answer chain: rewrite -> retrieve -> decide coverage -> prompt -> generate -> verify."""
