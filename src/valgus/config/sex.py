"""The person's recorded sex, which selects sex-specific thresholds."""

from typing import Literal

Sex = Literal["female", "male", "unspecified"]
