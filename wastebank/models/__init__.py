"""All models, imported here so that metadata and migrations see every table."""
from .catalog import CategoryRow, Price, WasteCategory
from .collab import Collaborator, Sponsorship
from .container import Container
from .deposit import Deposit, DepositLine, IdempotencyRecord, ReceiptCounter
from .ledger import ACCOUNT_KINDS, Account, AccountPeriod, JournalEntry, Posting
from .member import MEMBER_KINDS, Member, MemberCard, MemberCounter, MemberImport
from .notification import NOTIFICATION_EVENTS, NOTIFICATION_STATUSES, Notification
from .month_lock import MonthLock
from .money_out import (WITHDRAWAL_METHODS, WITHDRAWAL_STATUSES, AuditLog, DayClose, Offtaker, Sale,
                        SaleLine, Withdrawal)
from .org import Aggregator, Unit
from .tenant import NOT_DISTRIBUTED, include_for_dialect
from .types import UTCDateTime, clock_at, utcnow
from .user import ROLES, ApiToken, User

__all__ = [
    "WITHDRAWAL_METHODS", "WITHDRAWAL_STATUSES", "AuditLog", "DayClose", "Offtaker", "Sale", "SaleLine",
    "Withdrawal",
    "ACCOUNT_KINDS", "Account", "Aggregator", "ApiToken", "Collaborator", "Container", "Sponsorship", "Deposit",
    "DepositLine",
    "IdempotencyRecord", "JournalEntry", "MEMBER_KINDS", "Member", "MemberCard", "MemberCounter", "MemberImport",
    "MonthLock",
    "NOTIFICATION_EVENTS", "NOTIFICATION_STATUSES", "Notification", "Posting", "AccountPeriod",
    "CategoryRow", "Price", "ROLES", "ReceiptCounter", "UTCDateTime", "Unit", "User", "WasteCategory", "clock_at",
    "utcnow",
    "NOT_DISTRIBUTED", "include_for_dialect",
]
