"""Use cases, grouped by what they act on. Each method is one thing a user can do."""

from movierater_core.use_cases.accounts import Accounts, AccountSettings, TokenCheck
from movierater_core.use_cases.health import Check, Health
from movierater_core.use_cases.movies import Movies, ScoreSettings
from movierater_core.use_cases.ratings import Ratings
from movierater_core.use_cases.uploads import Uploads, UploadSettings
from movierater_core.use_cases.user_admin import SYSTEM, UserAdmin

__all__ = [
    "SYSTEM",
    "AccountSettings",
    "Accounts",
    "Check",
    "Health",
    "Movies",
    "Ratings",
    "ScoreSettings",
    "TokenCheck",
    "UploadSettings",
    "Uploads",
    "UserAdmin",
]
