"""Rewards for members: browse what points buy, redeem for a voucher, list and cancel one's vouchers.

The steps, each a view edited in place (a view asked from a photo comes as a new message):
- /rewards → the list (points; affordable rewards, then close ones) → a reward → "Redeem?" → Yes: the voucher.
- /vouchers → the list by status → a voucher again (QR and caption) or "Cancel it?" → Yes: points back.

A confirmation button carries the member's newest ledger entry as it was when the question was shown, and the
redeem's idempotency key is made of it (`loyalty.rewards.confirmation_key`): two presses of one Yes (a double tap,
two updates), or a Yes in the chat and one in the Mini App to the same question, redeem once, while a new question,
asked after the points have moved, is a new redeem. It also carries the
fingerprint of the terms quoted (`rewards.Terms`): if staff changed the reward's cost, worth, validity or name
meanwhile, nothing is spent and the member is shown the new terms and asked again.

In two modules: `views` (texts and buttons) and `routes`.
"""

from handlers.customer.rewards.routes import create_router

__all__ = ["create_router"]
