"""The log: the append-only, hash-chained record of everything, and the signatures
that prove who did what in it. The lowest stage: it imports no other stage."""
