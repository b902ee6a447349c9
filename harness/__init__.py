"""harness: a benchmark-and-leaderboard harness for continual learning and training algorithms."""

__version__ = "0.1.0"
