"""The judge's error tree: every exception says whose fault it is.

    JudgeError                 base of everything the judge raises on purpose
    ├── SpecError              a broken problem (spec, statement, recipe, reference):
    │                          the setter's fault; the problem cannot be judged
    ├── InvalidSubmission      the contestant's fault; never crashes the judge
    │   ├── InvalidSource      the submitted file cannot be run (missing, empty,
    │   │                      binary, not UTF-8, too large); a usage error in the CLI
    │   └── InvalidOutput      what the submission wrote cannot be scored;
    │                          becomes verdict IO
    ├── SandboxError           infrastructure: engine down, image missing, cgroup
    │   │                      setup failed; a run it stops is a Retry (IE where
    │   │                      nothing retries), never blamed on the contestant
    │   └── SandboxUnavailable the chosen backend cannot run on this machine
    ├── ScorerError            a bug in grading (metric crashed on valid input,
    │   │                      reference disagrees with itself); verdict IE,
    │   │                      logged with file and line
    │   └── ScorerUnavailable  not a bug but infrastructure: the scorer process died
    │                          (after one restart) or could not be started; a Retry,
    │                          like SandboxError, never IE by itself
    └── UsageError             bad command-line input (unknown slug, bad option)

Every message is one line that says what is wrong and what to do.
"""


class JudgeError(Exception):
    """Base class of the judge's deliberate errors."""


class SpecError(JudgeError):
    """A problem is broken: the setter must fix its spec, statement, recipe or reference."""


class InvalidSubmission(JudgeError):
    """The contestant's submission is at fault."""


class InvalidSource(InvalidSubmission):
    """The submitted file cannot be run at all."""


class InvalidOutput(InvalidSubmission):
    """The submission ran but what it wrote cannot be scored (verdict IO)."""


class SandboxError(JudgeError):
    """The sandbox infrastructure failed (a Retry; IE where nothing retries)."""


class SandboxUnavailable(SandboxError):
    """The requested sandbox backend cannot run on this machine."""


class ScorerError(JudgeError):
    """Grading itself failed; a judge bug, never the contestant's fault (verdict IE)."""


class ScorerUnavailable(ScorerError):
    """The scorer process died or could not be started: infrastructure that may recover (Retry).

    A ScorerError only so callers that know no better still never blame the contestant;
    the runner turns it into a Retry, not IE.
    """


class UsageError(JudgeError):
    """The command line asked for something that does not exist or makes no sense."""
