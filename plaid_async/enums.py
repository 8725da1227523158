"""Plaid's enumerations, as open enums.

Plaid adds enum values without notice and calls that non-breaking, so a field typed with one of
these accepts any string: a known value becomes its member, an unknown one stays a plain ``str``.
Every member is also a ``str``, so ``account.type == "depository"`` works whichever it is.
"""

from __future__ import annotations

import enum

__all__ = [
    "AccountHolderCategory",
    "AccountNumberFormat",
    "AccountSubtype",
    "AccountType",
    "ItemAuthMethod",
    "ItemUpdateType",
    "PlaidErrorType",
    "Products",
    "VerificationStatus",
]


class _OpenEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` is its value, as on Python 3.11's ``StrEnum``."""

    def __str__(self) -> str:
        return str(self.value)


class AccountType(_OpenEnum):
    INVESTMENT = "investment"
    CREDIT = "credit"
    DEPOSITORY = "depository"
    LOAN = "loan"
    BROKERAGE = "brokerage"  # the name of "investment" in API versions up to 2018-05-22
    OTHER = "other"


class AccountSubtype(_OpenEnum):
    # Digit-first values cannot be Python names: they get a PLAN_ prefix.
    PLAN_401A = "401a"
    PLAN_401K = "401k"
    PLAN_403B = "403B"
    PLAN_457B = "457b"
    PLAN_529 = "529"
    AUTO = "auto"
    BROKERAGE = "brokerage"
    BUSINESS = "business"
    CASH_ISA = "cash isa"
    CASH_MANAGEMENT = "cash management"
    CD = "cd"
    CHECKING = "checking"
    COMMERCIAL = "commercial"
    CONSTRUCTION = "construction"
    CONSUMER = "consumer"
    CREDIT_CARD = "credit card"
    CRYPTO_EXCHANGE = "crypto exchange"
    EBT = "ebt"
    EDUCATION_SAVINGS_ACCOUNT = "education savings account"
    FHSA = "fhsa"
    FIXED_ANNUITY = "fixed annuity"
    GIC = "gic"
    HEALTH_REIMBURSEMENT_ARRANGEMENT = "health reimbursement arrangement"
    HOME_EQUITY = "home equity"
    HSA = "hsa"
    ISA = "isa"
    IRA = "ira"
    KEOGH = "keogh"
    LIF = "lif"
    LIFE_INSURANCE = "life insurance"
    LIMITED_PURPOSE_CHECKING = "limited purpose checking"
    LINE_OF_CREDIT = "line of credit"
    LIRA = "lira"
    LOAN = "loan"
    LRIF = "lrif"
    LRSP = "lrsp"
    MONEY_MARKET = "money market"
    MORTGAGE = "mortgage"
    MUTUAL_FUND = "mutual fund"
    NON_CUSTODIAL_WALLET = "non-custodial wallet"
    NON_TAXABLE_BROKERAGE_ACCOUNT = "non-taxable brokerage account"
    OTHER = "other"
    OTHER_INSURANCE = "other insurance"
    OTHER_ANNUITY = "other annuity"
    OVERDRAFT = "overdraft"
    PAYPAL = "paypal"
    PAYROLL = "payroll"
    PENSION = "pension"
    PREPAID = "prepaid"
    PRIF = "prif"
    PROFIT_SHARING_PLAN = "profit sharing plan"
    QSHR = "qshr"
    RDSP = "rdsp"
    RESP = "resp"
    RETIREMENT = "retirement"
    RLIF = "rlif"
    ROTH = "roth"
    ROTH_401K = "roth 401k"
    ROTH_403B = "roth 403B"
    ROTH_457B = "roth 457b"
    ROTH_PENSION = "roth pension"
    ROTH_PROFIT_SHARING_PLAN = "roth profit sharing plan"
    ROTH_THRIFT_SAVINGS_PLAN = "roth thrift savings plan"
    RRIF = "rrif"
    RRSP = "rrsp"
    SARSEP = "sarsep"
    SAVINGS = "savings"
    SEP_IRA = "sep ira"
    SIMPLE_IRA = "simple ira"
    SIPP = "sipp"
    STOCK_PLAN = "stock plan"
    STUDENT = "student"
    THRIFT_SAVINGS_PLAN = "thrift savings plan"
    TFSA = "tfsa"
    TRUST = "trust"
    UGMA = "ugma"
    UTMA = "utma"
    VARIABLE_ANNUITY = "variable annuity"
    # Newer than the 2020-09-14_1.697.4 schema (spec 1.727.0, plaid-python 43.0.0).
    INSTALLMENT = "installment"
    CHARGE_CARD = "charge card"
    HOME_EQUITY_LOAN = "home equity loan"
    COMMERCIAL_LINE_OF_CREDIT = "commercial line of credit"
    PREDICTION_MARKET = "prediction market"


class AccountHolderCategory(_OpenEnum):
    BUSINESS = "business"
    PERSONAL = "personal"
    UNRECOGNIZED = "unrecognized"


class VerificationStatus(_OpenEnum):
    AUTOMATICALLY_VERIFIED = "automatically_verified"
    PENDING_AUTOMATIC_VERIFICATION = "pending_automatic_verification"
    PENDING_MANUAL_VERIFICATION = "pending_manual_verification"
    UNSENT = "unsent"
    MANUALLY_VERIFIED = "manually_verified"
    VERIFICATION_EXPIRED = "verification_expired"
    VERIFICATION_FAILED = "verification_failed"
    DATABASE_MATCHED = "database_matched"
    DATABASE_INSIGHTS_PASS = "database_insights_pass"
    DATABASE_INSIGHTS_PASS_WITH_CAUTION = "database_insights_pass_with_caution"
    DATABASE_INSIGHTS_FAIL = "database_insights_fail"
    # In Plaid's docs (Link metadata); listed so it parses to a member if it ever appears here.
    DATABASE_INSIGHTS_PENDING = "database_insights_pending"


class AccountNumberFormat(_OpenEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class ItemAuthMethod(_OpenEnum):
    INSTANT_AUTH = "INSTANT_AUTH"
    INSTANT_MATCH = "INSTANT_MATCH"
    AUTOMATED_MICRODEPOSITS = "AUTOMATED_MICRODEPOSITS"
    SAME_DAY_MICRODEPOSITS = "SAME_DAY_MICRODEPOSITS"
    INSTANT_MICRODEPOSITS = "INSTANT_MICRODEPOSITS"
    DATABASE_MATCH = "DATABASE_MATCH"
    DATABASE_INSIGHTS = "DATABASE_INSIGHTS"
    TRANSFER_MIGRATED = "TRANSFER_MIGRATED"
    INVESTMENTS_FALLBACK = "INVESTMENTS_FALLBACK"


class ItemUpdateType(_OpenEnum):
    BACKGROUND = "background"
    USER_PRESENT_REQUIRED = "user_present_required"


class Products(_OpenEnum):
    ASSETS = "assets"
    AUTH = "auth"
    BALANCE = "balance"
    BALANCE_PLUS = "balance_plus"
    BEACON = "beacon"
    IDENTITY = "identity"
    IDENTITY_MATCH = "identity_match"
    INVESTMENTS = "investments"
    INVESTMENTS_AUTH = "investments_auth"
    LIABILITIES = "liabilities"
    PAYMENT_INITIATION = "payment_initiation"
    IDENTITY_VERIFICATION = "identity_verification"
    TRANSACTIONS = "transactions"
    CREDIT_DETAILS = "credit_details"
    INCOME = "income"
    INCOME_VERIFICATION = "income_verification"
    STANDING_ORDERS = "standing_orders"
    TRANSFER = "transfer"
    EMPLOYMENT = "employment"
    RECURRING_TRANSACTIONS = "recurring_transactions"
    TRANSACTIONS_REFRESH = "transactions_refresh"
    SIGNAL = "signal"
    STATEMENTS = "statements"
    PROCESSOR_PAYMENTS = "processor_payments"
    PROCESSOR_IDENTITY = "processor_identity"
    PROFILE = "profile"
    CRA_BASE_REPORT = "cra_base_report"
    CRA_INCOME_INSIGHTS = "cra_income_insights"
    CRA_PARTNER_INSIGHTS = "cra_partner_insights"
    CRA_NETWORK_INSIGHTS = "cra_network_insights"
    CRA_CASHFLOW_INSIGHTS = "cra_cashflow_insights"
    CRA_MONITORING = "cra_monitoring"
    CRA_LEND_SCORE = "cra_lend_score"
    CRA_PLAID_CREDIT_SCORE = "cra_plaid_credit_score"
    LAYER = "layer"
    PAY_BY_BANK = "pay_by_bank"
    PROTECT_LINKED_BANK = "protect_linked_bank"
    PROTECT_TRANSACTIONS = "protect_transactions"


class PlaidErrorType(_OpenEnum):
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_RESULT = "INVALID_RESULT"
    INVALID_INPUT = "INVALID_INPUT"
    INSTITUTION_ERROR = "INSTITUTION_ERROR"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    API_ERROR = "API_ERROR"
    ITEM_ERROR = "ITEM_ERROR"
    ASSET_REPORT_ERROR = "ASSET_REPORT_ERROR"
    BASE_REPORT_ERROR = "BASE_REPORT_ERROR"
    RECAPTCHA_ERROR = "RECAPTCHA_ERROR"
    OAUTH_ERROR = "OAUTH_ERROR"
    PAYMENT_ERROR = "PAYMENT_ERROR"
    BANK_TRANSFER_ERROR = "BANK_TRANSFER_ERROR"
    INCOME_VERIFICATION_ERROR = "INCOME_VERIFICATION_ERROR"
    MICRODEPOSITS_ERROR = "MICRODEPOSITS_ERROR"
    SANDBOX_ERROR = "SANDBOX_ERROR"
    PARTNER_ERROR = "PARTNER_ERROR"
    SIGNAL_ERROR = "SIGNAL_ERROR"
    TRANSACTIONS_ERROR = "TRANSACTIONS_ERROR"
    TRANSACTION_ERROR = "TRANSACTION_ERROR"
    TRANSFER_ERROR = "TRANSFER_ERROR"
    CHECK_REPORT_ERROR = "CHECK_REPORT_ERROR"
    CONSUMER_REPORT_ERROR = "CONSUMER_REPORT_ERROR"
    USER_ERROR = "USER_ERROR"
    # Newer than the 2020-09-14_1.697.4 schema (spec 1.729.1, plaid-python 43.0.0).
    ASSETS_ERROR = "ASSETS_ERROR"
    CRA_MONITORING_ERROR = "CRA_MONITORING_ERROR"
    CREDIT_PROFILE_REPORT_ERROR = "CREDIT_PROFILE_REPORT_ERROR"
    ENCOMPASS_ERROR = "ENCOMPASS_ERROR"
    ENRICH_ERROR = "ENRICH_ERROR"
    FRAUD_INSIGHTS_ERROR = "FRAUD_INSIGHTS_ERROR"
    FREDDIE_MAC_ERROR = "FREDDIE_MAC_ERROR"
    IDEMPOTENCY_ERROR = "IDEMPOTENCY_ERROR"
    LINK_DELIVERY_ERROR = "LINK_DELIVERY_ERROR"
    PROFILE_ERROR = "PROFILE_ERROR"
    RECURRING_TRANSACTIONS_ERROR = "RECURRING_TRANSACTIONS_ERROR"
    STATEMENTS_ERROR = "STATEMENTS_ERROR"
    TRANSFER_RECURRING_ERROR = "TRANSFER_RECURRING_ERROR"
    TRANSFER_REFUND_ERROR = "TRANSFER_REFUND_ERROR"
