"""Coursebase (reference 002): directory import (group tree, users, group members)."""
