"""Coursebase (Coursebase API): directory import (group tree, users, group members)."""
