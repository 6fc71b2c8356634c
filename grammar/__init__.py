"""The Lark grammar of the .pto language, shipped as package data (`pto_dsl.grammar`)."""
