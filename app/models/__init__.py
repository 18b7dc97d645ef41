"""All models, imported here so that Alembic and create_all() see every table."""

from app.models.audit import AuditEntry
from app.models.binding import BindingCode, BindingRequest, Consent, StaffLinkCode
from app.models.outbox import OutboxMessage
from app.models.person import Ownership, Person, ResidentAccount, RoomBinding
from app.models.plan import Plan, PlanComment
from app.models.place import Building, Community, Estate, EstateStandard, Room, Street, Unit
from app.models.service import CatalogItem, Order, OrderEvent, Payment, Provider, VolunteerHours
from app.models.staff import ApiToken, RoleGrant, StaffUser
from app.models.ticket import Ticket, TicketDeadline, TicketEvent, TicketFollower, TicketPhoto  # noqa: F401
from app.models.notice import Notice  # noqa: F401
from app.models.fee import Bill, Credit, FeePayment, FeeSchedule, LedgerEntry, Levy, MonthlyReport, Reminder, ReminderPolicy, Visit  # noqa: F401
from app.models.vote import Ballot, BallotScan, SetAsideBallot, Vote, VoteRoll

__all__ = [
    "ApiToken", "AuditEntry", "BindingCode", "BindingRequest", "Building", "Consent", "Community", "Estate", "EstateStandard", "Ownership", "OutboxMessage", "Person",
    "ResidentAccount", "RoleGrant", "Room", "RoomBinding", "StaffLinkCode", "StaffUser", "Street", "Unit",
    "Plan", "PlanComment", "Vote", "VoteRoll", "Ballot", "BallotScan", "SetAsideBallot",
    "CatalogItem", "Order", "OrderEvent", "Payment", "Provider", "VolunteerHours",
]
