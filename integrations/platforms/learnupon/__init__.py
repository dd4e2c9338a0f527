"""LearnUpon (reference 003): directory import, catalog push and completion push."""
