"""The error hierarchy.

`HarnessError` is the root. `UserError` and its subclasses are mistakes a user can fix (a
malformed config, a missing dataset): the CLI prints them as one line that says what to do and
exits with code 2, never with a traceback. Subclasses also derive from the matching builtin so
callers can catch either.
"""


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""


class UserError(HarnessError):
    """A mistake the user can fix; its message says what is wrong and what to do."""


class ConfigError(UserError, ValueError):
    """A config file (suite, submission, search space) is malformed.

    `problems` holds every problem found, so all of them are reported at once.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)


class DatasetMissingError(UserError, FileNotFoundError):
    """A dataset a suite needs is not in the cache."""


class StoreError(UserError):
    """The results store cannot be opened or has an incompatible schema."""


class BudgetExceededError(HarnessError):
    """A learner used more than its budget (data passes, memory, time). Fails the run."""


class SubmissionFailure(HarnessError):
    """Submission code misbehaved inside a worker (exception, NaN, wrong shape)."""
