"""The clinic's clearance policy, kept as a setting: the clinic's choices (pain counted as none,
LSI needed, run minutes); required reps and the smallest detectable change come from the
analysis configuration. Sessions signed earlier keep the policy they were signed under."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from valgus.core.clearance import ClearancePolicy
from valgus.store import audit
from valgus.store.accounts import require
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.info import PolicySetting, now, utc
from valgus.store.models import Setting

POLICY_SETTING = "clearance_policy"
POLICY_FIELDS = ("max_pain_score", "min_lsi_pct", "min_run_minutes")


def load_policy(db: Database) -> PolicySetting:
    """The clinic's stored clearance policy (the defaults if none was ever saved).

    Raises:
        RecordError: the stored values are no valid policy.
    """
    with db.read() as s:
        row = s.get(Setting, POLICY_SETTING)
        if row is None:
            return PolicySetting(ClearancePolicy(), None, None)
        values = {k: row.value[k] for k in POLICY_FIELDS if k in row.value}
        try:
            policy = ClearancePolicy(**values)
        except (TypeError, ValueError) as err:
            raise RecordError(f"the stored clearance policy is not valid ({err}); save "
                              "the policy again") from err
        return PolicySetting(policy, row.updated_by, utc(row.updated_at))


def save_policy(db: Database, policy: ClearancePolicy, updated_by: str) -> PolicySetting:
    """Store ``policy`` as the clinic's clearance policy, set by ``updated_by``.

    Raises:
        RecordError: an empty name, or another writer saved the policy at the same moment.
    """
    value = {k: getattr(policy, k) for k in POLICY_FIELDS}
    with db.write() as s:
        updated_by = require(s, updated_by, "policy")
        row = s.scalar(select(Setting).where(Setting.name == POLICY_SETTING).with_for_update())
        if row is None:
            row = Setting(name=POLICY_SETTING)
            s.add(row)
        audit.note(s, updated_by, "policy_saved", "clearance policy",
                   old=dict(row.value) if row.value else None, new=value)
        row.value, row.updated_by, row.updated_at = value, updated_by, now()
        try:
            s.flush()
        except IntegrityError as err:  # saved by another writer at the same moment
            raise RecordError("the policy was being saved by someone else at the same "
                              "time; save it again") from err
        return PolicySetting(ClearancePolicy(**value), updated_by, utc(row.updated_at))
