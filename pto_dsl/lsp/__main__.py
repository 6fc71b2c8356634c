"""`python -m pto_dsl.lsp`: the same as the pto-lsp command."""

import sys

from pto_dsl.lsp.server import main

sys.exit(main())
