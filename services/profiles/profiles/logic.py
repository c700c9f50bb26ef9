"""Domain logic of profiles: a signed-in user reads and sets their own display name.

One item per user in the profiles table, keyed by ``userId`` (the token's ``sub``). A PUT replaces
it whole: a profile has one field the user sets, so there is no update to lose.
"""

from typing import Any, Protocol

from store_common.clock import utc_now
from store_common.errors import NotFound

from profiles.models import Profile, ProfileIn

NO_PROFILE = "You have no profile yet: PUT /me with your displayName first"


class ProfileTable(Protocol):
    def get(self, user_id: str) -> dict[str, Any] | None: ...

    def put(self, item: dict[str, Any]) -> None: ...


class Profiles:
    def __init__(self, table: ProfileTable) -> None:
        self.table = table

    def get(self, user_id: str) -> Profile:
        item = self.table.get(user_id)
        if item is None:
            raise NotFound(NO_PROFILE)
        return Profile.model_validate(item)

    def put(self, user_id: str, data: ProfileIn) -> Profile:
        profile = Profile(userId=user_id, displayName=data.displayName, updatedAt=utc_now())
        self.table.put(profile.model_dump())
        return profile
