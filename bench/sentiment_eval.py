"""Precision and recall of "negative" for the built-in sentiment judge over the labelled
set `tests/data/sentiment_labelled.jsonl` (Spanish and English, split dev / held-out /
blind / blind-2 / blind-3: written like real traffic after the tuning of their time; blind-2
and blind-3 are never tuned on, blind-3 (130 messages: slang, emoji, sarcasm, e-mails) was
committed with its scores before the tuning it measures).
Quality, not time: `python bench/sentiment_eval.py [--errors]` prints one line per part
and, with `--errors`, every message of the tuning parts (dev, dev-2) it got wrong (`--all`:
of every part but blind-3, whose errors are never printed so it is never tuned on)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.incident.sentiment import NEGATIVE, lexicon_classifier  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "sentiment_labelled.jsonl"
SPLITS = ("dev", "dev-2", "held-out", "blind", "blind-2", "blind-3")
NEVER_SHOWN = "blind-3"


def rows() -> list[dict[str, str]]:
    with LABELLED.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def measure(part: list[dict[str, str]], keywords: tuple[str, ...] = ("Acme",)) -> dict[str, float]:
    """Counts, precision and recall of "negative", and the share of all labels right."""
    classify = lexicon_classifier(keywords)
    hits = false_alarms = misses = right = 0
    for row in part:
        said = classify(row["text"], row["lang"]).label
        right += said == row["label"]
        if said == NEGATIVE and row["label"] == NEGATIVE:
            hits += 1
        elif said == NEGATIVE:
            false_alarms += 1
        elif row["label"] == NEGATIVE:
            misses += 1
    return {"messages": len(part), "precision": hits / max(1, hits + false_alarms),
            "recall": hits / max(1, hits + misses), "accuracy": right / max(1, len(part))}


def main() -> None:
    every = rows()
    for split in SPLITS:
        for lang in ("es", "en", None):
            part = [row for row in every if row["split"] == split and (lang is None or row["lang"] == lang)]
            figures = measure(part)
            print(f"{split:9} {lang or 'all':3} n={figures['messages']:3}  precision {figures['precision']:.2f}  "
                  f"recall {figures['recall']:.2f}  accuracy (3 labels) {figures['accuracy']:.2f}")
    if "--errors" in sys.argv:
        classify = lexicon_classifier(("Acme",))
        for row in every:
            said = classify(row["text"], row["lang"])
            shown = row["split"] in ("dev", "dev-2") or ("--all" in sys.argv and row["split"] != NEVER_SHOWN)
            if said.label != row["label"] and shown:
                print(f"{row['split']:8} want {row['label']:8} got {said.label:8} {said.score:6.2f}  {row['text']}")


if __name__ == "__main__":
    main()
