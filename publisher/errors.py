"""The named failures the core raises; the CLI maps each to its exit code.

`BadInput` (exit 2) is anything a person typed or configured wrongly, said in one
sentence naming the file, key, flag or value. `Refused` (exit 2) is a well-formed
request the rules forbid (a non-approver, a frozen workspace). `NotDelivered` (exit 1)
is a run that left some channel without its post.
"""


class PublishError(Exception):
    exit_code = 1


class BadInput(PublishError):
    exit_code = 2


class Refused(PublishError):
    exit_code = 2


class NotDelivered(PublishError):
    exit_code = 1


class CheckFailed(PublishError):
    exit_code = 1
