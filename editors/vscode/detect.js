// Which .pto files are pto-dsl programs: the PTO assembler (PTOAS) also uses .pto for MLIR.
// The same rules as pto-dsl's own check (pto_dsl/parse.py, E004): a file with a kernel,
// entry or case declaration at the start of a line is ours; one with MLIR markers is not.
'use strict';

const PTO_DECLARATION = /^\s*(kernel|entry|(default\s+)?case)\s+\w/m;
const MLIR_MARKERS = /^\s*(module\b.*\{|func\.func\b|%[\w.]+\s*=|"?builtin\.module|pto\.\w+|!pto\.)/m;

/** Whether the text of a .pto file is a pto-dsl program (and not PTOAS MLIR). */
function isPtoDsl(text) {
  return PTO_DECLARATION.test(text);
}

/** Whether the text looks like the PTO assembler's MLIR. */
function looksLikeMlir(text) {
  return MLIR_MARKERS.test(text) && !PTO_DECLARATION.test(text);
}

module.exports = { isPtoDsl, looksLikeMlir };
