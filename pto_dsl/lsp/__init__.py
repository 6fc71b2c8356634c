"""pto-lsp, the language server of `.pto` programs: diagnostics as the user types, quick
fixes for deps, hover, navigation, outline and completion (see docs/editor.md).

Stage: a front end to the whole pipeline, like the CLIs; nothing below it imports it.
"""
