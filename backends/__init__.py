"""C++ orchestration backends for the PTO2 runtime: view model, jinja2 templates, headers."""
