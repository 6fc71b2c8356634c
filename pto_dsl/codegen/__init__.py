"""C++ orchestration code for the PTO2 runtime: the view model, its lowering from the IR and
the rendering through the templates of pto_dsl.backends (backends/)."""
