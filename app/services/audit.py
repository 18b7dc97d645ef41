"""The audit trail: one entry for every view or change of personal data (the caller commits)."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditEntry


def record(actor_type: str, actor_id: object, action: str, subject_type: str, subject_id: object,
           **detail: object) -> AuditEntry:
    """Add an audit entry to the session; `detail` must be JSON-serialisable (ids, counts, short codes)."""
    entry = AuditEntry(actor_type=actor_type, actor_id=str(actor_id if actor_id is not None else ""),
                       action=action, subject_type=subject_type,
                       subject_id=str(subject_id if subject_id is not None else ""), detail=dict(detail))
    db.session.add(entry)
    return entry


def record_staff(user, action: str, subject_type: str, subject_id: object, **detail: object) -> AuditEntry:
    """Shorthand for a staff member's action (dashboard or API)."""
    return record("staff", user.id, action, subject_type, subject_id, **detail)
