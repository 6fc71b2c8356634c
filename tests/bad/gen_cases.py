"""Case generators used by the bad inputs in this folder (E160, E163)."""


def make() -> dict[str, object]:
    return {"N": 4}


def extra_name() -> dict[str, object]:
    return {"N": 4, "K": 2}


def broken() -> dict[str, object]:
    raise ValueError("the seed file is missing")


def not_a_dict() -> list[int]:
    return [4]
