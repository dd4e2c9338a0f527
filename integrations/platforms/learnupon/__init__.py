"""LearnUpon (LearnUpon API): directory import, catalog push and completion push."""
