"""The generated case of constructs.pto (`case ... from "constructs_case.py:make"`)."""


def make() -> dict[str, object]:
    return {"T": 2, "D": 8, "B": 2, "f": 1.0, "on": False, "lens": [4, 2]}
