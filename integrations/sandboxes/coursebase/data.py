"""The Coursebase sandbox's org: deterministic data from a seed (a group tree, users, members),
and its mutators."""

from __future__ import annotations

import random
import string

DEPARTMENTS = ["Sales", "Engineering", "Support", "Marketing", "Finance"]
TEAMS = ["North", "South", "East", "West", "Platform", "Growth"]


class CoursebaseData:
    """A deterministic org: a group tree, users (login_id = e-mail) and group members."""

    def __init__(self, *, seed: int, org: str) -> None:
        self.seed, self.org = seed, org
        self.groups: list[dict] = []
        self.users: list[dict] = []
        self.members: dict[str, list[dict]] = {}
        self._rng = random.Random(seed)  # noqa: S311 - deterministic data, not security
        self._count = 0

    @classmethod
    def generate(
        cls,
        *,
        seed: int = 1,
        users: int = 60,
        departments: int = 3,
        teams: int = 2,
        org: str = "Acme",
    ) -> CoursebaseData:
        data = cls(seed=seed, org=org)
        root = data._group(org, None)
        for d in range(departments):
            department = data._group(DEPARTMENTS[d % len(DEPARTMENTS)], root)
            for t in range(teams):
                data._group(f"{department['name']} {TEAMS[t % len(TEAMS)]}", department)
        data.add_users(users)
        return data

    def counts(self) -> dict[str, int]:
        """What the org holds, for the sandbox's `state()`."""
        return {"groups": len(self.groups), "users": len(self.users)}

    def new_id(self) -> str:
        return "".join(self._rng.choices(string.ascii_letters + string.digits, k=12))

    def _group(self, name: str, parent: dict | None) -> dict:
        group = {
            "group_id": self.new_id(),
            "name": name,
            "parent_id": parent["group_id"] if parent else None,
        }
        self.groups.append(group)
        self.members[group["group_id"]] = []
        return group

    @property
    def root(self) -> dict:
        return self.groups[0]

    def leaves(self) -> list[dict]:
        parents = {g["parent_id"] for g in self.groups}
        return [g for g in self.groups if g["group_id"] not in parents]

    def add_users(self, n: int) -> list[dict]:
        """Users in the org group and in one team (and its department); some e-mails are
        mixed-case on purpose (learners are matched case-insensitively)."""
        added = []
        leaves = self.leaves()
        by_id = {g["group_id"]: g for g in self.groups}
        for _ in range(n):
            self._count += 1
            login = f"cb.user{self._count}@example.com"
            if self._count % 5 == 0:
                login = login.upper()
            user = {"user_id": self.new_id(), "login_id": login}
            self.users.append(user)
            added.append(user)
            role = "admin" if self._count == 1 else "learner"
            self.members[self.root["group_id"]].append({**user, "role": role})
            if leaves and leaves[0] is not self.root:
                team = leaves[self._count % len(leaves)]
                role = "instructor" if self._count % 10 == 3 else "learner"  # 1 in 10 teaches
                self.members[team["group_id"]].append({**user, "role": role})
                department = by_id[team["parent_id"]]
                if department is not self.root and self._count % 2 == 0:
                    self.members[department["group_id"]].append({**user, "role": "learner"})
        return added

    def remove_users(self, ids: list[str]) -> None:
        gone = set(ids)
        self.users = [u for u in self.users if u["user_id"] not in gone]
        for members in self.members.values():
            members[:] = [m for m in members if m["user_id"] not in gone]
