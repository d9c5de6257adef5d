"""The running bot's garbage collection (`bot.app.freeze_start_up_objects`): what start-up built is never walked
again, and the youngest generation is collected every `YOUNG_COLLECTION` new objects, not Python's 700."""

from __future__ import annotations

import gc

from bot.app import YOUNG_COLLECTION, freeze_start_up_objects


def test_start_up_objects_are_frozen_and_the_young_collected_less_often() -> None:
    before = gc.get_threshold()
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION, *before[1:])
        assert YOUNG_COLLECTION > 10 * 700
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
