"""BlazePose landmark indices used by valgus (33-point topology, person's own left/right)."""

from typing import Final, Literal

NUM_LANDMARKS: Final = 33

NOSE: Final = 0
LEFT_SHOULDER: Final = 11
RIGHT_SHOULDER: Final = 12
LEFT_HIP: Final = 23
RIGHT_HIP: Final = 24
LEFT_KNEE: Final = 25
RIGHT_KNEE: Final = 26
LEFT_ANKLE: Final = 27
RIGHT_ANKLE: Final = 28
LEFT_HEEL: Final = 29
RIGHT_HEEL: Final = 30
LEFT_FOOT_INDEX: Final = 31
RIGHT_FOOT_INDEX: Final = 32

Side = Literal["left", "right"]
SIDES: Final[tuple[Side, Side]] = ("left", "right")

# Per side: (shoulder, hip, knee, ankle, heel, foot_index)
_LEG: Final[dict[str, tuple[int, int, int, int, int, int]]] = {
    "left": (LEFT_SHOULDER, LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, LEFT_HEEL, LEFT_FOOT_INDEX),
    "right": (RIGHT_SHOULDER, RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE, RIGHT_HEEL, RIGHT_FOOT_INDEX),
}


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def shoulder(side: Side) -> int:
    return _LEG[side][0]


def hip(side: Side) -> int:
    return _LEG[side][1]


def knee(side: Side) -> int:
    return _LEG[side][2]


def ankle(side: Side) -> int:
    return _LEG[side][3]


def heel(side: Side) -> int:
    return _LEG[side][4]


def foot_index(side: Side) -> int:
    return _LEG[side][5]


# Skeleton edges drawn on annotated frames.
SKELETON_EDGES: Final[tuple[tuple[int, int], ...]] = (
    (LEFT_SHOULDER, RIGHT_SHOULDER),
    (LEFT_SHOULDER, LEFT_HIP),
    (RIGHT_SHOULDER, RIGHT_HIP),
    (LEFT_HIP, RIGHT_HIP),
    (LEFT_HIP, LEFT_KNEE),
    (LEFT_KNEE, LEFT_ANKLE),
    (LEFT_ANKLE, LEFT_HEEL),
    (LEFT_HEEL, LEFT_FOOT_INDEX),
    (LEFT_ANKLE, LEFT_FOOT_INDEX),
    (RIGHT_HIP, RIGHT_KNEE),
    (RIGHT_KNEE, RIGHT_ANKLE),
    (RIGHT_ANKLE, RIGHT_HEEL),
    (RIGHT_HEEL, RIGHT_FOOT_INDEX),
    (RIGHT_ANKLE, RIGHT_FOOT_INDEX),
)
