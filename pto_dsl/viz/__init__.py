"""Task-graph pictures and interchange: DOT, SVG/PNG via Graphviz, HTML, deps.json."""
