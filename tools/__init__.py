"""Developer tools: the docs' griffe extension, the mutation report."""
