"""All models, imported here so that Alembic and create_all() see every table."""

from app.models.audit import AuditEntry
from app.models.binding import BindingCode, BindingRequest, Consent, StaffLinkCode
from app.models.outbox import OutboxMessage
from app.models.person import Ownership, Person, ResidentAccount, RoomBinding
from app.models.place import Building, Community, Estate, EstateStandard, Room, Street, Unit
from app.models.staff import ApiToken, RoleGrant, StaffUser

__all__ = [
    "ApiToken", "AuditEntry", "BindingCode", "BindingRequest", "Building", "Consent", "Community", "Estate", "EstateStandard", "Ownership", "OutboxMessage", "Person",
    "ResidentAccount", "RoleGrant", "Room", "RoomBinding", "StaffLinkCode", "StaffUser", "Street", "Unit",
]
